package knowledge

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/hotline-ivr/hotline/store"
)

// openTest opens a service on a real SQLite file and Bleve directory in a
// temporary folder.
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
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	s, err := Open(context.Background(), db, filepath.Join(dir, "index"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSmokeSeededSearch(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	for _, q := range []struct{ lang, text string }{
		{"ru", "Какой номер горячей линии?"},
		{"en", "What is the hotline number?"},
		{"ru", "восемь восемьсот"},
	} {
		hits, err := s.Search(ctx, q.text, SearchOptions{Lang: q.lang, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			t.Logf("%s %q → %s %.3f conf=%.2f matched=%q", q.lang, q.text, h.Article.ID, h.Score, h.Confidence, h.Matched)
		}
	}
}
