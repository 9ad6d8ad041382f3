package knowledge

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Revision is one saved version of an article and what produced it:
// create, update, publish, unpublish, delete, restore, revert or import.
type Revision struct {
	Version int       `json:"version"`
	Article Article   `json:"article"`
	Action  string    `json:"action"`
	Actor   string    `json:"actor"`
	At      time.Time `json:"at"`
}

// History lists every version of an article, newest first.
func (s *Service) History(ctx context.Context, id, lang string) ([]Revision, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, action, actor, at, article FROM kb_revisions
		WHERE id = ? AND lang = ? ORDER BY version DESC`, id, lang)
	if err != nil {
		return nil, fmt.Errorf("knowledge: history: %w", err)
	}
	defer rows.Close()
	var out []Revision
	for rows.Next() {
		r, err := scanRevision(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("knowledge: history: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s/%s", ErrNotFound, lang, id)
	}
	return out, nil
}

// Revision returns one version of an article.
func (s *Service) Revision(ctx context.Context, id, lang string, version int) (Revision, error) {
	r, err := scanRevision(s.db.QueryRowContext(ctx, `SELECT version, action, actor, at, article FROM kb_revisions
		WHERE id = ? AND lang = ? AND version = ?`, id, lang, version))
	if errors.Is(err, sql.ErrNoRows) {
		return Revision{}, fmt.Errorf("%w: %s/%s version %d", ErrNotFound, lang, id, version)
	}
	return r, err
}

func scanRevision(r rowScanner) (Revision, error) {
	var rev Revision
	var at, snapshot string
	if err := r.Scan(&rev.Version, &rev.Action, &rev.Actor, &at, &snapshot); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Revision{}, err
		}
		return Revision{}, fmt.Errorf("knowledge: read revision: %w", err)
	}
	if err := json.Unmarshal([]byte(snapshot), &rev.Article); err != nil {
		return Revision{}, fmt.Errorf("knowledge: read revision %d: %w", rev.Version, err)
	}
	rev.At, _ = time.Parse(time.RFC3339Nano, at)
	return rev, nil
}

// FieldDiff is one changed field. For multi-line text (body, questions,
// tags) Lines holds a line diff with "-", "+" and " " prefixes.
type FieldDiff struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
	Lines string `json:"lines,omitempty"`
}

// Diff lists the content fields that differ between two versions, in file
// order. Metadata (version, timestamps, author) is not compared, except
// Deleted, which the history view needs to show.
func Diff(old, new Article) []FieldDiff {
	var out []FieldDiff
	text := func(field, o, n string, lines bool) {
		if o == n {
			return
		}
		d := FieldDiff{Field: field, Old: o, New: n}
		if lines || strings.Contains(o, "\n") || strings.Contains(n, "\n") {
			d.Lines = LineDiff(o, n)
		}
		out = append(out, d)
	}
	text("id", old.ID, new.ID, false)
	text("lang", old.Lang, new.Lang, false)
	text("title", old.Title, new.Title, false)
	text("queue", old.Queue, new.Queue, false)
	if !slices.Equal(old.Tags, new.Tags) {
		text("tags", strings.Join(old.Tags, "\n"), strings.Join(new.Tags, "\n"), true)
	}
	if !slices.Equal(old.Questions, new.Questions) {
		text("questions", strings.Join(old.Questions, "\n"), strings.Join(new.Questions, "\n"), true)
	}
	text("spoken", old.Spoken, new.Spoken, false)
	text("status", old.Status, new.Status, false)
	text("body", old.Body, new.Body, true)
	if old.Deleted != new.Deleted {
		out = append(out, FieldDiff{Field: "deleted", Old: fmt.Sprint(old.Deleted), New: fmt.Sprint(new.Deleted)})
	}
	return out
}

// LineDiff is a unified-style diff of two texts without hunk headers: every
// line is prefixed with " " (kept), "-" (removed) or "+" (added). It uses
// the longest common subsequence of lines, which is quadratic but fine for
// articles of at most a few hundred lines.
func LineDiff(old, new string) string {
	a, b := splitLines(old), splitLines(new)
	// lcs[i][j] = LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var sb strings.Builder
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			sb.WriteString("  " + a[i] + "\n")
			i++
			j++
		case j < len(b) && (i == len(a) || lcs[i][j+1] > lcs[i+1][j]):
			sb.WriteString("+ " + b[j] + "\n")
			j++
		default:
			sb.WriteString("- " + a[i] + "\n")
			i++
		}
	}
	return sb.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
