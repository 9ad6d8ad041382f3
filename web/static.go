package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// PagePolicy is the Content-Security-Policy of Hotline's own pages (login,
// agent desk, knowledge base editor): only the page's own files, talking
// only to its own origin. Text that slipped into a page as markup could
// never run as script or load anything from elsewhere.
const PagePolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// PageHeaders sets the headers every embedded page and its files carry:
// the content policy, no MIME sniffing, no referrer to other sites, and
// revalidation on each load (the binary is the version, so an upgrade is
// seen at once).
func PageHeaders(c *gin.Context, policy string) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", policy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-cache")
}

// Pages is a static site embedded in the binary, served under Prefix.
type Pages struct {
	// Prefix is where the files are served, e.g. "/desk": Prefix/ is
	// index.html and Prefix alone redirects there.
	Prefix string
	// Files holds the pages (index.html at its root).
	Files fs.FS
	// Policy is the Content-Security-Policy; PagePolicy when empty.
	Policy string
	// Moved maps file names under Prefix (e.g. "login.html") that moved
	// elsewhere to their new address, so old bookmarks keep working.
	Moved map[string]string
}

// Mount serves the pages on r (GET and HEAD).
func (p Pages) Mount(r gin.IRoutes) {
	r.GET(p.Prefix, func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, p.Prefix+"/") })
	serve := p.Handler()
	r.GET(p.Prefix+"/*path", serve)
	r.HEAD(p.Prefix+"/*path", serve)
}

// Handler serves the files for a route Prefix+"/*path", for callers that
// mount the prefix itself differently.
func (p Pages) Handler() gin.HandlerFunc {
	policy := p.Policy
	if policy == "" {
		policy = PagePolicy
	}
	files := http.StripPrefix(p.Prefix, http.FileServer(http.FS(p.Files)))
	return func(c *gin.Context) {
		if to, ok := p.Moved[strings.TrimPrefix(c.Param("path"), "/")]; ok {
			c.Redirect(http.StatusMovedPermanently, to)
			return
		}
		PageHeaders(c, policy)
		files.ServeHTTP(c.Writer, c.Request)
	}
}

// Embedded returns the directory dir of an embedded file system, for
// Pages.Files. It panics if dir is missing, which the go:embed directive
// already rules out at build time.
func Embedded(fsys embed.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic("web: embedded " + dir + " missing: " + err.Error())
	}
	return sub
}

//go:embed static
var staticFiles embed.FS

// Shared files of the pages, served at /static/: hotline.js (the API
// fetch helper with the CSRF header and the way to the login page).
func mountStatic(r gin.IRoutes) {
	Pages{Prefix: "/static", Files: Embedded(staticFiles, "static")}.Mount(r)
}
