package nlu

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"github.com/hotline-ivr/hotline/knowledge"
	"github.com/hotline-ivr/hotline/store"
)

// KnowledgeRetriever adapts the knowledge base's search to Retriever.
type KnowledgeRetriever struct {
	S knowledge.Searcher
}

var _ Retriever = KnowledgeRetriever{}

// Search implements Retriever.
func (k KnowledgeRetriever) Search(ctx context.Context, query, lang string, limit int) ([]Candidate, error) {
	hits, err := k.S.Search(ctx, query, knowledge.SearchOptions{Lang: lang, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]Candidate, len(hits))
	for i, h := range hits {
		out[i] = Candidate{ID: h.Article.ID, Queue: h.Article.Queue, Title: h.Article.Title, Spoken: h.Article.Spoken, Score: h.Score, Confidence: h.Confidence}
	}
	return out, nil
}

// FromArticle converts a knowledge-base article.
func FromArticle(a knowledge.Article) FAQArticle {
	return FAQArticle{ID: a.ID, Lang: a.Lang, Queue: a.Queue, Title: a.Title, Spoken: a.Spoken,
		Questions: slices.Clone(a.Questions), Tags: slices.Clone(a.Tags)}
}

// PublishedArticles lists the live, published articles of the knowledge
// base, for WithArticles.
func PublishedArticles(ctx context.Context, s *knowledge.Service) ([]FAQArticle, error) {
	arts, _, err := s.List(ctx, knowledge.ListFilter{Status: knowledge.StatusPublished})
	if err != nil {
		return nil, err
	}
	out := make([]FAQArticle, len(arts))
	for i, a := range arts {
		out[i] = FromArticle(a)
	}
	return out, nil
}

// EmbeddedArticles parses the published articles shipped in the binary
// (knowledge.Content), without a database: enough for `hotline ask`, the
// evaluator and tests.
func EmbeddedArticles() ([]FAQArticle, error) {
	var out []FAQArticle
	fsys := knowledge.Content()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		a, err := knowledge.ParseArticle(p, b)
		if err != nil {
			return err
		}
		if a.Status == knowledge.StatusPublished {
			out = append(out, FromArticle(a))
		}
		return nil
	})
	return out, err
}

// Embedded is a parser over the knowledge base shipped in the binary,
// with no server: the knowledge service runs on an in-memory SQLite
// database and a search index in a temporary directory, both removed by
// Close.
type Embedded struct {
	*Parser
	KB  *knowledge.Service
	db  *sql.DB
	dir string
}

// OpenEmbedded builds an Embedded parser. opts are applied after the
// knowledge base's articles and retriever.
func OpenEmbedded(ctx context.Context, log *slog.Logger, opts ...Option) (*Embedded, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "hotline-nlu-*")
	if err != nil {
		return nil, err
	}
	e := &Embedded{dir: dir}
	fail := func(err error) (*Embedded, error) {
		e.Close()
		return nil, err
	}
	if e.db, err = store.Open(":memory:"); err != nil {
		return fail(err)
	}
	if e.KB, err = knowledge.Open(ctx, e.db, filepath.Join(dir, "index"), knowledge.WithLogger(log)); err != nil {
		return fail(err)
	}
	arts, err := PublishedArticles(ctx, e.KB)
	if err != nil {
		return fail(err)
	}
	base := []Option{WithLogger(log), WithArticles(arts), WithRetriever(KnowledgeRetriever{S: e.KB})}
	if e.Parser, err = New(append(base, opts...)...); err != nil {
		return fail(err)
	}
	return e, nil
}

// Close releases the knowledge base and removes its temporary files.
func (e *Embedded) Close() error {
	var errs []error
	if e.KB != nil {
		errs = append(errs, e.KB.Close())
	}
	if e.db != nil {
		errs = append(errs, e.db.Close())
	}
	errs = append(errs, os.RemoveAll(e.dir))
	return errors.Join(errs...)
}
