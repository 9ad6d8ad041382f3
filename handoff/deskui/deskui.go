// Package deskui is the agent desk: a static page served at /desk/ that
// talks to the handoff and appeal APIs and follows the desk WebSocket
// feed. Plain HTML, CSS and JavaScript embedded in the binary: no build
// step, nothing loaded from elsewhere.
package deskui

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"
)

//go:embed ui
var files embed.FS

// ContentPolicy lets the page load only its own files and talk only to
// its own origin (the WebSocket included): callers' words shown on the
// desk could never run as script even if they reached the page as markup.
const ContentPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// Register serves the desk at /desk/ and its login page at
// /desk/login.html. Access control is the API's: the pages hold no data.
func Register(r *gin.Engine) {
	sub, err := fs.Sub(files, "ui")
	if err != nil {
		panic("deskui: embedded ui missing: " + err.Error()) // cannot happen: checked at build time
	}
	static := http.StripPrefix("/desk", http.FileServer(http.FS(sub)))
	r.GET("/desk", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/desk/") })
	serve := func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", ContentPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		// The binary is the version: revalidate so an upgrade is seen at once.
		h.Set("Cache-Control", "no-cache")
		static.ServeHTTP(c.Writer, c.Request)
	}
	r.GET("/desk/*path", serve)
	r.HEAD("/desk/*path", serve)
}
