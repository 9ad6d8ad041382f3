package kbapi

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/hotline-ivr/hotline/knowledge"
)

func TestLoginAndRoleRequired(t *testing.T) {
	e := newEnv(t)
	anon := e.client()
	for _, path := range []string{"/api/v1/kb/articles", "/api/v1/kb/search?q=x", "/api/v1/kb/export", "/api/v1/kb/articles/ru/x"} {
		if r := anon.do("GET", path, nil); r.code != http.StatusUnauthorized || r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("anonymous GET %s: %d %s, want 401 problem", path, r.code, r.header.Get("Content-Type"))
		}
	}
	agent := e.login("anna")
	if r := agent.do("GET", "/api/v1/kb/articles", nil); r.code != http.StatusForbidden {
		t.Errorf("agent reads: %d, want 403", r.code)
	}
	if r := agent.do("POST", "/api/v1/kb/articles", article("a", "ru", "Ответ.")); r.code != http.StatusForbidden {
		t.Errorf("agent writes: %d, want 403", r.code)
	}
	ed := e.login("olga")
	ed.csrf = "" // a cross-site form would not know it
	if r := ed.do("POST", "/api/v1/kb/articles", article("a", "ru", "Ответ.")); r.code != http.StatusForbidden {
		t.Errorf("cookie write without CSRF token: %d, want 403", r.code)
	}
	if _, err := e.kb.Get(t.Context(), "a", "ru"); err == nil {
		t.Error("article created despite the failed CSRF check")
	}
}

func TestCreateGetListUpdate(t *testing.T) {
	e := newEnv(t)
	ed := e.login("olga")
	r := ed.do("POST", "/api/v1/kb/articles", article("passport", "ru", "Паспорт меняют в МФЦ.")).must(t, http.StatusCreated)
	if r.num("version") != 1 || r.str("status") != "draft" || r.str("updated_by") != "olga" || r.header.Get("ETag") != `"1"` {
		t.Fatalf("created: %s (ETag %s)", r.raw, r.header.Get("ETag"))
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/kb/articles/ru/passport" {
		t.Errorf("Location = %q", loc)
	}
	ed.do("POST", "/api/v1/kb/articles", article("passport", "ru", "x")).must(t, http.StatusConflict)
	ed.do("POST", "/api/v1/kb/articles", article("passport", "en", "Replace it at a service centre.")).must(t, http.StatusCreated)
	for i := range 5 {
		ed.do("POST", "/api/v1/kb/articles", article(fmt.Sprintf("item-%d", i), "en", "Answer.")).must(t, http.StatusCreated)
	}

	g := ed.do("GET", "/api/v1/kb/articles/ru/passport", nil).must(t, http.StatusOK)
	if g.str("spoken") != "Паспорт меняют в МФЦ." || g.header.Get("ETag") != `"1"` {
		t.Errorf("get: %s", g.raw)
	}
	ed.do("GET", "/api/v1/kb/articles/ru/missing", nil).must(t, http.StatusNotFound)

	l := ed.do("GET", "/api/v1/kb/articles?lang=en&limit=2&offset=2", nil).must(t, http.StatusOK)
	items, _ := l.json["items"].([]any)
	if l.num("total") != 6 || l.num("offset") != 2 || l.num("limit") != 2 || len(items) != 2 {
		t.Errorf("paged list: %s", l.raw)
	}
	l = ed.do("GET", "/api/v1/kb/articles?q=%D0%B7%D0%B0%D0%BC%D0%B5%D0%BD%D0%B0", nil).must(t, http.StatusOK) // "замена"
	if l.num("total") != 1 {
		t.Errorf("text filter: %s", l.raw)
	}

	up := article("passport", "ru", "Паспорт меняют в МФЦ за 10 дней.")
	iv := e.login("ivan")
	u := iv.do("PUT", "/api/v1/kb/articles/ru/passport", up, "If-Match", `"1"`).must(t, http.StatusOK)
	if u.num("version") != 2 || u.str("updated_by") != "ivan" || u.header.Get("ETag") != `"2"` {
		t.Errorf("update: %s", u.raw)
	}
	// The version may also travel in the body.
	up["spoken"], up["version"] = "Паспорт меняют в МФЦ.", 2
	ed.do("PUT", "/api/v1/kb/articles/ru/passport", up).must(t, http.StatusOK)
	// Renaming through the body is refused rather than silently ignored.
	up["id"], up["version"] = "other", 3
	ed.do("PUT", "/api/v1/kb/articles/ru/passport", up).must(t, http.StatusBadRequest)
}

func TestStaleEditIsRefused(t *testing.T) {
	e := newEnv(t)
	olga, ivan := e.login("olga"), e.login("ivan")
	olga.do("POST", "/api/v1/kb/articles", article("fee", "ru", "Пошлина 300 рублей.")).must(t, http.StatusCreated)

	ivan.do("PUT", "/api/v1/kb/articles/ru/fee", article("fee", "ru", "Пошлина 500 рублей."), "If-Match", `"1"`).must(t, http.StatusOK)
	r := olga.do("PUT", "/api/v1/kb/articles/ru/fee", article("fee", "ru", "Пошлина 100 рублей."), "If-Match", `"1"`).must(t, http.StatusConflict)
	if r.num("current_version") != 2 || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("conflict problem: %s", r.raw)
	}
	got, _ := e.kb.Get(t.Context(), "fee", "ru")
	if got.Spoken != "Пошлина 500 рублей." || got.Version != 2 {
		t.Errorf("after refused edit: %q v%d; the stale edit overwrote", got.Spoken, got.Version)
	}
	// No version at all is a different mistake.
	olga.do("PUT", "/api/v1/kb/articles/ru/fee", article("fee", "ru", "x")).must(t, http.StatusPreconditionRequired)
	olga.do("DELETE", "/api/v1/kb/articles/ru/fee", nil).must(t, http.StatusPreconditionRequired)
	olga.do("POST", "/api/v1/kb/articles/ru/fee/publish", nil).must(t, http.StatusPreconditionRequired)
	olga.do("PUT", "/api/v1/kb/articles/ru/fee", article("fee", "ru", "x"), "If-Match", "*").must(t, http.StatusBadRequest)
	olga.do("POST", "/api/v1/kb/articles/ru/fee/publish", nil, "If-Match", `"1"`).must(t, http.StatusConflict)
	olga.do("DELETE", "/api/v1/kb/articles/ru/fee", nil, "If-Match", `"1"`).must(t, http.StatusConflict)
}

func TestConcurrentEditsOneWins(t *testing.T) {
	e := newEnv(t)
	ed := e.login("olga")
	ed.do("POST", "/api/v1/kb/articles", article("race", "en", "Start.")).must(t, http.StatusCreated)
	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			codes[i] = ed.do("PUT", "/api/v1/kb/articles/en/race", article("race", "en", fmt.Sprintf("Edit %d.", i)), "If-Match", `"1"`).code
		})
	}
	wg.Wait()
	won := 0
	for _, c := range codes {
		switch c {
		case http.StatusOK:
			won++
		case http.StatusConflict:
		default:
			t.Errorf("concurrent edit answered %d", c)
		}
	}
	got, _ := e.kb.Get(t.Context(), "race", "en")
	if won != 1 || got.Version != 2 {
		t.Errorf("%d edits won, version %d; want exactly one winner and version 2 (codes %v)", won, got.Version, codes)
	}
}

func TestSoftDeleteAndRestore(t *testing.T) {
	e := newEnv(t)
	ed := e.login("olga")
	ed.do("POST", "/api/v1/kb/articles", article("old", "ru", "Ответ.")).must(t, http.StatusCreated)
	d := ed.do("DELETE", "/api/v1/kb/articles/ru/old", nil, "If-Match", `"1"`).must(t, http.StatusOK)
	if d.json["deleted"] != true || d.num("version") != 2 {
		t.Errorf("delete: %s", d.raw)
	}
	ed.do("GET", "/api/v1/kb/articles/ru/old", nil).must(t, http.StatusNotFound)
	if g := ed.do("GET", "/api/v1/kb/articles/ru/old?deleted=include", nil).must(t, http.StatusOK); g.json["deleted"] != true {
		t.Errorf("trash view: %s", g.raw)
	}
	if l := ed.do("GET", "/api/v1/kb/articles", nil).must(t, http.StatusOK); l.num("total") != 0 {
		t.Errorf("deleted article listed: %s", l.raw)
	}
	if l := ed.do("GET", "/api/v1/kb/articles?deleted=only", nil).must(t, http.StatusOK); l.num("total") != 1 {
		t.Errorf("trash list: %s", l.raw)
	}
	ed.do("PUT", "/api/v1/kb/articles/ru/old", article("old", "ru", "x"), "If-Match", `"2"`).must(t, http.StatusNotFound)
	r := ed.do("POST", "/api/v1/kb/articles/ru/old/restore", nil).must(t, http.StatusOK)
	if r.json["deleted"] != false || r.num("version") != 3 || r.str("spoken") != "Ответ." {
		t.Errorf("restore: %s", r.raw)
	}
	ed.do("POST", "/api/v1/kb/articles/ru/nothing/restore", nil).must(t, http.StatusNotFound)
}

func TestPublishMakesArticleFindable(t *testing.T) {
	e := newEnv(t)
	ed := e.login("olga")
	a := article("hunting", "en", "A hunting licence is issued by the wildlife office within five days.")
	a["questions"] = []string{"How do I get a hunting licence?"}
	a["title"] = "Hunting licence"
	ed.do("POST", "/api/v1/kb/articles", a).must(t, http.StatusCreated)

	search := func(drafts bool) []any {
		r := ed.do("GET", fmt.Sprintf("/api/v1/kb/search?lang=en&q=hunting+licence&drafts=%v", drafts), nil).must(t, http.StatusOK)
		hits, _ := r.json["hits"].([]any)
		return hits
	}
	if hits := search(false); len(hits) != 0 {
		t.Fatalf("draft found by callers' search: %v", hits)
	}
	if hits := search(true); len(hits) != 1 {
		t.Fatalf("editor's draft search: %v", hits)
	}
	p := ed.do("POST", "/api/v1/kb/articles/en/hunting/publish", map[string]int{"version": 1}).must(t, http.StatusOK)
	if p.str("status") != "published" || p.num("version") != 2 {
		t.Fatalf("publish: %s", p.raw)
	}
	hits := search(false)
	if len(hits) != 1 {
		t.Fatalf("published article not found at once: %v", hits)
	}
	h := hits[0].(map[string]any)
	if h["id"] != "hunting" || h["score"].(float64) <= 0 || h["confidence"].(float64) <= 0 || h["matched"] == "" {
		t.Errorf("hit = %v", h)
	}
	ed.do("POST", "/api/v1/kb/articles/en/hunting/unpublish", nil, "If-Match", `"2"`).must(t, http.StatusOK)
	if hits := search(false); len(hits) != 0 {
		t.Errorf("unpublished article still found: %v", hits)
	}
	ed.do("GET", "/api/v1/kb/search?lang=en&q=", nil).must(t, http.StatusBadRequest)
	ed.do("GET", "/api/v1/kb/search?lang=de&q=x", nil).must(t, http.StatusBadRequest)
}

func TestHistoryDiffRevert(t *testing.T) {
	e := newEnv(t)
	olga, ivan := e.login("olga"), e.login("ivan")
	olga.do("POST", "/api/v1/kb/articles", article("hours", "en", "We work from eight to eight.")).must(t, http.StatusCreated)
	ivan.do("PUT", "/api/v1/kb/articles/en/hours", article("hours", "en", "We work from nine to six."), "If-Match", `"1"`).must(t, http.StatusOK)
	olga.do("POST", "/api/v1/kb/articles/en/hours/publish", nil, "If-Match", `"2"`).must(t, http.StatusOK)

	h := olga.do("GET", "/api/v1/kb/articles/en/hours/history", nil).must(t, http.StatusOK)
	revs, _ := h.json["revisions"].([]any)
	if len(revs) != 3 {
		t.Fatalf("history: %s", h.raw)
	}
	want := []struct {
		v             float64
		action, actor string
	}{{3, "publish", "olga"}, {2, "update", "ivan"}, {1, "create", "olga"}}
	for i, w := range want {
		r := revs[i].(map[string]any)
		if r["version"] != w.v || r["action"] != w.action || r["actor"] != w.actor || r["at"] == "" {
			t.Errorf("revision %d = %v, want %+v", i, r, w)
		}
	}
	rv := olga.do("GET", "/api/v1/kb/articles/en/hours/history/1", nil).must(t, http.StatusOK)
	if art, _ := rv.json["article"].(map[string]any); art["spoken"] != "We work from eight to eight." {
		t.Errorf("revision 1: %s", rv.raw)
	}
	olga.do("GET", "/api/v1/kb/articles/en/hours/history/99", nil).must(t, http.StatusNotFound)
	olga.do("GET", "/api/v1/kb/articles/en/hours/history/abc", nil).must(t, http.StatusBadRequest)

	d := olga.do("GET", "/api/v1/kb/articles/en/hours/diff?from=1&to=2", nil).must(t, http.StatusOK)
	changes, _ := d.json["changes"].([]any)
	if len(changes) != 1 || changes[0].(map[string]any)["field"] != "spoken" ||
		changes[0].(map[string]any)["new"] != "We work from nine to six." {
		t.Errorf("diff 1→2: %s", d.raw)
	}
	d = olga.do("GET", "/api/v1/kb/articles/en/hours/diff", nil).must(t, http.StatusOK)
	if d.num("from") != 2 || d.num("to") != 3 {
		t.Errorf("default diff: %s", d.raw)
	}

	olga.do("POST", "/api/v1/kb/articles/en/hours/revert", map[string]int{"version": 1}).must(t, http.StatusPreconditionRequired)
	olga.do("POST", "/api/v1/kb/articles/en/hours/revert", map[string]int{"version": 1, "expected_version": 2}).must(t, http.StatusConflict)
	rr := olga.do("POST", "/api/v1/kb/articles/en/hours/revert", map[string]int{"version": 1}, "If-Match", `"3"`).must(t, http.StatusOK)
	if rr.num("version") != 4 || rr.str("spoken") != "We work from eight to eight." || rr.str("updated_by") != "olga" {
		t.Errorf("revert: %s", rr.raw)
	}
}

func TestImportExport(t *testing.T) {
	e := newEnv(t)
	ed := e.login("olga")
	ed.do("POST", "/api/v1/kb/articles", article("passport", "ru", "Паспорт меняют в МФЦ.")).must(t, http.StatusCreated)
	ed.do("POST", "/api/v1/kb/articles", article("passport", "en", "You replace it at a service centre.")).must(t, http.StatusCreated)

	x := ed.do("GET", "/api/v1/kb/export", nil).must(t, http.StatusOK)
	if x.header.Get("Content-Type") != "application/zip" || !strings.Contains(x.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("export headers: %v", x.header)
	}

	// Round trip into an empty knowledge base, as a browser would upload it.
	e2 := newEnv(t)
	ed2 := e2.login("olga")
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "kb.zip")
	fw.Write(x.raw)
	mw.Close()
	im := ed2.do("POST", "/api/v1/kb/import", form.Bytes(), "Content-Type", mw.FormDataContentType()).must(t, http.StatusOK)
	if created, _ := im.json["created"].([]any); len(created) != 2 {
		t.Errorf("import of the export: %s", im.raw)
	}
	for _, lang := range []string{"ru", "en"} {
		a, _ := e.kb.Get(t.Context(), "passport", lang)
		b, err := e2.kb.Get(t.Context(), "passport", lang)
		if err != nil || len(knowledge.Diff(a, b)) != 0 {
			t.Errorf("%s after round trip: %v, diff %v", lang, err, knowledge.Diff(a, b))
		}
	}

	good := knowledge.Article{ID: "visa", Lang: "en", Title: "Visa", Queue: "abroad", Spoken: "Apply at the consulate.", Status: "published"}
	bad := knowledge.Article{ID: "broken", Lang: "en", Title: "Broken", Queue: "nowhere", Spoken: "x", Status: "draft"}
	zipBad := zipOf(t, map[string][]byte{"en/visa.md": knowledge.FormatArticle(good), "en/broken.md": knowledge.FormatArticle(bad)})
	r := ed.do("POST", "/api/v1/kb/import", zipBad, "Content-Type", "application/zip").must(t, http.StatusUnprocessableEntity)
	errs, _ := r.json["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["file"] != "en/broken.md" || errs[0].(map[string]any)["field"] != "queue" {
		t.Errorf("rejected import: %s", r.raw)
	}
	if _, err := e.kb.Get(t.Context(), "visa", "en"); err == nil {
		t.Error("the valid file of a rejected import was imported")
	}
	zipGood := zipOf(t, map[string][]byte{"en/visa.md": knowledge.FormatArticle(good)})
	ok := ed.do("POST", "/api/v1/kb/import", zipGood, "Content-Type", "application/zip").must(t, http.StatusOK)
	if created, _ := ok.json["created"].([]any); len(created) != 1 {
		t.Errorf("good import: %s", ok.raw)
	}
	if a, err := e.kb.Get(t.Context(), "visa", "en"); err != nil || a.UpdatedBy != "olga" {
		t.Errorf("imported article: %+v, %v", a, err)
	}
	ed.do("POST", "/api/v1/kb/import", []byte("not a zip"), "Content-Type", "application/zip").must(t, http.StatusUnprocessableEntity)
	ed.do("POST", "/api/v1/kb/import", []byte{}, "Content-Type", "application/zip").must(t, http.StatusBadRequest)
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	ed := e.login("olga")
	json := func(s string) []byte { return []byte(s) }
	post := func(path string, body []byte) response {
		return ed.do("POST", path, body, "Content-Type", "application/json")
	}
	huge := article("big", "en", "x")
	huge["body"] = strings.Repeat("a", 300<<10)
	ed.do("POST", "/api/v1/kb/articles", huge).must(t, http.StatusRequestEntityTooLarge)
	ed.do("POST", "/api/v1/kb/import", bytes.Repeat([]byte{0}, 11<<20), "Content-Type", "application/zip").must(t, http.StatusRequestEntityTooLarge)
	// A chunked body has no Content-Length; the limit still holds.
	chunked := ed.do("POST", "/api/v1/kb/articles", struct{ *strings.Reader }{strings.NewReader(`{"body":"` + strings.Repeat("a", 300<<10) + `"}`)}, "Content-Type", "application/json")
	if chunked.code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked oversize body: %d", chunked.code)
	}

	post("/api/v1/kb/articles", json(``)).must(t, http.StatusBadRequest)
	post("/api/v1/kb/articles", json(`{"id":`)).must(t, http.StatusBadRequest)
	post("/api/v1/kb/articles", json(`{"id":"a","lang":"en","tags":"not a list"}`)).must(t, http.StatusBadRequest)
	post("/api/v1/kb/articles", json(`{} {}`)).must(t, http.StatusBadRequest)
	ed.do("POST", "/api/v1/kb/articles", []byte(`{}`), "Content-Type", "text/plain").must(t, http.StatusUnsupportedMediaType)

	ed.do("POST", "/api/v1/kb/articles", article("a", "de", "x")).must(t, http.StatusBadRequest)
	ed.do("GET", "/api/v1/kb/articles/de/a", nil).must(t, http.StatusBadRequest)
	ed.do("GET", "/api/v1/kb/articles?lang=fr", nil).must(t, http.StatusBadRequest)
	ed.do("GET", "/api/v1/kb/articles?status=gone", nil).must(t, http.StatusBadRequest)
	ed.do("GET", "/api/v1/kb/articles?limit=-1", nil).must(t, http.StatusBadRequest)
	ed.do("GET", "/api/v1/kb/articles?offset=x", nil).must(t, http.StatusBadRequest)

	empty := article("Bad ID", "en", "")
	empty["queue"] = "nowhere"
	r := ed.do("POST", "/api/v1/kb/articles", empty).must(t, http.StatusUnprocessableEntity)
	fields := map[string]bool{}
	for _, p := range r.json["problems"].([]any) {
		fields[p.(map[string]any)["field"].(string)] = true
	}
	if !fields["id"] || !fields["spoken"] || !fields["queue"] {
		t.Errorf("validation problems: %s", r.raw)
	}

	// Lint: problems block saving, warnings advise.
	long := article("long", "en", strings.Repeat("word ", 60))
	l := ed.do("POST", "/api/v1/kb/lint", long).must(t, http.StatusOK)
	ws := fmt.Sprint(l.json["warnings"])
	if !strings.Contains(ws, "spoken") || !strings.Contains(ws, "translation") {
		t.Errorf("lint warnings: %s", l.raw)
	}
	if ps, _ := l.json["problems"].([]any); len(ps) != 0 {
		t.Errorf("lint problems of a valid article: %s", l.raw)
	}
	l = ed.do("POST", "/api/v1/kb/lint", article("x", "en", "")).must(t, http.StatusOK)
	if ps, _ := l.json["problems"].([]any); len(ps) == 0 {
		t.Errorf("lint of an empty answer: %s", l.raw)
	}
}

func TestScriptStoredVerbatim(t *testing.T) {
	e := newEnv(t)
	ed := e.login("olga")
	const evil = `<script>alert("x")</script><img src=x onerror=alert(1)>`
	a := article("xss", "en", "Say "+evil)
	a["title"] = evil
	ed.do("POST", "/api/v1/kb/articles", a).must(t, http.StatusCreated)
	r := ed.do("GET", "/api/v1/kb/articles/en/xss", nil).must(t, http.StatusOK)
	if r.str("title") != evil {
		t.Errorf("title = %q, want it verbatim", r.str("title"))
	}
	if bytes.Contains(r.raw, []byte("<script")) || !bytes.Contains(r.raw, []byte(`\u003cscript\u003e`)) {
		t.Errorf("JSON not HTML-escaped: %s", r.raw)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestEditorServed(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for _, path := range []string{"/editor/", "/editor/app.js", "/editor/style.css", "/login", "/static/hotline.js"} {
		r := c.do("GET", path, nil)
		if r.code != http.StatusOK || !strings.Contains(r.header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("GET %s: %d, CSP %q", path, r.code, r.header.Get("Content-Security-Policy"))
		}
	}
	if r := c.do("GET", "/editor/nope.js", nil); r.code != http.StatusNotFound {
		t.Errorf("missing file: %d", r.code)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(e.srv.URL + "/editor")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/editor/" {
		t.Errorf("/editor: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The login page moved to /login (package auth): old bookmarks follow.
	resp, err = noRedirect.Get(e.srv.URL + "/editor/login.html")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/login?next=/editor/" {
		t.Errorf("/editor/login.html: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
