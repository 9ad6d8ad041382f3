package knowledge

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// ImportReport says what an import did, or why it did nothing.
type ImportReport struct {
	Created   []string     `json:"created"`   // "lang/id"
	Updated   []string     `json:"updated"`   // "lang/id"
	Unchanged []string     `json:"unchanged"` // "lang/id"
	Skipped   []string     `json:"skipped"`   // files that are not "<lang>/<id>.md"
	Errors    []FieldError `json:"errors"`    // non-empty means nothing was imported
}

// Import stores a set of article files ("<lang>/<id>.md", any leading
// folders allowed) all or nothing. Every file is parsed and validated first;
// if any fails, nothing changes and the report lists each file and field
// (the error matches ErrInvalid). Otherwise new articles are created and
// existing ones (also from the trash) updated, each with an "import"
// revision, in one transaction.
func (s *Service) Import(ctx context.Context, files map[string][]byte, actor string) (ImportReport, error) {
	rep := ImportReport{Created: []string{}, Updated: []string{}, Unchanged: []string{}, Skipped: []string{}}
	arts, errs := parseFiles(files, &rep.Skipped)
	if len(errs) > 0 {
		rep.Errors = errs
		return rep, fmt.Errorf("%w: %d problem(s) in the files, nothing imported", ErrInvalid, len(errs))
	}
	var changed []Article
	defer func() { // runs after the unlock below; changed is set only on commit
		if s.onChange != nil {
			for _, a := range changed {
				s.onChange(a.ID, a.Lang)
			}
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idx != nil && s.idx.isClosed() {
		return rep, ErrClosed
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return rep, fmt.Errorf("knowledge: import: %w", err)
	}
	defer tx.Rollback()
	gen, err := bumpGeneration(ctx, tx)
	if err != nil {
		return rep, err
	}
	now := s.now().UTC()
	var written []Article
	for _, a := range arts {
		cur, err := scanArticle(tx.QueryRowContext(ctx, `SELECT `+articleColumns+` FROM kb_articles WHERE id = ? AND lang = ?`, a.ID, a.Lang))
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return rep, err
		}
		if exists && !cur.Deleted && sameContent(cur, a) {
			rep.Unchanged = append(rep.Unchanged, a.Key())
			continue
		}
		a.Version, a.UpdatedBy, a.UpdatedAt, a.CreatedAt = 1, actor, now, now
		action := "create"
		if exists {
			a.Version, a.CreatedAt, action = cur.Version+1, cur.CreatedAt, "import"
			rep.Updated = append(rep.Updated, a.Key())
		} else {
			rep.Created = append(rep.Created, a.Key())
		}
		if err := saveArticle(ctx, tx, a, action, actor); err != nil {
			return rep, err
		}
		written = append(written, a)
	}
	if err := tx.Commit(); err != nil {
		return rep, fmt.Errorf("knowledge: import: commit: %w", err)
	}
	changed = written
	if s.idx != nil {
		s.idx.apply(gen, changed...)
	}
	return rep, nil
}

// parseFiles parses and validates every article file, collecting all
// problems rather than stopping at the first.
func parseFiles(files map[string][]byte, skipped *[]string) ([]Article, []FieldError) {
	var arts []Article
	var errs []FieldError
	seen := map[string]string{}
	for _, name := range sortedKeys(files) {
		if !isArticlePath(name) {
			*skipped = append(*skipped, name)
			continue
		}
		a, err := ParseArticle(name, files[name])
		var fe *FieldError
		if errors.As(err, &fe) {
			errs = append(errs, *fe)
			continue
		} else if err != nil {
			errs = append(errs, FieldError{File: name, Msg: err.Error()})
			continue
		}
		var ve *ValidationError
		if errors.As(a.Validate(), &ve) {
			for _, p := range ve.Problems {
				errs = append(errs, FieldError{File: name, Field: p.Field, Msg: p.Msg})
			}
			continue
		}
		if other, dup := seen[a.Key()]; dup {
			errs = append(errs, FieldError{File: name, Field: "id", Msg: fmt.Sprintf("%s is also defined in %s", a.Key(), other)})
			continue
		}
		seen[a.Key()] = name
		arts = append(arts, a)
	}
	return arts, errs
}

// Export returns every live article as "<lang>/<id>.md" → file contents.
// Import(Export()) restores the same content.
func (s *Service) Export(ctx context.Context) (map[string][]byte, error) {
	arts, err := loadLive(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(arts))
	for _, a := range arts {
		out[a.Lang+"/"+a.ID+".md"] = FormatArticle(a)
	}
	return out, nil
}

// ExportZip writes Export as a zip archive.
func (s *Service) ExportZip(ctx context.Context, w io.Writer) error {
	files, err := s.Export(ctx)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, name := range sortedKeys(files) {
		f, err := zw.Create(name)
		if err != nil {
			return fmt.Errorf("knowledge: export zip: %w", err)
		}
		if _, err := f.Write(files[name]); err != nil {
			return fmt.Errorf("knowledge: export zip: %w", err)
		}
	}
	return zw.Close()
}

// MaxImportSize bounds what ImportZip will decompress, against zip bombs.
const MaxImportSize = 64 << 20

// ImportZip reads a zip archive of article files and imports it like Import.
func (s *Service) ImportZip(ctx context.Context, data []byte, actor string) (ImportReport, error) {
	files, err := ReadZip(data)
	if err != nil {
		return ImportReport{}, err
	}
	return s.Import(ctx, files, actor)
}

// ReadZip unpacks the regular files of a zip archive (at most MaxImportSize
// bytes in total). Paths are cleaned; absolute and ".." paths are rejected.
func ReadZip(data []byte) (map[string][]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: not a zip archive: %v", ErrInvalid, err)
	}
	files := map[string][]byte{}
	var total int64
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		name := path.Clean(strings.ReplaceAll(f.Name, "\\", "/"))
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return nil, fmt.Errorf("%w: unsafe path %q in zip", ErrInvalid, f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, f.Name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, MaxImportSize-total+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, f.Name, err)
		}
		total += int64(len(b))
		if total > MaxImportSize {
			return nil, fmt.Errorf("%w: archive is larger than %d bytes uncompressed", ErrInvalid, MaxImportSize)
		}
		files[name] = b
	}
	return files, nil
}

// seedIfEmpty loads the seed content into an empty knowledge base, as
// version 1 by "system". Files that fail to parse are logged and skipped so
// that one bad article cannot keep the service from starting.
func (s *Service) seedIfEmpty(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM kb_articles`).Scan(&n); err != nil {
		return fmt.Errorf("knowledge: count articles: %w", err)
	}
	if n > 0 || s.seed == nil {
		return nil
	}
	files, err := articleFiles(s.seed)
	if err != nil {
		return fmt.Errorf("knowledge: read seed content: %w", err)
	}
	var skipped []string
	_, errs := parseFiles(files, &skipped)
	for _, e := range errs {
		s.log.Error("seed article rejected", "file", e.File, "field", e.Field, "error", e.Msg)
		delete(files, e.File)
	}
	rep, err := s.Import(ctx, files, "system")
	if err != nil {
		return fmt.Errorf("knowledge: seed: %w", err)
	}
	s.log.Info("seeded knowledge base", "articles", len(rep.Created), "rejected", len(errs))
	return nil
}
