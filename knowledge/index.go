package knowledge

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
)

// indexSchema names the mapping and the way documents are built. Change it
// whenever either changes: an index built differently is rebuilt at Open.
const indexSchema = "hotline-kb-4"

// Internal keys stored inside the Bleve index.
var (
	keyGeneration = []byte("hotline.generation")
	keySchema     = []byte("hotline.schema")
)

// Indexed text fields, per language ("title_ru", "questions_en", ...). The
// "all" field joins the short, precise fields (title, questions, tags) and
// is where fuzzy matching runs: once per term instead of once per field.
var textFields = []string{"title", "questions", "spoken", "tags", "body", "all"}

// searchIndex is the Bleve index plus a copy of every live article, so that
// hits are returned without a database round trip. Bleve handles concurrent
// searches and writes; docs is guarded by mu.
type searchIndex struct {
	bleve bleve.Index
	nums  *numberNormalizer
	log   interface {
		Error(msg string, args ...any)
	}

	termsMu sync.Mutex
	terms   map[string]cachedTerms // analyzed title and questions, by key

	mu      sync.RWMutex
	docs    map[string]Article // key "lang/id"; only live articles
	perLang map[string]int     // len(docs) by language
	closed  bool
}

// openIndex opens the index at dir, or rebuilds it from the database when it
// is missing, unreadable, built by another schema or behind the database.
func openIndex(ctx context.Context, s *Service, dir string) (*searchIndex, error) {
	gen, err := readGeneration(ctx, s.db)
	if err != nil {
		return nil, err
	}
	arts, err := loadLive(ctx, s.db)
	if err != nil {
		return nil, err
	}
	si := &searchIndex{nums: newNumberNormalizer(), log: s.log,
		docs: make(map[string]Article, len(arts)), perLang: map[string]int{}, terms: map[string]cachedTerms{}}
	for _, a := range arts {
		si.docs[a.Key()] = a
		si.perLang[a.Lang]++
	}
	idx, reason := tryOpen(dir, gen, len(arts))
	if idx != nil {
		si.bleve = idx
		return si, nil
	}
	s.log.Info("rebuilding knowledge index", "dir", dir, "reason", reason, "articles", len(arts))
	start := time.Now()
	idx, err = buildIndex(dir, gen, arts)
	if err != nil {
		return nil, err
	}
	s.log.Info("knowledge index rebuilt", "articles", len(arts), "took", time.Since(start).Round(time.Millisecond))
	si.bleve = idx
	return si, nil
}

// tryOpen returns the existing index if it is usable and current, or nil
// and the reason it is not. Bleve may panic on garbage segment files, so
// the probe recovers: a broken index must never keep the service down.
func tryOpen(dir string, gen int64, live int) (idx bleve.Index, reason string) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, "missing"
	}
	defer func() {
		if r := recover(); r != nil {
			if idx != nil {
				func() { defer func() { recover() }(); idx.Close() }()
			}
			idx, reason = nil, fmt.Sprintf("unreadable (panic: %v)", r)
		}
	}()
	idx, err := bleve.Open(dir)
	if err != nil {
		return nil, "unreadable: " + err.Error()
	}
	reason = func() string {
		schema, err := idx.GetInternal(keySchema)
		if err != nil {
			return "unreadable: " + err.Error()
		}
		if string(schema) != indexSchema {
			return fmt.Sprintf("built with schema %q, want %q", schema, indexSchema)
		}
		g, err := idx.GetInternal(keyGeneration)
		if err != nil {
			return "unreadable: " + err.Error()
		}
		if string(g) != strconv.FormatInt(gen, 10) {
			return fmt.Sprintf("out of date (index generation %q, database %d)", g, gen)
		}
		n, err := idx.DocCount()
		if err != nil {
			return "unreadable: " + err.Error()
		}
		if int(n) != live {
			return fmt.Sprintf("has %d documents, database has %d live articles", n, live)
		}
		// A search touches every segment's dictionary and postings.
		req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), live+1, 0, false)
		res, err := idx.Search(req)
		if err != nil {
			return "unreadable: " + err.Error()
		}
		if int(res.Total) != live {
			return fmt.Sprintf("search sees %d documents, want %d", res.Total, live)
		}
		return ""
	}()
	if reason != "" {
		idx.Close()
		return nil, reason
	}
	return idx, ""
}

// buildIndex writes a fresh index for arts into dir. It builds next to dir
// and renames, so a crash mid-build leaves no half index that looks current.
func buildIndex(dir string, gen int64, arts []Article) (bleve.Index, error) {
	tmp := dir + ".building"
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("knowledge: index: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o750); err != nil {
		return nil, fmt.Errorf("knowledge: index: %w", err)
	}
	im, err := indexMapping()
	if err != nil {
		return nil, err
	}
	idx, err := bleve.New(tmp, im)
	if err != nil {
		return nil, fmt.Errorf("knowledge: create index: %w", err)
	}
	fail := func(err error) (bleve.Index, error) {
		idx.Close()
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("knowledge: build index: %w", err)
	}
	const batchSize = 1000
	b := idx.NewBatch()
	for _, a := range arts {
		if err := b.Index(a.Key(), document(a)); err != nil {
			return fail(err)
		}
		if b.Size() >= batchSize {
			if err := idx.Batch(b); err != nil {
				return fail(err)
			}
			b.Reset()
		}
	}
	b.SetInternal(keySchema, []byte(indexSchema))
	b.SetInternal(keyGeneration, []byte(strconv.FormatInt(gen, 10)))
	if err := idx.Batch(b); err != nil {
		return fail(err)
	}
	if err := idx.Close(); err != nil {
		return fail(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("knowledge: replace index: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("knowledge: replace index: %w", err)
	}
	idx, err = bleve.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("knowledge: open rebuilt index: %w", err)
	}
	return idx, nil
}

func indexMapping() (mapping.IndexMapping, error) {
	im := bleve.NewIndexMapping()
	if err := addAnalyzers(im); err != nil {
		return nil, fmt.Errorf("knowledge: analyzers: %w", err)
	}
	dm := bleve.NewDocumentStaticMapping()
	for _, lang := range Languages {
		for _, f := range textFields {
			fm := bleve.NewTextFieldMapping()
			fm.Analyzer = analyzerName(lang)
			fm.Store = false
			fm.IncludeInAll = false
			fm.IncludeTermVectors = false
			fm.DocValues = false
			dm.AddFieldMappingsAt(f+"_"+lang, fm)
		}
	}
	for _, f := range []string{"lang", "status", "queue"} {
		fm := bleve.NewKeywordFieldMapping()
		fm.Store = false
		fm.IncludeInAll = false
		fm.DocValues = false
		dm.AddFieldMappingsAt(f, fm)
	}
	im.DefaultMapping = dm
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	// BM25 saturates term frequency and normalises by field length, which
	// suits short questions and titles better than classic tf-idf (it
	// measured better on the dev set, too).
	im.ScoringModel = index.BM25Scoring
	return im, nil
}

// document is what Bleve indexes for an article. Text is folded (ё→е) here
// and in queries alike.
func document(a Article) map[string]any {
	l := "_" + a.Lang
	questions := strings.Join(a.Questions, "\n")
	tags := strings.Join(a.Tags, "\n")
	return map[string]any{
		"lang":          a.Lang,
		"status":        a.Status,
		"queue":         a.Queue,
		"title" + l:     foldText(a.Title),
		"questions" + l: foldText(questions),
		"spoken" + l:    foldText(a.Spoken),
		"tags" + l:      foldText(tags),
		"body" + l:      foldText(a.Body),
		"all" + l:       foldText(a.Title + "\n" + questions + "\n" + tags),
	}
}

// apply brings the index up to date with committed changes at generation
// gen. A failure is logged, not returned: the database already holds the
// change, and the generation left behind makes the next Open rebuild.
func (si *searchIndex) apply(gen int64, arts ...Article) {
	si.mu.Lock()
	defer si.mu.Unlock()
	if si.closed {
		return
	}
	b := si.bleve.NewBatch()
	for _, a := range arts {
		if _, had := si.docs[a.Key()]; had {
			si.perLang[a.Lang]--
			delete(si.docs, a.Key())
			si.termsMu.Lock()
			delete(si.terms, a.Key())
			si.termsMu.Unlock()
		}
		if a.Deleted {
			b.Delete(a.Key())
			continue
		}
		if err := b.Index(a.Key(), document(a)); err != nil {
			si.log.Error("index article", "article", a.Key(), "error", err)
			return
		}
		si.docs[a.Key()] = a
		si.perLang[a.Lang]++
	}
	b.SetInternal(keyGeneration, []byte(strconv.FormatInt(gen, 10)))
	if err := si.bleve.Batch(b); err != nil {
		si.log.Error("update knowledge index; it will be rebuilt at next start", "error", err)
	}
}

type cachedTerms struct {
	version int
	terms   [][]string
}

// live returns the number of indexed articles in a language.
func (si *searchIndex) live(lang string) int {
	si.mu.RLock()
	defer si.mu.RUnlock()
	return si.perLang[lang]
}

func (si *searchIndex) article(key string) (Article, bool) {
	si.mu.RLock()
	defer si.mu.RUnlock()
	a, ok := si.docs[key]
	return a, ok
}

func (si *searchIndex) isClosed() bool {
	si.mu.RLock()
	defer si.mu.RUnlock()
	return si.closed
}

func (si *searchIndex) close() error {
	si.mu.Lock()
	defer si.mu.Unlock()
	if si.closed {
		return nil
	}
	si.closed = true
	return si.bleve.Close()
}
