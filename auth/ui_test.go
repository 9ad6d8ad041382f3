package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/web"
)

func TestSafeNext(t *testing.T) {
	for next, want := range map[string]bool{
		"/desk/":               true,
		"/editor/":             true,
		"/editor/?q=a#x":       true,
		"/":                    true,
		"":                     false,
		"desk/":                false,
		"//evil.example/":      false,
		"/\\evil.example/":     false,
		"https://evil.example": false,
		"javascript:alert(1)":  false,
		"/\t/evil.example":     false,
		"/%0a":                 true, // encoded: stays a path on this site
	} {
		if got := SafeNext(next); got != want {
			t.Errorf("SafeNext(%q) = %v, want %v", next, got, want)
		}
	}
}

func TestLoginPageServed(t *testing.T) {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	RegisterUI(r)
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}
	for path, want := range map[string]string{
		"/login":               `id="login-form"`,
		"/login?next=/desk/":   `<script src="/login/login.js" defer></script>`,
		"/login?next=/editor/": `id="login-user"`,
		"/login/login.js":      "/api/v1/auth/login",
		"/login/login.css":     ".login-box",
	} {
		w := get(path)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), want) {
			t.Errorf("GET %s = %d, body lacks %q", path, w.Code, want)
		}
		if w.Header().Get("Content-Security-Policy") != web.PagePolicy || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v", path, w.Header())
		}
	}
	for path, to := range map[string]string{
		"/login?next=//evil.example/":       "/login",
		"/login?next=https://evil.example/": "/login",
		"/login/?next=/desk/":               "/login?next=/desk/",
	} {
		w := get(path)
		if w.Code/100 != 3 || w.Header().Get("Location") != to {
			t.Errorf("GET %s = %d → %q, want → %q", path, w.Code, w.Header().Get("Location"), to)
		}
	}
	if w := get("/login/nope.js"); w.Code != http.StatusNotFound {
		t.Errorf("missing file: %d", w.Code)
	}
}

// The login page builds no markup from strings.
func TestLoginNoMarkupFromStrings(t *testing.T) {
	b, err := uiFiles.ReadFile("ui/login.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(string(b), bad) {
			t.Errorf("login.js uses %s", bad)
		}
	}
}
