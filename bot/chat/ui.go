package chat

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"
)

//go:embed ui
var uiFiles embed.FS

// RegisterUI serves the chat widget at /chat/. It loads nothing from other
// sites; the policy header keeps it that way.
func RegisterUI(r *gin.Engine) {
	sub, err := fs.Sub(uiFiles, "ui")
	if err != nil {
		panic(err) // the embedded directory is part of the build
	}
	g := r.Group("/chat", func(c *gin.Context) {
		c.Header("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'self'")
		c.Header("X-Content-Type-Options", "nosniff")
		c.Header("Referrer-Policy", "no-referrer")
	})
	g.StaticFS("/", http.FS(sub))
}
