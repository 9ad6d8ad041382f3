package knowledge

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hotline-ivr/hotline/store"
)

func topID(t *testing.T, s *Service, lang, q string, o SearchOptions) string {
	t.Helper()
	o.Lang = lang
	hits, err := s.Search(context.Background(), q, o)
	if err != nil {
		t.Fatalf("Search(%q): %v", q, err)
	}
	if len(hits) == 0 {
		return ""
	}
	return hits[0].Article.ID
}

func TestSearchFindsTheRightArticle(t *testing.T) {
	s, _ := openTest(t)
	cases := []struct{ lang, q, want string }{
		{"ru", "какой у вас номер телефона", "main-number"},
		{"ru", "не могу зайти на госуслуги", "portal-login"},
		{"ru", "когда придёт пенсия", "pension-payment"},
		{"ru", "хочу открыть ИП", "business-register"},
		{"en", "what's your phone number", "main-number"},
		{"en", "I forgot my password", "portal-login"},
		{"en", "my pension has not arrived", "pension-payment"},
		{"en", "how to phone you from abroad", "abroad-number"},
		// Typos and recognition errors.
		{"ru", "гасуслуги не пускают", "portal-login"},
		{"ru", "забыл пороль", "portal-login"},
		{"en", "reset pasword", "portal-login"},
		{"en", "pensoin late", "pension-payment"},
		// Numbers said as words match the digits in the article.
		{"ru", "это номер восемь восемьсот пятьсот пятьдесят пять?", "main-number"},
		{"en", "is it eight eight hundred five hundred fifty five", "main-number"},
		// ё and е are the same letter for search.
		{"ru", "ЗАБЫЛ ПАРОЛЬ ОТ ГОСУСЛУГ", "portal-login"},
	}
	for _, c := range cases {
		if got := topID(t, s, c.lang, c.q, SearchOptions{}); got != c.want {
			t.Errorf("%s %q → %q, want %q", c.lang, c.q, got, c.want)
		}
	}
}

func TestSearchHitDetails(t *testing.T) {
	s, _ := openTest(t)
	hits, err := s.Search(context.Background(), "забыл пароль от госуслуг", SearchOptions{Lang: "ru", Limit: 3})
	if err != nil || len(hits) == 0 {
		t.Fatal(hits, err)
	}
	h := hits[0]
	if h.Matched != "Забыл пароль от госуслуг, что делать?" {
		t.Errorf("Matched = %q", h.Matched)
	}
	if h.Confidence < ConfidentThreshold || h.Confidence > 1 || h.Score <= 0 {
		t.Errorf("confident query: score %.3f confidence %.2f", h.Score, h.Confidence)
	}
	for _, o := range hits[1:] {
		if o.Confidence > h.Confidence || o.Score > h.Score {
			t.Errorf("later hit ranks above the first: %+v", o)
		}
	}
	vague, _ := s.Search(context.Background(), "ну это самое как его", SearchOptions{Lang: "ru"})
	if len(vague) > 0 && vague[0].Confidence >= ConfidentThreshold {
		t.Errorf("vague query answered confidently: %s %.2f", vague[0].Article.ID, vague[0].Confidence)
	}
}

func TestSearchFiltersAndErrors(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if got := topID(t, s, "ru", "льготы многодетным семьям", SearchOptions{}); got == "secret-draft" {
		t.Error("a draft was returned to callers")
	}
	if got := topID(t, s, "ru", "льготы многодетным семьям", SearchOptions{IncludeDrafts: true}); got != "secret-draft" {
		t.Errorf("IncludeDrafts: %q", got)
	}
	if got := topID(t, s, "ru", "номер телефона", SearchOptions{Queue: "tech"}); got != "portal-login" && got != "" {
		t.Errorf("queue filter returned %q", got)
	}
	if _, err := s.Search(ctx, "hello", SearchOptions{Lang: "de"}); !errors.Is(err, ErrUnknownLanguage) {
		t.Errorf("unknown language: %v", err)
	}
	if _, err := s.Search(ctx, "  ", SearchOptions{Lang: "ru"}); !errors.Is(err, ErrEmptyQuery) {
		t.Errorf("empty query: %v", err)
	}
	if hits, err := s.Search(ctx, "и в на", SearchOptions{Lang: "ru"}); err != nil || len(hits) != 0 {
		t.Errorf("stop words only: %v %v", hits, err)
	}
	// Languages do not mix.
	hits, _ := s.Search(ctx, "password", SearchOptions{Lang: "ru", Limit: 10})
	for _, h := range hits {
		if h.Article.Lang != "ru" {
			t.Errorf("ru search returned %s", h.Article.Key())
		}
	}
}

func TestSearchSeesEditsImmediately(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	a, _ := s.Get(ctx, "pension-payment", "en")
	a.Questions = append(a.Questions, "Where is my xylophone allowance?")
	a, err := s.Update(ctx, a, a.Version, "editor")
	if err != nil {
		t.Fatal(err)
	}
	if got := topID(t, s, "en", "xylophone allowance", SearchOptions{}); got != "pension-payment" {
		t.Errorf("edited article not found at once: %q", got)
	}
	a, _ = s.Unpublish(ctx, "pension-payment", "en", a.Version, "editor")
	if got := topID(t, s, "en", "xylophone allowance", SearchOptions{}); got != "" {
		t.Errorf("unpublished article still answered: %q", got)
	}
	a, _ = s.Publish(ctx, "pension-payment", "en", a.Version, "editor")
	if err := s.Delete(ctx, "pension-payment", "en", a.Version, "editor"); err != nil {
		t.Fatal(err)
	}
	if got := topID(t, s, "en", "xylophone allowance", SearchOptions{IncludeDrafts: true}); got != "" {
		t.Errorf("deleted article still found: %q", got)
	}
	if _, err := s.Restore(ctx, "pension-payment", "en", "editor"); err != nil {
		t.Fatal(err)
	}
	if got := topID(t, s, "en", "xylophone allowance", SearchOptions{}); got != "pension-payment" {
		t.Errorf("restored article not found: %q", got)
	}
}

// Searches run while an editor keeps saving; run with -race.
func TestConcurrentSearchAndWrites(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Search(ctx, "забыл пароль", SearchOptions{Lang: "ru"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := range 30 {
		a, _ := s.Get(ctx, "main-number", "ru")
		a.Body = fmt.Sprintf("правка %d", i)
		if _, err := s.Update(ctx, a, a.Version, "editor"); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
	if got := topID(t, s, "ru", "правка 29", SearchOptions{}); got != "main-number" {
		t.Errorf("last edit not searchable: %q", got)
	}
}

func TestCorruptIndexIsRebuilt(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	a, _ := s.Get(ctx, "portal-login", "en")
	a.Questions = append(a.Questions, "quokka sign in trouble")
	if _, err := s.Update(ctx, a, a.Version, "editor"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Overwrite every file of the index with garbage.
	r := rand.New(rand.NewPCG(3, 4))
	n := 0
	filepath.WalkDir(filepath.Join(dir, "index"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		junk := make([]byte, 4096)
		for i := range junk {
			junk[i] = byte(r.UintN(256))
		}
		n++
		return os.WriteFile(p, junk, 0o644)
	})
	if n == 0 {
		t.Fatal("no index files to corrupt")
	}
	s2 := reopen(t, dir)
	if got := topID(t, s2, "en", "quokka sign in", SearchOptions{}); got != "portal-login" {
		t.Errorf("after rebuild: %q", got)
	}
	s2.Close()

	// A removed index and an index behind the database are rebuilt too.
	os.RemoveAll(filepath.Join(dir, "index"))
	s3 := reopen(t, dir)
	if got := topID(t, s3, "en", "quokka sign in", SearchOptions{}); got != "portal-login" {
		t.Errorf("after missing index: %q", got)
	}
	s3.Close()
}

func TestIndexBehindDatabaseIsRebuilt(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	s.Close()
	// Another process changes the database while this index is not open
	// (or a backup of the database is restored): the index is now behind.
	db, err := store.Open(filepath.Join(dir, "hotline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	side, err := Open(ctx, db, filepath.Join(t.TempDir(), "side-index"), WithoutSeed())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := side.Get(ctx, "main-number", "en")
	a.Questions = []string{"wombat helpline number"}
	if _, err := side.Update(ctx, a, a.Version, "editor"); err != nil {
		t.Fatal(err)
	}
	side.Close()
	s2 := reopen(t, dir)
	if got := topID(t, s2, "en", "wombat helpline", SearchOptions{}); got != "main-number" {
		t.Errorf("stale index was not rebuilt: %q", got)
	}
}

func TestClosedService(t *testing.T) {
	s, _ := openTest(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Search(context.Background(), "номер", SearchOptions{Lang: "ru"}); !errors.Is(err, ErrClosed) {
		t.Errorf("search after close: %v", err)
	}
	if _, err := s.Create(context.Background(), newArticle("x", "ru"), "a"); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
}

func BenchmarkSearchSeeded(b *testing.B) {
	s, _ := openTest(b, WithSeed(Content()))
	queries := []struct{ lang, q string }{
		{"ru", "какой номер горячей линии"},
		{"ru", "не могу войти в личный кабинет гасуслуг"},
		{"en", "how do I call from abroad"},
		{"en", "what are the operator working hours on saturday"},
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		q := queries[i%len(queries)]
		i++
		if _, err := s.Search(ctx, q.q, SearchOptions{Lang: q.lang}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSearch10k(b *testing.B) {
	s, _ := openTest(b, WithoutSeed())
	ctx := context.Background()
	if _, err := s.Import(ctx, SyntheticFiles(10000, 1), "bench"); err != nil {
		b.Fatal(err)
	}
	queries := SyntheticQueries(64, 2)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		q := queries[i%len(queries)]
		i++
		if _, err := s.Search(ctx, q.Text, SearchOptions{Lang: q.Lang}); err != nil {
			b.Fatal(err)
		}
	}
}
