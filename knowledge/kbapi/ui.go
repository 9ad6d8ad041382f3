package kbapi

import (
	"embed"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/web"
)

//go:embed ui
var uiFiles embed.FS

// contentPolicy allows only the editor's own files: even if article text
// slipped into the page as markup, no inline script could run and nothing
// could be loaded from elsewhere. media-src allows the play button's
// audio, fetched from the API and played from a blob: URL.
const contentPolicy = web.PagePolicy + "; media-src 'self' blob:"

// RegisterUI serves the knowledge base editor at /editor/; the old
// /editor/login.html goes to the shared login page, /login?next=/editor/.
// The pages are static; they talk to the API that Register mounts.
func RegisterUI(r *gin.Engine) {
	web.Pages{
		Prefix: "/editor",
		Files:  web.Embedded(uiFiles, "ui"),
		Policy: contentPolicy,
		Moved:  map[string]string{"login.html": "/login?next=/editor/"},
	}.Mount(r)
}
