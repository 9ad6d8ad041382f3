package kbapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/knowledge"
	"github.com/hotline-ivr/hotline/web"
)

// problem is an RFC 9457 problem body with the extension members this API
// uses, so clients can act on them (show field messages, reload a version).
type problem struct {
	web.ProblemDetails
	// CurrentVersion is set on a version conflict: the version now stored.
	CurrentVersion int `json:"current_version,omitempty"`
	// Problems lists field validation failures of one article.
	Problems []knowledge.Problem `json:"problems,omitempty"`
	// Errors lists per-file problems of a rejected import.
	Errors []fileError `json:"errors,omitempty"`
}

type fileError struct {
	File  string `json:"file"`
	Field string `json:"field,omitempty"`
	Msg   string `json:"msg"`
}

func writeProblem(c *gin.Context, p problem) {
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(p.Status, p)
}

func newProblem(status int, title, detail string) problem {
	return problem{ProblemDetails: web.ProblemDetails{Status: status, Title: title, Detail: detail}}
}

// fail maps an error from the knowledge base to a problem response. It is
// the one place that decides what callers see for each failure.
func (h *handlers) fail(c *gin.Context, err error) {
	var ve *knowledge.ValidationError
	switch {
	case errors.As(err, &ve):
		p := newProblem(http.StatusUnprocessableEntity, "Invalid article", "fix the listed fields and save again")
		p.Problems = ve.Problems
		writeProblem(c, p)
	case errors.Is(err, knowledge.ErrConflict):
		p := newProblem(http.StatusConflict, "Edit conflict",
			"someone else changed this article since you loaded it; nothing was saved. Reload it and apply your change again")
		if cur, gerr := h.kb.GetAny(c.Request.Context(), c.Param("id"), c.Param("lang")); gerr == nil {
			p.CurrentVersion = cur.Version
			c.Header("ETag", etag(cur.Version))
		}
		writeProblem(c, p)
	case errors.Is(err, knowledge.ErrNotFound):
		writeProblem(c, newProblem(http.StatusNotFound, "Not found", "there is no such article or version (it may be in the trash)"))
	case errors.Is(err, knowledge.ErrExists):
		writeProblem(c, newProblem(http.StatusConflict, "Article exists",
			"an article with this id and language already exists (or is in the trash: restore it instead)"))
	case errors.Is(err, knowledge.ErrNotDeleted):
		writeProblem(c, newProblem(http.StatusConflict, "Not deleted", "the article is not in the trash"))
	case errors.Is(err, knowledge.ErrUnknownLanguage):
		writeProblem(c, unknownLang(""))
	case errors.Is(err, knowledge.ErrEmptyQuery):
		writeProblem(c, newProblem(http.StatusBadRequest, "Empty query", "type a question to search for"))
	case errors.Is(err, knowledge.ErrInvalid):
		writeProblem(c, newProblem(http.StatusUnprocessableEntity, "Invalid input", err.Error()))
	case errors.Is(err, knowledge.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		c.Header("Retry-After", "5")
		writeProblem(c, newProblem(http.StatusServiceUnavailable, "Unavailable", "the knowledge base is not available right now; try again"))
	default:
		h.log.Error("knowledge base request failed", "route", c.FullPath(), "error", err)
		writeProblem(c, newProblem(http.StatusInternalServerError, "Internal error", "the request could not be completed"))
	}
}

func unknownLang(lang string) problem {
	detail := "language must be one of ru, en"
	if lang != "" {
		detail = fmt.Sprintf("%q is not a known language; use one of ru, en", lang)
	}
	return newProblem(http.StatusBadRequest, "Unknown language", detail)
}

func badRequest(c *gin.Context, title, detail string) {
	writeProblem(c, newProblem(http.StatusBadRequest, title, detail))
}
