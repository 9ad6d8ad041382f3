package kbapi

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"
)

//go:embed ui
var uiFiles embed.FS

// contentPolicy allows only the editor's own files: even if article text
// slipped into the page as markup, no inline script could run and nothing
// could be loaded from elsewhere. media-src allows the play button's
// audio, fetched from the API and played from a blob: URL.
const contentPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// RegisterUI serves the knowledge base editor at /editor/ and its login
// page at /editor/login.html. The pages are static; they talk to the API
// that Register mounts.
func RegisterUI(r *gin.Engine) {
	sub, err := fs.Sub(uiFiles, "ui")
	if err != nil {
		panic("kbapi: embedded ui missing: " + err.Error()) // cannot happen: checked at build time
	}
	files := http.StripPrefix("/editor", http.FileServer(http.FS(sub)))
	r.GET("/editor", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/editor/") })
	serve := func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", contentPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		// The binary is the version: revalidate so an upgrade is seen at once.
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(c.Writer, c.Request)
	}
	r.GET("/editor/*path", serve)
	r.HEAD("/editor/*path", serve)
}
