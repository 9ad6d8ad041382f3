// Package sqlitestore keeps appeals in the embedded SQLite database
// (modernc.org/sqlite, opened by package store with WAL and foreign keys).
//
// Durability: every write is one transaction. Creating an appeal also sets
// synchronous=FULL on its connection, so an acknowledged appeal survives a
// power cut as well as a process crash (with WAL, NORMAL already survives a
// crash of the process).
package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/store"
)

var migrations = []store.Migration{{Name: "appeals", SQL: `
CREATE TABLE appeals (
	number        TEXT PRIMARY KEY,
	channel       TEXT NOT NULL,
	lang          TEXT NOT NULL,
	queue         TEXT NOT NULL,
	intent        TEXT NOT NULL DEFAULT '',
	region        TEXT NOT NULL DEFAULT '',
	subject       TEXT NOT NULL DEFAULT '',
	slots         TEXT NOT NULL DEFAULT '{}',
	articles      TEXT NOT NULL DEFAULT '[]',
	contact       BLOB,
	key_id        TEXT NOT NULL DEFAULT '',
	phone_hash    TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL,
	status_reason TEXT NOT NULL DEFAULT '',
	status_since  INTEGER NOT NULL,
	deadline      INTEGER,
	escalated_at  INTEGER,
	turn_count    INTEGER NOT NULL DEFAULT 0,
	turn_bytes    INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
);
CREATE INDEX appeals_created ON appeals(created_at);
CREATE INDEX appeals_status_deadline ON appeals(status, deadline);
CREATE INDEX appeals_phone ON appeals(phone_hash) WHERE phone_hash <> '';
CREATE TABLE appeal_history (
	id          INTEGER PRIMARY KEY,
	number      TEXT NOT NULL REFERENCES appeals(number) ON DELETE CASCADE,
	from_status TEXT NOT NULL DEFAULT '',
	to_status   TEXT NOT NULL,
	actor       TEXT NOT NULL,
	at          INTEGER NOT NULL,
	reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX appeal_history_number ON appeal_history(number);
CREATE TABLE appeal_notes (
	id     INTEGER PRIMARY KEY,
	number TEXT NOT NULL REFERENCES appeals(number) ON DELETE CASCADE,
	at     INTEGER NOT NULL,
	author TEXT NOT NULL,
	text   TEXT NOT NULL
);
CREATE INDEX appeal_notes_number ON appeal_notes(number);
CREATE TABLE appeal_transcript (
	id      INTEGER PRIMARY KEY,
	number  TEXT NOT NULL REFERENCES appeals(number) ON DELETE CASCADE,
	at      INTEGER NOT NULL,
	speaker TEXT NOT NULL,
	text    TEXT NOT NULL
);
CREATE INDEX appeal_transcript_number ON appeal_transcript(number);
CREATE TABLE appeal_idempotency (
	key          TEXT PRIMARY KEY,
	payload_hash TEXT NOT NULL,
	number       TEXT NOT NULL REFERENCES appeals(number) ON DELETE CASCADE,
	created_at   INTEGER NOT NULL
);
`}}

// Store is the SQLite appeal.Repository.
type Store struct{ db *sql.DB }

var _ appeal.Repository = (*Store)(nil)

// New applies the appeals schema to db and returns the store. The caller
// keeps ownership of db.
func New(ctx context.Context, db *sql.DB) (*Store, error) {
	if err := store.Migrate(ctx, db, "appeals", migrations); err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

func ts(t time.Time) int64 { return t.UnixNano() }

func fromTS(n int64) time.Time { return time.Unix(0, n).UTC() }

func nullTS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixNano()
}

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// Create implements appeal.Repository.
func (s *Store) Create(ctx context.Context, r appeal.Record, first appeal.HistoryEntry, idem appeal.Idempotency) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous=FULL`); err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	slots, _ := json.Marshal(nonNilMap(r.Slots))
	articles, _ := json.Marshal(nonNilSlice(r.Articles))
	bytes := 0
	for _, t := range r.Transcript {
		bytes += len(t.Text)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO appeals (number, channel, lang, queue, intent, region, subject,
		slots, articles, contact, key_id, phone_hash, status, status_since, deadline, turn_count, turn_bytes,
		created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.Number, r.Channel, r.Lang, r.Queue, r.Intent, r.Region, r.Subject, string(slots), string(articles),
		r.SealedContact, r.KeyID, r.PhoneHash, r.Status, ts(r.StatusSince), nullTS(r.Deadline),
		len(r.Transcript), bytes, ts(r.CreatedAt), ts(r.UpdatedAt))
	if isUnique(err) {
		return appeal.ErrDuplicateNumber
	}
	if err != nil {
		return err
	}
	if err := insertHistory(ctx, tx, r.Number, first); err != nil {
		return err
	}
	if err := insertTurns(ctx, tx, r.Number, r.Transcript); err != nil {
		return err
	}
	if idem.Key != "" {
		_, err = tx.ExecContext(ctx, `INSERT INTO appeal_idempotency (key, payload_hash, number, created_at) VALUES (?,?,?,?)`,
			idem.Key, idem.PayloadHash, r.Number, ts(idem.CreatedAt))
		if isUnique(err) {
			return appeal.ErrDuplicateKey
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertHistory(ctx context.Context, tx execer, number string, h appeal.HistoryEntry) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO appeal_history (number, from_status, to_status, actor, at, reason) VALUES (?,?,?,?,?,?)`,
		number, h.From, h.To, h.Actor, ts(h.At), h.Reason)
	return err
}

func insertTurns(ctx context.Context, tx execer, number string, turns []appeal.TranscriptTurn) error {
	for _, t := range turns {
		if _, err := tx.ExecContext(ctx, `INSERT INTO appeal_transcript (number, at, speaker, text) VALUES (?,?,?,?)`,
			number, ts(t.At), t.Speaker, t.Text); err != nil {
			return err
		}
	}
	return nil
}

// Idempotency implements appeal.Repository.
func (s *Store) Idempotency(ctx context.Context, key string) (appeal.Idempotency, error) {
	var i appeal.Idempotency
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT key, payload_hash, number, created_at FROM appeal_idempotency WHERE key = ?`, key).
		Scan(&i.Key, &i.PayloadHash, &i.Number, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return i, appeal.ErrNotFound
	}
	i.CreatedAt = fromTS(at)
	return i, err
}

const columns = `number, channel, lang, queue, intent, region, subject, slots, articles, contact, key_id,
	phone_hash, status, status_reason, status_since, deadline, escalated_at, turn_count, turn_bytes, created_at, updated_at`

func scan(row interface{ Scan(...any) error }) (appeal.Record, error) {
	var r appeal.Record
	var slots, articles string
	var since, created, updated int64
	var deadline, escalated sql.NullInt64
	err := row.Scan(&r.Number, &r.Channel, &r.Lang, &r.Queue, &r.Intent, &r.Region, &r.Subject, &slots, &articles,
		&r.SealedContact, &r.KeyID, &r.PhoneHash, &r.Status, &r.StatusReason, &since, &deadline, &escalated,
		&r.TurnCount, &r.TurnBytes, &created, &updated)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(slots), &r.Slots); err != nil {
		return r, fmt.Errorf("sqlitestore: slots of %s: %w", r.Number, err)
	}
	if err := json.Unmarshal([]byte(articles), &r.Articles); err != nil {
		return r, fmt.Errorf("sqlitestore: articles of %s: %w", r.Number, err)
	}
	if len(r.Slots) == 0 {
		r.Slots = nil
	}
	if len(r.Articles) == 0 {
		r.Articles = nil
	}
	r.StatusSince, r.CreatedAt, r.UpdatedAt = fromTS(since), fromTS(created), fromTS(updated)
	if deadline.Valid {
		t := fromTS(deadline.Int64)
		r.Deadline = &t
	}
	if escalated.Valid {
		t := fromTS(escalated.Int64)
		r.EscalatedAt = &t
	}
	return r, nil
}

// Get implements appeal.Repository.
func (s *Store) Get(ctx context.Context, number string) (appeal.Record, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return appeal.Record{}, err
	}
	defer tx.Rollback()
	r, err := scan(tx.QueryRowContext(ctx, `SELECT `+columns+` FROM appeals WHERE number = ?`, number))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%w: %s", appeal.ErrNotFound, number)
	}
	if err != nil {
		return r, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT from_status, to_status, actor, at, reason FROM appeal_history WHERE number = ? ORDER BY id`, number)
	if err != nil {
		return r, err
	}
	for rows.Next() {
		var h appeal.HistoryEntry
		var at int64
		if err := rows.Scan(&h.From, &h.To, &h.Actor, &at, &h.Reason); err != nil {
			rows.Close()
			return r, err
		}
		h.At = fromTS(at)
		r.History = append(r.History, h)
	}
	rows.Close()
	if rows, err = tx.QueryContext(ctx, `SELECT at, author, text FROM appeal_notes WHERE number = ? ORDER BY id`, number); err != nil {
		return r, err
	}
	for rows.Next() {
		var n appeal.Note
		var at int64
		if err := rows.Scan(&at, &n.Author, &n.Text); err != nil {
			rows.Close()
			return r, err
		}
		n.At = fromTS(at)
		r.Notes = append(r.Notes, n)
	}
	rows.Close()
	if rows, err = tx.QueryContext(ctx, `SELECT at, speaker, text FROM appeal_transcript WHERE number = ? ORDER BY id`, number); err != nil {
		return r, err
	}
	for rows.Next() {
		var t appeal.TranscriptTurn
		var at int64
		if err := rows.Scan(&at, &t.Speaker, &t.Text); err != nil {
			rows.Close()
			return r, err
		}
		t.At = fromTS(at)
		r.Transcript = append(r.Transcript, t)
	}
	rows.Close()
	return r, rows.Err()
}

// List implements appeal.Repository.
func (s *Store) List(ctx context.Context, f appeal.Filter) ([]appeal.Record, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Queue != "" {
		where, args = append(where, "queue = ?"), append(args, f.Queue)
	}
	if f.Channel != "" {
		where, args = append(where, "channel = ?"), append(args, f.Channel)
	}
	if f.Escalated {
		where = append(where, "escalated_at IS NOT NULL")
	}
	if f.Open {
		where = append(where, "status NOT IN ('done', 'rejected')")
	}
	if !f.Since.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, ts(f.Since))
	}
	q := `SELECT ` + columns + ` FROM appeals`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, number LIMIT ? OFFSET ?"
	args = append(args, f.Limit, f.Offset)
	return s.query(ctx, q, args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]appeal.Record, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []appeal.Record
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ChangeStatus implements appeal.Repository.
func (s *Store) ChangeStatus(ctx context.Context, number string, from appeal.Status, h appeal.HistoryEntry, deadline *time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE appeals SET status = ?, status_reason = ?, status_since = ?, deadline = ?,
		escalated_at = NULL, updated_at = ? WHERE number = ? AND status = ?`,
		h.To, h.Reason, ts(h.At), nullTS(deadline), ts(h.At), number, from)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if err := s.exists(ctx, tx, number); err != nil {
			return err
		}
		return appeal.ErrStale
	}
	if err := insertHistory(ctx, tx, number, h); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *Store) exists(ctx context.Context, tx *sql.Tx, number string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM appeals WHERE number = ?`, number).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", appeal.ErrNotFound, number)
	}
	return err
}

// AddNote implements appeal.Repository.
func (s *Store) AddNote(ctx context.Context, number string, n appeal.Note) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.exists(ctx, tx, number); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO appeal_notes (number, at, author, text) VALUES (?,?,?,?)`,
		number, ts(n.At), n.Author, n.Text); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE appeals SET updated_at = ? WHERE number = ?`, ts(n.At), number); err != nil {
		return err
	}
	return tx.Commit()
}

// AppendTranscript implements appeal.Repository.
func (s *Store) AppendTranscript(ctx context.Context, number string, turns []appeal.TranscriptTurn, maxTurns, maxBytes int) error {
	bytes := 0
	for _, t := range turns {
		bytes += len(t.Text)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE appeals SET turn_count = turn_count + ?, turn_bytes = turn_bytes + ?, updated_at = ?
		WHERE number = ? AND turn_count + ? <= ? AND turn_bytes + ? <= ?`,
		len(turns), bytes, ts(time.Now()), number, len(turns), maxTurns, bytes, maxBytes)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if err := s.exists(ctx, tx, number); err != nil {
			return err
		}
		return fmt.Errorf("%w: appending %d turns (%d bytes) to %s would pass %d turns or %d bytes",
			appeal.ErrTranscriptTooLarge, len(turns), bytes, number, maxTurns, maxBytes)
	}
	if err := insertTurns(ctx, tx, number, turns); err != nil {
		return err
	}
	return tx.Commit()
}

// Overdue implements appeal.Repository.
func (s *Store) Overdue(ctx context.Context, now time.Time, limit int) ([]appeal.Record, error) {
	return s.query(ctx, `SELECT `+columns+` FROM appeals
		WHERE status IN ('accepted', 'in_progress', 'under_approval') AND deadline < ? AND escalated_at IS NULL
		ORDER BY deadline LIMIT ?`, ts(now), limit)
}

// MarkEscalated implements appeal.Repository.
func (s *Store) MarkEscalated(ctx context.Context, number string, status appeal.Status, at time.Time, note appeal.Note) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE appeals SET escalated_at = ?, updated_at = ? WHERE number = ? AND status = ? AND escalated_at IS NULL`,
		ts(at), ts(at), number, status)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO appeal_notes (number, at, author, text) VALUES (?,?,?,?)`,
		number, ts(note.At), note.Author, note.Text); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// OpenByPhoneHash implements appeal.Repository.
func (s *Store) OpenByPhoneHash(ctx context.Context, hash string) ([]string, int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT number, status FROM appeals WHERE phone_hash = ? ORDER BY created_at DESC LIMIT 200`, hash)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var open []string
	total := 0
	for rows.Next() {
		var n string
		var st appeal.Status
		if err := rows.Scan(&n, &st); err != nil {
			return nil, 0, err
		}
		total++
		if !st.Final() {
			open = append(open, n)
		}
	}
	return open, total, rows.Err()
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
