package knowledge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hotline-ivr/hotline/store"
)

// openTest opens a service on a real SQLite file and Bleve directory in a
// temporary folder, seeded from testdata/content.
func openTest(t testing.TB, opts ...Option) (*Service, string) {
	t.Helper()
	dir := t.TempDir()
	return reopen(t, dir, opts...), dir
}

func reopen(t testing.TB, dir string, opts ...Option) *Service {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, "hotline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	opts = append([]Option{
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		WithSeed(os.DirFS("testdata/content")),
	}, opts...)
	s, err := Open(context.Background(), db, filepath.Join(dir, "index"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newArticle(id, lang string) Article {
	return Article{ID: id, Lang: lang, Title: "Заголовок " + id, Queue: "general",
		Questions: []string{"Вопрос про " + id}, Spoken: "Ответ про " + id + ".", Body: "Текст."}
}

func TestSeedOnFirstStartOnly(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	items, total, err := s.List(ctx, ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if total != 9 || len(items) != 9 {
		t.Fatalf("seeded %d articles, want 9", total)
	}
	a, err := s.Get(ctx, "main-number", "ru")
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != 1 || a.UpdatedBy != "system" || a.Status != StatusPublished {
		t.Errorf("seeded article = v%d by %q %s; want v1 by system, published", a.Version, a.UpdatedBy, a.Status)
	}
	a.Spoken = "Новый ответ оператора."
	if _, err := s.Update(ctx, a, 1, "editor"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "pension-payment", "en", 1, "editor"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Second start on the same database: no reseeding, edits survive, and
	// the index (same generation) is reused.
	s2 := reopen(t, dir)
	got, err := s2.Get(ctx, "main-number", "ru")
	if err != nil {
		t.Fatal(err)
	}
	if got.Spoken != "Новый ответ оператора." || got.Version != 2 {
		t.Errorf("after restart: %q v%d; the edit was lost", got.Spoken, got.Version)
	}
	if _, err := s2.Get(ctx, "pension-payment", "en"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted article came back after restart: %v", err)
	}
	if _, total, _ := s2.List(ctx, ListFilter{IncludeDeleted: true}); total != 9 {
		t.Errorf("after restart %d articles, want 9 (no reseed)", total)
	}
	hits, err := s2.Search(ctx, "новый ответ оператора", SearchOptions{Lang: "ru"})
	if err != nil || len(hits) == 0 || hits[0].Article.ID != "main-number" {
		t.Errorf("search after restart: %v %v", hits, err)
	}
}

func TestWithoutSeedAndEmbeddedSeed(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, WithoutSeed())
	if _, total, _ := s.List(ctx, ListFilter{}); total != 0 {
		t.Errorf("WithoutSeed: %d articles", total)
	}
	if testing.Short() {
		return
	}
	// The real embedded content seeds cleanly.
	e, _ := openTest(t, WithSeed(Content()))
	_, total, err := e.List(ctx, ListFilter{})
	if err != nil || total < 2 {
		t.Fatalf("embedded seed: %d articles, %v", total, err)
	}
}

func TestCRUDAndVersions(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s, _ := openTest(t, WithoutSeed(), WithClock(func() time.Time { return now }))

	a, err := s.Create(ctx, newArticle("new-one", "ru"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != 1 || a.Status != StatusDraft || a.UpdatedBy != "alice" || !a.CreatedAt.Equal(now) {
		t.Errorf("created = %+v", a)
	}
	if _, err := s.Create(ctx, newArticle("new-one", "ru"), "bob"); !errors.Is(err, ErrExists) {
		t.Errorf("second create: %v, want ErrExists", err)
	}
	bad := newArticle("Bad ID", "ru")
	if _, err := s.Create(ctx, bad, "alice"); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid create: %v, want ErrInvalid", err)
	}
	if _, err := s.Get(ctx, "missing", "ru"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get missing: %v", err)
	}

	a.Title = "Новый заголовок"
	a.Status = "" // keeps the current status
	u, err := s.Update(ctx, a, 1, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if u.Version != 2 || u.Title != "Новый заголовок" || u.Status != StatusDraft || u.UpdatedBy != "bob" {
		t.Errorf("updated = %+v", u)
	}
	// Saving the same content again is a no-op.
	same, err := s.Update(ctx, u, 2, "bob")
	if err != nil || same.Version != 2 {
		t.Errorf("no-op update: v%d %v", same.Version, err)
	}
	if _, err := s.Update(ctx, a, 1, "carol"); !errors.Is(err, ErrConflict) {
		t.Errorf("stale update: %v, want ErrConflict", err)
	}
	p, err := s.Publish(ctx, "new-one", "ru", 2, "bob")
	if err != nil || p.Status != StatusPublished || p.Version != 3 {
		t.Fatalf("publish: %+v %v", p, err)
	}
	if _, err := s.Unpublish(ctx, "new-one", "ru", 2, "bob"); !errors.Is(err, ErrConflict) {
		t.Errorf("stale unpublish: %v", err)
	}
	up, err := s.Unpublish(ctx, "new-one", "ru", 3, "bob")
	if err != nil || up.Status != StatusDraft || up.Version != 4 {
		t.Fatalf("unpublish: %+v %v", up, err)
	}

	items, total, err := s.List(ctx, ListFilter{Lang: "ru", Status: StatusDraft, Query: "НОВЫЙ"})
	if err != nil || total != 1 || items[0].ID != "new-one" {
		t.Errorf("list by query: %v %d %v", items, total, err)
	}
}

func TestListFilterAndPaging(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	all, total, err := s.List(ctx, ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, len(all))
	for i, a := range all {
		keys[i] = a.ID + "/" + a.Lang
	}
	if !slices.IsSorted(keys) {
		t.Errorf("not ordered by id, lang: %v", keys)
	}
	page, total2, _ := s.List(ctx, ListFilter{Offset: 2, Limit: 3})
	if total2 != total || len(page) != 3 || page[0].ID != all[2].ID {
		t.Errorf("page = %d items of %d", len(page), total2)
	}
	tech, n, _ := s.List(ctx, ListFilter{Queue: "tech", Lang: "en"})
	if n != 1 || tech[0].ID != "portal-login" {
		t.Errorf("queue filter: %v", tech)
	}
}

// Two editors load version 1 and save at the same moment: exactly one
// wins, the other gets ErrConflict and nothing of the winner is lost.
func TestConcurrentEditorsOneWins(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for round := range 5 {
		cur, err := s.Get(ctx, "pension-payment", "ru")
		if err != nil {
			t.Fatal(err)
		}
		const editors = 8
		var wg sync.WaitGroup
		errs := make([]error, editors)
		start := make(chan struct{})
		for i := range editors {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := cur
				a.Spoken = fmt.Sprintf("%s правка редактора %d.", strings.Repeat("х", i+1), round)
				<-start
				_, errs[i] = s.Update(ctx, a, cur.Version, "editor")
			}()
		}
		close(start)
		wg.Wait()
		winners := 0
		var winner int
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
				winner = i
			case !errors.Is(err, ErrConflict):
				t.Fatalf("round %d editor %d: %v", round, i, err)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d winners, want exactly 1", round, winners)
		}
		got, _ := s.Get(ctx, "pension-payment", "ru")
		want := fmt.Sprintf("%s правка редактора %d.", strings.Repeat("х", winner+1), round)
		if got.Spoken != want || got.Version != cur.Version+1 {
			t.Errorf("round %d: stored %q v%d, want the winner's %q v%d", round, got.Spoken, got.Version, want, cur.Version+1)
		}
	}
}

func TestSoftDeleteAndRestore(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if err := s.Delete(ctx, "portal-login", "ru", 7, "bob"); !errors.Is(err, ErrConflict) {
		t.Errorf("stale delete: %v", err)
	}
	if err := s.Delete(ctx, "portal-login", "ru", 1, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "portal-login", "ru"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get deleted: %v", err)
	}
	if a, err := s.GetAny(ctx, "portal-login", "ru"); err != nil || !a.Deleted || a.Version != 2 {
		t.Errorf("GetAny deleted: %+v %v", a, err)
	}
	trash, n, _ := s.List(ctx, ListFilter{OnlyDeleted: true})
	if n != 1 || trash[0].ID != "portal-login" {
		t.Errorf("trash = %v", trash)
	}
	if _, n, _ := s.List(ctx, ListFilter{}); n != 8 {
		t.Errorf("live list has %d, want 8", n)
	}
	if _, err := s.Update(ctx, newArticle("portal-login", "ru"), 2, "bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("update deleted: %v", err)
	}
	if _, err := s.Create(ctx, newArticle("portal-login", "ru"), "bob"); !errors.Is(err, ErrExists) {
		t.Errorf("create over deleted: %v", err)
	}
	r, err := s.Restore(ctx, "portal-login", "ru", "alice")
	if err != nil || r.Deleted || r.Version != 3 || r.Title != "Не получается войти на госуслуги" {
		t.Fatalf("restore: %+v %v", r, err)
	}
	if _, err := s.Restore(ctx, "portal-login", "ru", "alice"); !errors.Is(err, ErrNotDeleted) {
		t.Errorf("restore a live article: %v", err)
	}
	if _, err := s.Restore(ctx, "nope", "ru", "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("restore missing: %v", err)
	}
}

func TestHistoryDiffRevert(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	v1, _ := s.Get(ctx, "main-number", "en")
	v2 := v1
	v2.Spoken = "Call 8 800 555-99-99."
	v2.Body = v1.Body + "\nNew line."
	if _, err := s.Update(ctx, v2, 1, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Unpublish(ctx, "main-number", "en", 2, "bob"); err != nil {
		t.Fatal(err)
	}
	h, err := s.History(ctx, "main-number", "en")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range h {
		actions = append(actions, r.Action+":"+r.Actor)
	}
	if strings.Join(actions, ",") != "unpublish:bob,update:alice,create:system" || h[0].Version != 3 {
		t.Errorf("history = %v", actions)
	}
	r2, err := s.Revision(ctx, "main-number", "en", 2)
	if err != nil || r2.Article.Spoken != "Call 8 800 555-99-99." {
		t.Fatalf("revision 2: %+v %v", r2, err)
	}
	if _, err := s.Revision(ctx, "main-number", "en", 9); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing revision: %v", err)
	}
	d := Diff(h[2].Article, h[1].Article)
	var fields []string
	for _, f := range d {
		fields = append(fields, f.Field)
	}
	if strings.Join(fields, ",") != "spoken,body" {
		t.Errorf("diff fields = %v", fields)
	}
	if !strings.Contains(d[1].Lines, "+ New line.") || !strings.Contains(d[1].Lines, "  The number") {
		t.Errorf("body line diff = %q", d[1].Lines)
	}

	if _, err := s.Revert(ctx, "main-number", "en", 1, 2, "carol"); !errors.Is(err, ErrConflict) {
		t.Errorf("stale revert: %v", err)
	}
	rv, err := s.Revert(ctx, "main-number", "en", 1, 3, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if rv.Version != 4 || !sameContent(rv, v1) || rv.UpdatedBy != "carol" {
		t.Errorf("reverted = %+v", rv)
	}
	h, _ = s.History(ctx, "main-number", "en")
	if h[0].Action != "revert" || len(h) != 4 {
		t.Errorf("history after revert: %d entries, newest %q", len(h), h[0].Action)
	}
}

func TestImportAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	good := newArticle("imported", "ru")
	good.Status = StatusPublished
	changed, _ := s.Get(ctx, "main-number", "ru")
	changed.Title = "Изменено импортом"
	files := map[string][]byte{
		"ru/imported.md":    FormatArticle(good),
		"ru/main-number.md": FormatArticle(changed),
		"README.txt":        []byte("not an article"),
		"en/broken.md":      []byte("---\nid: broken\nlang: en\ntitle: B\nqueue: nowhere\ntags: []\nquestions: []\nspoken: S\nstatus: draft\n---\n"),
	}
	rep, err := s.Import(ctx, files, "importer")
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("import with a bad file: %v", err)
	}
	if len(rep.Errors) != 1 || rep.Errors[0].File != "en/broken.md" || rep.Errors[0].Field != "queue" {
		t.Errorf("report errors = %+v", rep.Errors)
	}
	if _, err := s.Get(ctx, "imported", "ru"); !errors.Is(err, ErrNotFound) {
		t.Error("a good file was imported although another failed")
	}
	if a, _ := s.Get(ctx, "main-number", "ru"); a.Title == "Изменено импортом" {
		t.Error("an existing article was changed although the import failed")
	}

	delete(files, "en/broken.md")
	rep, err = s.Import(ctx, files, "importer")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Created, []string{"ru/imported"}) || !slices.Equal(rep.Updated, []string{"ru/main-number"}) ||
		!slices.Equal(rep.Skipped, []string{"README.txt"}) {
		t.Errorf("report = %+v", rep)
	}
	a, _ := s.Get(ctx, "main-number", "ru")
	h, _ := s.History(ctx, "main-number", "ru")
	if a.Title != "Изменено импортом" || a.Version != 2 || h[0].Action != "import" || h[0].Actor != "importer" {
		t.Errorf("imported update: %+v, last action %q", a, h[0].Action)
	}
	hits, _ := s.Search(ctx, "вопрос про imported", SearchOptions{Lang: "ru"})
	if len(hits) == 0 || hits[0].Article.ID != "imported" {
		t.Errorf("imported article not searchable: %v", hits)
	}
}

func TestExportImportLossless(t *testing.T) {
	ctx := context.Background()
	src, _ := openTest(t)
	odd := Article{ID: "odd-text", Lang: "en", Title: "Title: with # and \"quotes\"", Queue: "tech",
		Tags: []string{"a, b", "[x]", "yes"}, Questions: []string{"- dash?", "null", "ключ: значение"},
		Spoken: "Line one\nline two", Body: "# Heading\n\n```\ncode: here\n---\n```", Status: StatusPublished}
	if _, err := src.Create(ctx, odd, "alice"); err != nil {
		t.Fatal(err)
	}
	files, err := src.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 10 || files["en/odd-text.md"] == nil {
		t.Fatalf("exported %d files", len(files))
	}
	dst, _ := openTest(t, WithoutSeed())
	rep, err := dst.Import(ctx, files, "restore")
	if err != nil || len(rep.Created) != 10 {
		t.Fatalf("import: %+v %v", rep, err)
	}
	want, _, _ := src.List(ctx, ListFilter{})
	got, _, _ := dst.List(ctx, ListFilter{})
	if len(got) != len(want) {
		t.Fatalf("%d articles after import, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameContent(got[i], want[i]) {
			t.Errorf("%s changed:\n got %#v\nwant %#v", want[i].Key(), got[i], want[i])
		}
	}
	// Importing the same export again changes nothing.
	rep, err = dst.Import(ctx, files, "restore")
	if err != nil || len(rep.Unchanged) != 10 || len(rep.Updated)+len(rep.Created) != 0 {
		t.Errorf("re-import: %+v %v", rep, err)
	}
}

func TestZipRoundTrip(t *testing.T) {
	ctx := context.Background()
	src, _ := openTest(t)
	w := &byteWriter{}
	if err := src.ExportZip(ctx, w); err != nil {
		t.Fatal(err)
	}
	dst, _ := openTest(t, WithoutSeed())
	rep, err := dst.ImportZip(ctx, w.b, "zip")
	if err != nil || len(rep.Created) != 9 {
		t.Fatalf("ImportZip: %+v %v", rep, err)
	}
	if _, err := dst.ImportZip(ctx, []byte("not a zip"), "zip"); !errors.Is(err, ErrInvalid) {
		t.Errorf("garbage zip: %v", err)
	}
}

type byteWriter struct{ b []byte }

func (w *byteWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// The store keeps text verbatim: escaping is the UI's job, and an editor
// must get back exactly what was typed.
func TestInjectionTextStoredVerbatim(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, WithoutSeed())
	a := newArticle("xss", "en")
	a.Title = `<script>alert("x")</script>`
	a.Spoken = `Robert'); DROP TABLE kb_articles;-- <img src=x onerror=alert(1)>`
	a.Body = "<iframe src=javascript:alert(1)></iframe>"
	a.Status = StatusPublished
	if _, err := s.Create(ctx, a, "mallory"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "xss", "en")
	if err != nil || got.Title != a.Title || got.Spoken != a.Spoken || got.Body != a.Body {
		t.Errorf("stored %+v %v", got, err)
	}
	hits, err := s.Search(ctx, "script alert", SearchOptions{Lang: "en"})
	if err != nil || len(hits) != 1 || hits[0].Article.Title != a.Title {
		t.Errorf("search: %v %v", hits, err)
	}
	// Lint warns about HTML in speech.
	found := false
	for _, w := range s.Lint(ctx, got) {
		found = found || (w.Field == "spoken" && strings.Contains(w.Msg, "HTML"))
	}
	if !found {
		t.Error("no HTML warning for the spoken text")
	}
}

func TestLint(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	a, _ := s.Get(ctx, "business-register", "ru")                            // no English version in testdata
	a.Questions = append(a.Questions, "забыл пароль от ГОСУСЛУГ что делать") // also in portal-login
	a.Spoken = "Первое. Второе. Третье. Четвёртое. Подробности на https://example.org и **жирным**."
	ws := s.Lint(ctx, a)
	want := map[string]bool{"translation": false, "same question": false, "sentences": false, "web address": false, "Markdown": false}
	for _, w := range ws {
		for k := range want {
			if strings.Contains(w.Msg, k) {
				want[k] = true
			}
		}
	}
	for k, ok := range want {
		if !ok {
			t.Errorf("no warning about %q in %+v", k, ws)
		}
	}
	long := newArticle("main-number", "ru")
	long.Spoken = strings.Repeat("слово ", 60)
	if ws := s.Lint(ctx, long); len(ws) != 1 || !strings.Contains(ws[0].Msg, "words") {
		t.Errorf("long spoken: %+v", ws)
	}
	ok, _ := s.Get(ctx, "main-number", "en")
	if ws := s.Lint(ctx, ok); len(ws) != 0 {
		t.Errorf("clean article has warnings: %+v", ws)
	}
}

func TestSeedSkipsBrokenFiles(t *testing.T) {
	seed := fstest.MapFS{
		"ru/good.md": {Data: FormatArticle(Article{ID: "good", Lang: "ru", Title: "T", Queue: "general", Spoken: "S", Status: StatusPublished})},
		"ru/bad.md":  {Data: []byte("no front matter")},
	}
	s, _ := openTest(t, WithSeed(seed))
	_, n, _ := s.List(context.Background(), ListFilter{})
	if n != 1 {
		t.Errorf("seeded %d articles, want the 1 good one", n)
	}
}
