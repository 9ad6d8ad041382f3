// Package deskui is the agent desk: a static page served at /desk/ that
// talks to the handoff and appeal APIs and follows the desk WebSocket
// feed. Plain HTML, CSS and JavaScript embedded in the binary: no build
// step, nothing loaded from elsewhere. Logging in is the shared page at
// /login (package auth).
package deskui

import (
	"embed"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/web"
)

//go:embed ui
var files embed.FS

// ContentPolicy lets the page load only its own files and talk only to
// its own origin (the WebSocket included): callers' words shown on the
// desk could never run as script even if they reached the page as markup.
const ContentPolicy = web.PagePolicy

// Register serves the desk at /desk/; the old /desk/login.html goes to
// /login?next=/desk/. Access control is the API's: the pages hold no data.
func Register(r *gin.Engine) {
	web.Pages{
		Prefix: "/desk",
		Files:  web.Embedded(files, "ui"),
		Policy: ContentPolicy,
		Moved:  map[string]string{"login.html": "/login?next=/desk/"},
	}.Mount(r)
}
