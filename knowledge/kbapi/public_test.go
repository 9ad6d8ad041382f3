package kbapi

import (
	"context"
	"strings"
	"testing"

	"github.com/hotline-ivr/hotline/knowledge"
)

// TestPublicArticleView: a published article is open to anyone as an
// escaped HTML page and as JSON; drafts, deleted and unknown articles
// (and unknown languages) are 404 on both.
func TestPublicArticleView(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const evil = `<script>alert(1)</script>`
	mk := func(id, status string) knowledge.Article {
		a, err := e.kb.Create(ctx, knowledge.Article{
			ID: id, Lang: "en", Title: "Hours " + evil, Queue: "general", Questions: []string{id + "?"},
			Spoken: "Operators work on weekdays.", Body: "Operators **work**:\n\n- on weekdays\n- see [site](https://example.org)\n\n" + evil,
			Status: status,
		}, "test")
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	mk("pub-hours", knowledge.StatusPublished)
	mk("draft-hours", knowledge.StatusDraft)
	gone := mk("gone-hours", knowledge.StatusPublished)
	if err := e.kb.Delete(ctx, gone.ID, "en", gone.Version, "test"); err != nil {
		t.Fatal(err)
	}
	anon := e.client()

	page := anon.do("GET", "/kb/en/pub-hours", nil)
	html := string(page.raw)
	if page.code != 200 || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
		t.Fatalf("published page: %d %s", page.code, page.header.Get("Content-Type"))
	}
	if strings.Contains(html, "<script>") || !strings.Contains(html, "Hours &lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("title not escaped:\n%s", html)
	}
	for _, want := range []string{"<p>Operators work:</p>", "<li>on weekdays</li>", "<li>see site</li>", `href="/call/"`} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q:\n%s", want, html)
		}
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}

	j := anon.do("GET", "/api/v1/kb/public/en/pub-hours", nil)
	if j.code != 200 || j.json["title"] != "Hours "+evil || j.json["spoken"] != "Operators work on weekdays." || j.json["body"] == nil {
		t.Errorf("public JSON: %d %s", j.code, j.raw)
	}

	for _, path := range []string{"draft-hours", "gone-hours", "nope", "../pub-hours"} {
		for _, prefix := range []string{"/kb/en/", "/api/v1/kb/public/en/"} {
			if r := anon.do("GET", prefix+path, nil); r.code != 404 {
				t.Errorf("%s%s: %d, want 404", prefix, path, r.code)
			} else if strings.Contains(string(r.raw), "Hours") {
				t.Errorf("%s%s leaks the article: %s", prefix, path, r.raw)
			}
		}
	}
	for _, path := range []string{"/kb/de/pub-hours", "/api/v1/kb/public/de/pub-hours"} {
		if r := anon.do("GET", path, nil); r.code != 404 {
			t.Errorf("%s: %d, want 404", path, r.code)
		}
	}
}
