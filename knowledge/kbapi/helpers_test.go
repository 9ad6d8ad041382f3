package kbapi

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/hotline-ivr/hotline/auth"
	"github.com/hotline-ivr/hotline/knowledge"
	"github.com/hotline-ivr/hotline/store"
	"github.com/hotline-ivr/hotline/web"
)

const testPassword = "editor-pass-1"

// env is a real server: SQLite, Bleve, auth and the API over HTTP.
type env struct {
	t   *testing.T
	kb  *knowledge.Service
	au  *auth.Service
	srv *httptest.Server
}

func newEnv(t *testing.T, kbOpts ...knowledge.Option) *env {
	t.Helper()
	return newEnvWith(t, nil, kbOpts...)
}

// newEnvWith is newEnv with API options (the speaker).
func newEnvWith(t *testing.T, apiOpts []Option, kbOpts ...knowledge.Option) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "hotline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	if len(kbOpts) == 0 {
		kbOpts = []knowledge.Option{knowledge.WithoutSeed()}
	}
	kb, err := knowledge.Open(ctx, db, filepath.Join(dir, "kb.bleve"), append(kbOpts, knowledge.WithLogger(quiet))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kb.Close() })
	au, err := auth.Open(ctx, db, auth.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	for name, roles := range map[string][]string{"olga": {auth.RoleEditor}, "ivan": {auth.RoleEditor}, "anna": {auth.RoleAgent}} {
		if _, err := au.CreateUser(ctx, auth.NewUser{Username: name, Password: testPassword, Roles: roles}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	ws := web.New(web.WithLogger(quiet))
	api := ws.API()
	au.Register(api)
	Register(api, kb, au, append([]Option{WithLogger(quiet)}, apiOpts...)...)
	RegisterUI(ws.Router())
	RegisterPublic(ws.Router(), kb)
	auth.RegisterUI(ws.Router())
	srv := httptest.NewServer(ws.Router())
	t.Cleanup(srv.Close)
	return &env{t: t, kb: kb, au: au, srv: srv}
}

// client is one browser-like user: a cookie jar and the CSRF token.
type client struct {
	e    *env
	hc   *http.Client
	csrf string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, hc: &http.Client{Jar: jar}}
}

func (e *env) login(user string) *client {
	e.t.Helper()
	c := e.client()
	resp := c.do("POST", "/api/v1/auth/login", map[string]string{"username": user, "password": testPassword})
	if resp.code != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", user, resp.code, resp.raw)
	}
	c.csrf, _ = resp.json["csrf_token"].(string)
	return c
}

type response struct {
	code   int
	header http.Header
	raw    []byte
	json   map[string]any
}

// do sends body as JSON (or as-is when it is []byte or io.Reader); hdr are
// extra header name/value pairs.
func (c *client) do(method, path string, body any, hdr ...string) response {
	c.e.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.e.t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequest(method, c.e.srv.URL+path, rd)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.csrf != "" && method != "GET" {
		req.Header.Set(auth.CSRFHeader, c.csrf)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{code: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.json)
	return r
}

// must checks the status and returns the response.
func (r response) must(t *testing.T, want int) response {
	t.Helper()
	if r.code != want {
		t.Fatalf("status %d, want %d: %s", r.code, want, r.raw)
	}
	return r
}

func (r response) str(key string) string { s, _ := r.json[key].(string); return s }
func (r response) num(key string) int    { f, _ := r.json[key].(float64); return int(f) }

func article(id, lang, spoken string) map[string]any {
	title := map[string]string{"ru": "Замена паспорта", "en": "Passport replacement"}[lang]
	return map[string]any{
		"id": id, "lang": lang, "title": title, "queue": "general",
		"tags":      []string{"passport"},
		"questions": []string{"How do I replace my passport?"},
		"spoken":    spoken, "body": "Details for " + id + ".",
	}
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
