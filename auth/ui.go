package auth

import (
	"embed"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/web"
)

//go:embed ui
var uiFiles embed.FS

// LoginPath is the login page shared by Hotline's web pages. A page sends
// an anonymous visitor to LoginPath + "?next=" + its own path; after the
// login the browser goes back there.
const LoginPath = "/login"

// RegisterUI serves the login page at /login (its files under /login/).
// The page posts to POST /api/v1/auth/login, which Register mounts, then
// goes to the next parameter. A next that is not a path on this site is
// dropped, so the page cannot be used to send people elsewhere.
func RegisterUI(r *gin.Engine) {
	files := web.Embedded(uiFiles, "ui")
	page, err := fs.ReadFile(files, "login.html")
	if err != nil {
		panic("auth: embedded login page missing: " + err.Error()) // cannot happen: checked at build time
	}
	login := func(c *gin.Context) {
		if next, ok := c.GetQuery("next"); ok && !SafeNext(next) {
			c.Redirect(http.StatusFound, LoginPath)
			return
		}
		web.PageHeaders(c, web.PagePolicy)
		c.Data(http.StatusOK, "text/html; charset=utf-8", page)
	}
	r.GET(LoginPath, login)
	r.HEAD(LoginPath, login)
	assets := web.Pages{Prefix: LoginPath, Files: files}.Handler()
	serve := func(c *gin.Context) {
		if c.Param("path") == "/" {
			u := *c.Request.URL
			u.Path = LoginPath
			c.Redirect(http.StatusMovedPermanently, u.RequestURI())
			return
		}
		assets(c)
	}
	r.GET(LoginPath+"/*path", serve)
	r.HEAD(LoginPath+"/*path", serve)
}

// SafeNext reports whether next is a path on this site to go to after
// the login: it starts with a single "/" and has no scheme, host or
// backslash (browsers read "/\evil.example" as "//evil.example").
// login.js applies the same rule.
func SafeNext(next string) bool {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") {
		return false
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	u, err := url.Parse(next)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}
