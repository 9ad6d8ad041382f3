package knowledge

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/store"
)

// Service is the knowledge base: the SQLite tables are the truth, the Bleve
// index is derived from them. Writes are serialised (one at a time) and
// update the index before they return; searches run concurrently.
type Service struct {
	db  *sql.DB
	log *slog.Logger
	now func() time.Time

	seed     fs.FS
	noSeed   bool
	indexDir string
	onChange func(id, lang string)

	// mu serialises writers so that the database row, the revision, the
	// generation counter and the index change together, in commit order.
	mu  sync.Mutex
	idx *searchIndex

	closeOnce sync.Once
	closeErr  error
}

// Option configures Open.
type Option func(*Service)

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithClock replaces time.Now, for tests of timestamps.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithSeed seeds an empty knowledge base from fsys instead of the embedded
// content. Files are found anywhere in fsys as ".../<lang>/<id>.md".
func WithSeed(fsys fs.FS) Option { return func(s *Service) { s.seed = fsys; s.noSeed = false } }

// WithoutSeed starts with an empty knowledge base.
func WithoutSeed() Option { return func(s *Service) { s.noSeed = true } }

// WithOnChange calls f after every write that changed an article (create,
// update, publish, unpublish, delete, restore, revert, import, also the
// seeding on first start), once per changed article, after the change is
// committed and indexed and outside the writer lock, so f may read the
// service. Calls of concurrent writes may arrive in any order. For example,
// the speech cache drops the article's rendered answers.
func WithOnChange(f func(id, lang string)) Option { return func(s *Service) { s.onChange = f } }

// Open migrates the knowledge tables in db, seeds them on first start and
// opens the search index in indexDir, rebuilding it from the database when
// it is missing, unreadable or behind. The caller keeps ownership of db.
func Open(ctx context.Context, db *sql.DB, indexDir string, opts ...Option) (*Service, error) {
	s := &Service{db: db, log: slog.Default(), now: time.Now, indexDir: indexDir}
	for _, o := range opts {
		o(s)
	}
	if s.seed == nil && !s.noSeed {
		s.seed = Content()
	}
	s.log = s.log.With("component", "knowledge")
	if err := store.Migrate(ctx, db, "knowledge", migrations); err != nil {
		return nil, err
	}
	if !s.noSeed {
		if err := s.seedIfEmpty(ctx); err != nil {
			return nil, err
		}
	}
	idx, err := openIndex(ctx, s, indexDir)
	if err != nil {
		return nil, err
	}
	s.idx = idx
	return s, nil
}

// Close closes the search index. It does not close the database. Close is
// idempotent.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.closeErr = s.idx.close()
	})
	return s.closeErr
}

// ListFilter selects articles for the editor's list.
type ListFilter struct {
	Lang, Status, Queue string
	Query               string // case-insensitive substring of id, title, questions or tags
	IncludeDeleted      bool
	OnlyDeleted         bool
	Offset, Limit       int // Limit <= 0 means all
}

// List returns one page of articles ordered by id, then lang, and the total
// number matching the filter.
func (s *Service) List(ctx context.Context, f ListFilter) ([]Article, int, error) {
	var where []string
	var args []any
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	eq("lang", f.Lang)
	eq("status", f.Status)
	eq("queue", f.Queue)
	switch {
	case f.OnlyDeleted:
		where = append(where, "deleted = 1")
	case !f.IncludeDeleted:
		where = append(where, "deleted = 0")
	}
	sqlText := `SELECT ` + articleColumns + ` FROM kb_articles`
	if len(where) > 0 {
		sqlText += " WHERE " + strings.Join(where, " AND ")
	}
	sqlText += " ORDER BY id, lang"
	rows, err := s.db.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("knowledge: list: %w", err)
	}
	defer rows.Close()
	var all []Article
	// The text filter runs in Go: SQLite's LOWER folds ASCII only, and the
	// editor's list is small enough to scan.
	needle := foldText(strings.ToLower(strings.TrimSpace(f.Query)))
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, 0, err
		}
		if needle != "" && !articleContains(a, needle) {
			continue
		}
		all = append(all, a)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("knowledge: list: %w", err)
	}
	total := len(all)
	lo := min(max(f.Offset, 0), total)
	hi := total
	if f.Limit > 0 {
		hi = min(lo+f.Limit, total)
	}
	page := all[lo:hi]
	if page == nil {
		page = []Article{}
	}
	return page, total, nil
}

func articleContains(a Article, needle string) bool {
	has := func(s string) bool { return strings.Contains(foldText(strings.ToLower(s)), needle) }
	if has(a.ID) || has(a.Title) {
		return true
	}
	for _, q := range a.Questions {
		if has(q) {
			return true
		}
	}
	for _, t := range a.Tags {
		if has(t) {
			return true
		}
	}
	return false
}

// Get returns a live (not deleted) article.
func (s *Service) Get(ctx context.Context, id, lang string) (Article, error) {
	a, err := s.GetAny(ctx, id, lang)
	if err == nil && a.Deleted {
		return Article{}, fmt.Errorf("%w: %s/%s is deleted", ErrNotFound, lang, id)
	}
	return a, err
}

// GetAny returns an article even when it is soft-deleted (for the trash view).
func (s *Service) GetAny(ctx context.Context, id, lang string) (Article, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+articleColumns+` FROM kb_articles WHERE id = ? AND lang = ?`, id, lang)
	a, err := scanArticle(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Article{}, fmt.Errorf("%w: %s/%s", ErrNotFound, lang, id)
	}
	return a, err
}

// Create stores a new article as version 1. An empty status means draft.
func (s *Service) Create(ctx context.Context, a Article, actor string) (Article, error) {
	a = normalize(a)
	if a.Status == "" {
		a.Status = StatusDraft
	}
	if err := a.Validate(); err != nil {
		return Article{}, err
	}
	return s.write(ctx, a.ID, a.Lang, "create", actor, func(cur Article, exists bool) (Article, bool, error) {
		if exists {
			if cur.Deleted {
				return Article{}, false, fmt.Errorf("%w: %s is in the trash; restore it instead", ErrExists, a.Key())
			}
			return Article{}, false, fmt.Errorf("%w: %s", ErrExists, a.Key())
		}
		return a, true, nil
	})
}

// Update replaces the content of an article if its stored version is still
// expectedVersion; otherwise it returns ErrConflict and changes nothing. An
// empty Status keeps the current one. Saving identical content is a no-op
// that returns the stored article without a new version.
func (s *Service) Update(ctx context.Context, a Article, expectedVersion int, actor string) (Article, error) {
	a = normalize(a)
	return s.write(ctx, a.ID, a.Lang, "update", actor, func(cur Article, exists bool) (Article, bool, error) {
		if err := checkLive(cur, exists, expectedVersion); err != nil {
			return Article{}, false, err
		}
		if a.Status == "" {
			a.Status = cur.Status
		}
		if err := a.Validate(); err != nil {
			return Article{}, false, err
		}
		return a, !sameContent(a, cur), nil
	})
}

// Publish makes an article visible to callers.
func (s *Service) Publish(ctx context.Context, id, lang string, expectedVersion int, actor string) (Article, error) {
	return s.setStatus(ctx, id, lang, StatusPublished, "publish", expectedVersion, actor)
}

// Unpublish turns an article back into a draft.
func (s *Service) Unpublish(ctx context.Context, id, lang string, expectedVersion int, actor string) (Article, error) {
	return s.setStatus(ctx, id, lang, StatusDraft, "unpublish", expectedVersion, actor)
}

func (s *Service) setStatus(ctx context.Context, id, lang, status, action string, expectedVersion int, actor string) (Article, error) {
	return s.write(ctx, id, lang, action, actor, func(cur Article, exists bool) (Article, bool, error) {
		if err := checkLive(cur, exists, expectedVersion); err != nil {
			return Article{}, false, err
		}
		next := cur
		next.Status = status
		return next, cur.Status != status, nil
	})
}

// Delete moves an article to the trash (soft delete); Restore brings it back.
func (s *Service) Delete(ctx context.Context, id, lang string, expectedVersion int, actor string) error {
	_, err := s.write(ctx, id, lang, "delete", actor, func(cur Article, exists bool) (Article, bool, error) {
		if err := checkLive(cur, exists, expectedVersion); err != nil {
			return Article{}, false, err
		}
		next := cur
		next.Deleted = true
		return next, true, nil
	})
	return err
}

// Restore undeletes an article as a new version. Restoring an article that
// is not in the trash returns ErrNotDeleted.
func (s *Service) Restore(ctx context.Context, id, lang string, actor string) (Article, error) {
	return s.write(ctx, id, lang, "restore", actor, func(cur Article, exists bool) (Article, bool, error) {
		if !exists {
			return Article{}, false, fmt.Errorf("%w: %s/%s", ErrNotFound, lang, id)
		}
		if !cur.Deleted {
			return Article{}, false, fmt.Errorf("%w: %s", ErrNotDeleted, cur.Key())
		}
		next := cur
		next.Deleted = false
		return next, true, nil
	})
}

// Revert saves the content of an old version as a new version.
func (s *Service) Revert(ctx context.Context, id, lang string, toVersion, expectedVersion int, actor string) (Article, error) {
	rev, err := s.Revision(ctx, id, lang, toVersion)
	if err != nil {
		return Article{}, err
	}
	return s.write(ctx, id, lang, "revert", actor, func(cur Article, exists bool) (Article, bool, error) {
		if err := checkLive(cur, exists, expectedVersion); err != nil {
			return Article{}, false, err
		}
		next := rev.Article
		next.Deleted = false
		return next, !sameContent(next, cur), nil
	})
}

// checkLive is the common precondition of edits: the article exists, is
// not in the trash and nobody changed it since the editor loaded it.
func checkLive(cur Article, exists bool, expectedVersion int) error {
	if !exists || cur.Deleted {
		return fmt.Errorf("%w: %s", ErrNotFound, cur.Key())
	}
	if cur.Version != expectedVersion {
		return fmt.Errorf("%w: %s is at version %d, you edited version %d", ErrConflict, cur.Key(), cur.Version, expectedVersion)
	}
	return nil
}

// write runs one change as a transaction: load the current row, let change
// compute the next state, save it as version+1 with a revision, bump the
// generation, commit, then update the index. change returns changed=false
// for a no-op, in which case nothing is written.
func (s *Service) write(ctx context.Context, id, lang, action, actor string,
	change func(cur Article, exists bool) (next Article, changed bool, err error)) (Article, error) {
	committed := false
	defer func() { // runs after the unlock below
		if committed && s.onChange != nil {
			s.onChange(id, lang)
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idx != nil && s.idx.isClosed() {
		return Article{}, ErrClosed
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Article{}, fmt.Errorf("knowledge: begin: %w", err)
	}
	defer tx.Rollback()
	// Take SQLite's write lock first: a read-then-write transaction could
	// fail with SQLITE_BUSY if another component commits in between.
	gen, err := bumpGeneration(ctx, tx)
	if err != nil {
		return Article{}, err
	}
	cur, err := scanArticle(tx.QueryRowContext(ctx, `SELECT `+articleColumns+` FROM kb_articles WHERE id = ? AND lang = ?`, id, lang))
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Article{}, err
	}
	if !exists {
		cur = Article{ID: id, Lang: lang}
	}
	next, changed, err := change(cur, exists)
	if err != nil {
		return Article{}, err
	}
	if !changed {
		return cur, nil
	}
	now := s.now().UTC()
	next.ID, next.Lang = id, lang
	next.Version = cur.Version + 1
	next.UpdatedBy = actor
	next.UpdatedAt = now
	next.CreatedAt = cur.CreatedAt
	if !exists {
		next.CreatedAt = now
	}
	if err := saveArticle(ctx, tx, next, action, actor); err != nil {
		return Article{}, err
	}
	if err := tx.Commit(); err != nil {
		return Article{}, fmt.Errorf("knowledge: commit: %w", err)
	}
	committed = true
	s.idx.apply(gen, next)
	return next, nil
}

func bumpGeneration(ctx context.Context, tx *sql.Tx) (int64, error) {
	var gen int64
	err := tx.QueryRowContext(ctx,
		`UPDATE kb_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation' RETURNING CAST(value AS INTEGER)`).Scan(&gen)
	if err != nil {
		return 0, fmt.Errorf("knowledge: bump generation: %w", err)
	}
	return gen, nil
}

func readGeneration(ctx context.Context, db *sql.DB) (int64, error) {
	var gen int64
	err := db.QueryRowContext(ctx, `SELECT CAST(value AS INTEGER) FROM kb_meta WHERE key = 'generation'`).Scan(&gen)
	if err != nil {
		return 0, fmt.Errorf("knowledge: read generation: %w", err)
	}
	return gen, nil
}

const articleColumns = `id, lang, title, queue, tags, questions, spoken, body, status, version, updated_by, updated_at, created_at, deleted`

type rowScanner interface{ Scan(dest ...any) error }

func scanArticle(r rowScanner) (Article, error) {
	var a Article
	var tags, questions, updated, created string
	err := r.Scan(&a.ID, &a.Lang, &a.Title, &a.Queue, &tags, &questions, &a.Spoken, &a.Body,
		&a.Status, &a.Version, &a.UpdatedBy, &updated, &created, &a.Deleted)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Article{}, err
		}
		return Article{}, fmt.Errorf("knowledge: read article: %w", err)
	}
	if err := json.Unmarshal([]byte(tags), &a.Tags); err != nil {
		return Article{}, fmt.Errorf("knowledge: %s: tags: %w", a.Key(), err)
	}
	if err := json.Unmarshal([]byte(questions), &a.Questions); err != nil {
		return Article{}, fmt.Errorf("knowledge: %s: questions: %w", a.Key(), err)
	}
	a.UpdatedAt, _ = time.Parse(time.RFC3339Nano, updated)
	a.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	return a, nil
}

// saveArticle upserts the current row and appends the revision.
func saveArticle(ctx context.Context, tx *sql.Tx, a Article, action, actor string) error {
	tags, _ := json.Marshal(nonNil(a.Tags))
	questions, _ := json.Marshal(nonNil(a.Questions))
	_, err := tx.ExecContext(ctx, `INSERT INTO kb_articles (`+articleColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id, lang) DO UPDATE SET title = excluded.title, queue = excluded.queue,
			tags = excluded.tags, questions = excluded.questions, spoken = excluded.spoken,
			body = excluded.body, status = excluded.status, version = excluded.version,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at, deleted = excluded.deleted`,
		a.ID, a.Lang, a.Title, a.Queue, string(tags), string(questions), a.Spoken, a.Body, a.Status,
		a.Version, a.UpdatedBy, a.UpdatedAt.Format(time.RFC3339Nano), a.CreatedAt.Format(time.RFC3339Nano), a.Deleted)
	if err != nil {
		return fmt.Errorf("knowledge: save %s: %w", a.Key(), err)
	}
	snapshot, _ := json.Marshal(a)
	_, err = tx.ExecContext(ctx, `INSERT INTO kb_revisions (id, lang, version, action, actor, at, article) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Lang, a.Version, action, actor, a.UpdatedAt.Format(time.RFC3339Nano), string(snapshot))
	if err != nil {
		return fmt.Errorf("knowledge: save revision of %s: %w", a.Key(), err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// loadLive returns every non-deleted article, for (re)building the index.
func loadLive(ctx context.Context, db *sql.DB) ([]Article, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+articleColumns+` FROM kb_articles WHERE deleted = 0 ORDER BY id, lang`)
	if err != nil {
		return nil, fmt.Errorf("knowledge: load articles: %w", err)
	}
	defer rows.Close()
	var out []Article
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
