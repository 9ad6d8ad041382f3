package webrtc

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/web"
)

// maxSDP bounds request bodies; real offers are a few kilobytes.
const maxSDP = 64 << 10

// Register mounts the call routes on api (the /api/v1 group):
//
//	POST   /calls/token  (requireCaller) → {token, call_id, expires_at, ice_servers}
//	POST   /calls        application/sdp offer, Bearer <call token> → 201 answer, Location
//	PATCH  /calls/:id    application/trickle-ice-sdpfrag, Bearer <call token> → 204
//	DELETE /calls/:id    Bearer <call token> → 204
//
// requireCaller authenticates the app user or its backend; subject names
// who it is (e.g. auth.Actor), and an empty subject is refused.
func Register(api *gin.RouterGroup, srv *Server, requireCaller gin.HandlerFunc, subject func(*gin.Context) string) {
	api.POST("/calls/token", requireCaller, func(c *gin.Context) {
		sub := subject(c)
		if sub == "" {
			web.Problem(c, http.StatusUnauthorized, "Not signed in", "a call token needs an authenticated caller")
			return
		}
		tok, err := srv.IssueToken(sub)
		if err != nil {
			problem(c, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusCreated, tok)
	})
	api.POST("/calls", func(c *gin.Context) {
		if !hasType(c, "application/sdp") {
			web.Problem(c, http.StatusUnsupportedMediaType, "Unsupported media type", "send the offer as application/sdp")
			return
		}
		body, ok := readBody(c)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), 15*time.Second)
		defer cancel()
		id, answer, err := srv.Offer(ctx, bearer(c), body)
		if err != nil {
			problem(c, err)
			return
		}
		c.Header("Location", strings.TrimSuffix(api.BasePath(), "/")+"/calls/"+id)
		c.Header("Cache-Control", "no-store")
		c.Data(http.StatusCreated, "application/sdp", answer)
	})
	api.PATCH("/calls/:id", func(c *gin.Context) {
		if !hasType(c, "application/trickle-ice-sdpfrag") {
			web.Problem(c, http.StatusUnsupportedMediaType, "Unsupported media type", "send candidates as application/trickle-ice-sdpfrag")
			return
		}
		body, ok := readBody(c)
		if !ok {
			return
		}
		if err := srv.AddCandidates(bearer(c), c.Param("id"), body); err != nil {
			problem(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	api.DELETE("/calls/:id", func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 10*time.Second)
		defer cancel()
		if err := srv.Hangup(ctx, bearer(c), c.Param("id")); err != nil {
			problem(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
}

func problem(c *gin.Context, err error) {
	status, title := Status(err)
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="hotline-calls"`)
	}
	detail := err.Error()
	if status >= 500 && status != http.StatusServiceUnavailable {
		detail = "" // internal details stay in the log
	}
	web.Problem(c, status, title, firstLine(detail))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func bearer(c *gin.Context) string {
	scheme, tok, _ := strings.Cut(c.GetHeader("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

func hasType(c *gin.Context, want string) bool {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	return err == nil && mt == want
}

func readBody(c *gin.Context) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxSDP))
	if err != nil {
		web.Problem(c, http.StatusRequestEntityTooLarge, "Body too large", "at most 64 KiB")
		return nil, false
	}
	return b, true
}
