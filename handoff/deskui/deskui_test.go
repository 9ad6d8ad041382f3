package deskui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestPagesAreServedWithAStrictPolicy(t *testing.T) {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	Register(r)
	for path, want := range map[string]string{
		"/desk/":         `<script src="desk.js" defer></script>`,
		"/desk/desk.js":  "textContent",
		"/desk/desk.css": ".offer",
	} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), want) {
			t.Errorf("GET %s = %d, body lacks %q", path, w.Code, want)
		}
		if w.Header().Get("Content-Security-Policy") != ContentPolicy || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v", path, w.Header())
		}
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/desk", nil))
	if w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/desk/" {
		t.Errorf("GET /desk = %d → %q", w.Code, w.Header().Get("Location"))
	}
	// The login page moved to /login (package auth): old bookmarks follow.
	w = httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/desk/login.html", nil))
	if w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/login?next=/desk/" {
		t.Errorf("GET /desk/login.html = %d → %q", w.Code, w.Header().Get("Location"))
	}
}

// No page may build markup from strings: every value goes through
// textContent, so a caller's words cannot run as script.
func TestNoMarkupFromStrings(t *testing.T) {
	for _, name := range []string{"ui/desk.js"} {
		b, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s uses %s", name, bad)
			}
		}
	}
}
