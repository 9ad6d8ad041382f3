package auth

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/web"
)

// newTestServer mounts the auth routes and one guarded route of each kind.
func newTestServer(t *testing.T, opts ...Option) (*Service, *httptest.Server) {
	t.Helper()
	s, _ := newTestService(t, opts...)
	srv := web.New()
	api := srv.API()
	s.Register(api)
	api.GET("/probe", s.RequireRole(RoleEditor), func(c *gin.Context) { c.String(200, Actor(c)) })
	api.POST("/probe", s.RequireRole(RoleEditor), func(c *gin.Context) { c.String(200, Actor(c)) })
	ts := httptest.NewServer(srv.Router())
	t.Cleanup(ts.Close)
	return s, ts
}

type client struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, hc: &http.Client{Jar: jar}}
}

func (c *client) do(method, path string, body any, hdr ...string) (*http.Response, map[string]any) {
	c.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

func (c *client) login(user, pass string) *http.Response {
	c.t.Helper()
	resp, out := c.do("POST", "/api/v1/auth/login", map[string]any{"username": user, "password": pass})
	if tok, ok := out["csrf_token"].(string); ok {
		c.csrf = tok
	}
	return resp
}

func TestHTTPRolesAndCSRF(t *testing.T) {
	s, ts := newTestServer(t)
	mustCreate(t, s, "olga", "s3cret-pass", RoleEditor)
	mustCreate(t, s, "anna", "s3cret-pass", RoleAgent)

	anon := newClient(t, ts.URL)
	if resp, out := anon.do("GET", "/api/v1/probe", nil); resp.StatusCode != 401 || out["status"] != 401.0 {
		t.Errorf("anonymous: %d %v", resp.StatusCode, out)
	}
	if resp, _ := anon.do("GET", "/api/v1/probe", nil, "Authorization", "Bearer forged"); resp.StatusCode != 401 {
		t.Errorf("forged bearer: %d", resp.StatusCode)
	}

	agent := newClient(t, ts.URL)
	if resp := agent.login("anna", "s3cret-pass"); resp.StatusCode != 200 {
		t.Fatalf("agent login: %d", resp.StatusCode)
	}
	if resp, _ := agent.do("GET", "/api/v1/probe", nil); resp.StatusCode != 403 {
		t.Errorf("agent on editor route: %d, want 403", resp.StatusCode)
	}

	ed := newClient(t, ts.URL)
	resp := ed.login("olga", "s3cret-pass")
	ck := resp.Cookies()
	if len(ck) != 1 || ck[0].Name != CookieName || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie = %+v", ck)
	}
	if ed.csrf == "" {
		t.Fatal("login returned no csrf_token")
	}
	if resp, _ := ed.do("GET", "/api/v1/probe", nil); resp.StatusCode != 200 {
		t.Errorf("editor read: %d", resp.StatusCode)
	}
	if resp, _ := ed.do("POST", "/api/v1/probe", map[string]any{}); resp.StatusCode != 403 {
		t.Errorf("cookie write without CSRF header: %d, want 403", resp.StatusCode)
	}
	if resp, _ := ed.do("POST", "/api/v1/probe", map[string]any{}, CSRFHeader, "wrong"); resp.StatusCode != 403 {
		t.Errorf("cookie write with wrong CSRF header: %d, want 403", resp.StatusCode)
	}
	if resp, _ := ed.do("POST", "/api/v1/probe", map[string]any{}, CSRFHeader, ed.csrf); resp.StatusCode != 200 {
		t.Errorf("cookie write with CSRF header: %d", resp.StatusCode)
	}
	// A reloaded page gets the token back from /me.
	if _, out := ed.do("GET", "/api/v1/auth/me", nil); out["csrf_token"] != ed.csrf {
		t.Errorf("/me csrf_token = %v, want the login one", out["csrf_token"])
	}

	// Bearer clients need no CSRF header.
	_, out := anon.do("POST", "/api/v1/auth/login", map[string]any{"username": "olga", "password": "s3cret-pass", "bearer": true})
	token, _ := out["token"].(string)
	if token == "" {
		t.Fatalf("bearer login: %v", out)
	}
	plain := &client{t: t, base: ts.URL, hc: http.DefaultClient}
	if resp, _ := plain.do("POST", "/api/v1/probe", map[string]any{}, "Authorization", "Bearer "+token); resp.StatusCode != 200 {
		t.Errorf("bearer write: %d", resp.StatusCode)
	}

	if resp, _ := ed.do("POST", "/api/v1/auth/logout", nil, CSRFHeader, ed.csrf); resp.StatusCode != 204 {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if resp, _ := ed.do("GET", "/api/v1/probe", nil); resp.StatusCode != 401 {
		t.Errorf("after logout: %d", resp.StatusCode)
	}
}

func TestHTTPLoginProblems(t *testing.T) {
	s, ts := newTestServer(t, WithLoginLimit(2, 0))
	mustCreate(t, s, "olga", "s3cret-pass", RoleEditor)
	c := newClient(t, ts.URL)

	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/auth/login", strings.NewReader("username=olga&password=s3cret-pass"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, _ := c.hc.Do(req); resp.StatusCode != 415 {
		t.Errorf("form login: %d, want 415", resp.StatusCode)
	}
	req, _ = http.NewRequest("POST", ts.URL+"/api/v1/auth/login", strings.NewReader(`{"username":"`+strings.Repeat("a", 20000)+`"}`))
	req.Header.Set("Content-Type", "application/json")
	if resp, _ := c.hc.Do(req); resp.StatusCode != 413 {
		t.Errorf("huge login body: %d, want 413", resp.StatusCode)
	}
	if resp, _ := c.do("POST", "/api/v1/auth/login", map[string]any{"username": "olga"}); resp.StatusCode != 400 {
		t.Errorf("no password: %d, want 400", resp.StatusCode)
	}
	for range 2 {
		if resp := c.login("olga", "nope-nope"); resp.StatusCode != 401 {
			t.Errorf("wrong password: %d, want 401", resp.StatusCode)
		}
	}
	resp := c.login("olga", "s3cret-pass")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("throttled login: %d retry-after %q, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestHTTPUserAdmin(t *testing.T) {
	s, ts := newTestServer(t)
	mustCreate(t, s, "root", "s3cret-pass", RoleAdmin)
	mustCreate(t, s, "olga", "s3cret-pass", RoleEditor)

	ed := newClient(t, ts.URL)
	ed.login("olga", "s3cret-pass")
	if resp, _ := ed.do("GET", "/api/v1/users", nil); resp.StatusCode != 403 {
		t.Errorf("editor lists users: %d, want 403", resp.StatusCode)
	}

	ad := newClient(t, ts.URL)
	ad.login("root", "s3cret-pass")
	resp, out := ad.do("POST", "/api/v1/users", map[string]any{"username": "ivan", "password": "another-pass", "roles": []string{"editor"}, "display_name": "Иван"}, CSRFHeader, ad.csrf)
	if resp.StatusCode != 201 || out["created_by"] != "root" || out["password"] != nil || out["password_hash"] != nil {
		t.Fatalf("create: %d %v", resp.StatusCode, out)
	}
	if resp, _ := ad.do("POST", "/api/v1/users", map[string]any{"username": "ivan", "password": "another-pass", "roles": []string{"editor"}}, CSRFHeader, ad.csrf); resp.StatusCode != 409 {
		t.Errorf("duplicate: %d, want 409", resp.StatusCode)
	}
	if resp, _ := ad.do("POST", "/api/v1/users", map[string]any{"username": "petr", "password": "another-pass", "roles": []string{"god"}}, CSRFHeader, ad.csrf); resp.StatusCode != 422 {
		t.Errorf("unknown role: %d, want 422", resp.StatusCode)
	}
	if resp, _ := ad.do("PATCH", "/api/v1/users/root", map[string]any{"disabled": true}, CSRFHeader, ad.csrf); resp.StatusCode != 422 {
		t.Errorf("admin disables self: %d, want 422", resp.StatusCode)
	}
	if resp, out := ad.do("PATCH", "/api/v1/users/ivan", map[string]any{"roles": []string{"editor", "agent"}}, CSRFHeader, ad.csrf); resp.StatusCode != 200 || out["updated_by"] != "root" {
		t.Errorf("update roles: %d %v", resp.StatusCode, out)
	}
	_, out = ad.do("GET", "/api/v1/users", nil)
	if users, _ := out["users"].([]any); len(users) != 3 {
		t.Errorf("users = %v", out)
	}
	iv := newClient(t, ts.URL)
	if resp := iv.login("ivan", "another-pass"); resp.StatusCode != 200 {
		t.Errorf("new user login: %d", resp.StatusCode)
	}
}
