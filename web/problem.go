package web

import "github.com/gin-gonic/gin"

// ProblemDetails is an RFC 9457 problem response body.
type ProblemDetails struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Problem aborts the request with an application/problem+json response.
func Problem(c *gin.Context, status int, title, detail string) {
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(status, ProblemDetails{Title: title, Status: status, Detail: detail})
}
