// Package callui is the call page served at /call/: the portal's call
// button. It places an in-app call to the bot over WebRTC (a call token
// from POST /api/v1/calls/token, the offer to POST /api/v1/calls), plays
// the bot, and shows the microphone level, the live transcript, the
// bot's answers and the handoff state from the call's "events" data
// channel. Language buttons and the keypad send DTMF-like choices; a text
// box sends typed text. Plain HTML and JS under the strict page policy.
//
// An app's backend may open the page with a token it got itself:
// /call/#token=<call token> (the fragment never reaches a server log).
package callui

import (
	"embed"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/web"
)

//go:embed static
var files embed.FS

// Register serves the page at /call/.
func Register(r gin.IRoutes) {
	web.Pages{Prefix: "/call", Files: web.Embedded(files, "static")}.Mount(r)
}
