package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gin-gonic/gin"
)

func TestPagesServedWithHeaders(t *testing.T) {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	Pages{
		Prefix: "/app",
		Files:  fstest.MapFS{"index.html": {Data: []byte("<p>app</p>")}, "app.js": {Data: []byte("run()")}},
		Moved:  map[string]string{"old.html": "/elsewhere?x=1"},
	}.Mount(r)
	mountStatic(r)
	get := func(method, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		return w
	}
	for path, want := range map[string]string{"/app/": "<p>app</p>", "/app/app.js": "run()", "/static/hotline.js": "X-Hotline-CSRF"} {
		w := get(http.MethodGet, path)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), want) {
			t.Errorf("GET %s = %d, body lacks %q", path, w.Code, want)
		}
		h := w.Header()
		if h.Get("Content-Security-Policy") != PagePolicy || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Referrer-Policy") != "same-origin" || h.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: headers %v", path, h)
		}
	}
	if w := get(http.MethodHead, "/app/app.js"); w.Code != http.StatusOK {
		t.Errorf("HEAD: %d", w.Code)
	}
	for path, to := range map[string]string{"/app": "/app/", "/app/old.html": "/elsewhere?x=1"} {
		if w := get(http.MethodGet, path); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != to {
			t.Errorf("GET %s = %d → %q, want → %q", path, w.Code, w.Header().Get("Location"), to)
		}
	}
	if w := get(http.MethodGet, "/app/nope.js"); w.Code != http.StatusNotFound {
		t.Errorf("missing file: %d", w.Code)
	}
}
