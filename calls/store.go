package calls

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hotline-ivr/hotline/store"
)

// Call is one call's record.
type Call struct {
	ID        string     `json:"id"`
	Channel   string     `json:"channel"` // "sip", "webrtc"
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	// Caller is the caller's number masked (only its last digits).
	Caller string `json:"caller,omitempty"`
	Codec  string `json:"codec,omitempty"`
	Lang   string `json:"lang,omitempty"`
	// Reason is how the call ended: a bot reason (goodbye, handoff,
	// no_input, ...), hangup, canceled, transferred, callback, error.
	Reason       string `json:"reason,omitempty"`
	AppealNumber string `json:"appeal_number,omitempty"`
	// Handoff is set when the bot handed the caller to a person.
	Handoff   *HandoffRecord `json:"handoff,omitempty"`
	FramesIn  int            `json:"frames_in"`
	FramesOut int            `json:"frames_out"`
	// PacketsIn/Out are RTP packets when the channel reports them.
	PacketsIn  uint64 `json:"packets_in"`
	PacketsOut uint64 `json:"packets_out"`
	BargeIns   int    `json:"barge_ins"`
	Error      string `json:"error,omitempty"`
	Turns      []Turn `json:"turns,omitempty"`
}

// HandoffRecord is what happened to a handoff.
type HandoffRecord struct {
	Queue     string `json:"queue"`
	Mode      string `json:"mode"` // refer or bridge
	HandoffID string `json:"handoff_id,omitempty"`
	// ReferTo is the address the call was transferred to (refer).
	ReferTo string `json:"refer_to,omitempty"`
	// Outcome: transferred, transfer_failed, callback, ... .
	Outcome string `json:"outcome"`
	// CallbackAppeal is the callback request created when the caller
	// could not be handed over.
	CallbackAppeal string `json:"callback_appeal,omitempty"`
	EstimatedWaitS int    `json:"estimated_wait_s,omitempty"`
	// Agent is the agent's part of a bridged call.
	Agent *AgentSegment `json:"agent,omitempty"`
}

// Turn is one line of the call's transcript. Caller turns carry the
// pipeline's latencies for that input (milliseconds).
type Turn struct {
	Seq      int       `json:"seq"`
	At       time.Time `json:"at"`
	Speaker  string    `json:"speaker"` // caller, bot, agent, system
	Text     string    `json:"text"`
	Intent   string    `json:"intent,omitempty"`
	Lang     string    `json:"lang,omitempty"`
	Partials []Partial `json:"partials,omitempty"`
	// Latencies of a caller turn (see voice.Turn); zero when unknown.
	EndpointingMs   int64 `json:"endpointing_ms,omitempty"`
	RecognitionMs   int64 `json:"recognition_ms,omitempty"`
	UnderstandingMs int64 `json:"understanding_ms,omitempty"`
	WaitingMs       int64 `json:"waiting_ms,omitempty"`
	SynthesisMs     int64 `json:"synthesis_ms,omitempty"`
	VoiceToVoiceMs  int64 `json:"voice_to_voice_ms,omitempty"`
	// LatencyMs of a bot turn: the caller's input to the reply text.
	LatencyMs int64 `json:"latency_ms,omitempty"`
	BargeIn   bool  `json:"barge_in,omitempty"`
}

// Partial is an interim recognition result and when it came.
type Partial struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

// Filter selects calls for List. Zero fields match everything.
type Filter struct {
	Channel string
	Reason  string
	Since   time.Time
	Until   time.Time
	Limit   int // default 50, at most 500
	Offset  int
}

var migrations = []store.Migration{{
	Name: "calls and turns",
	SQL: `CREATE TABLE calls (
		id TEXT PRIMARY KEY,
		channel TEXT NOT NULL,
		started_at TEXT NOT NULL,
		ended_at TEXT,
		caller TEXT NOT NULL DEFAULT '',
		codec TEXT NOT NULL DEFAULT '',
		lang TEXT NOT NULL DEFAULT '',
		reason TEXT NOT NULL DEFAULT '',
		appeal_number TEXT NOT NULL DEFAULT '',
		handoff TEXT,
		frames_in INTEGER NOT NULL DEFAULT 0,
		frames_out INTEGER NOT NULL DEFAULT 0,
		packets_in INTEGER NOT NULL DEFAULT 0,
		packets_out INTEGER NOT NULL DEFAULT 0,
		barge_ins INTEGER NOT NULL DEFAULT 0,
		error TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX calls_started ON calls (started_at);
	CREATE TABLE call_turns (
		call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
		seq INTEGER NOT NULL,
		at TEXT NOT NULL,
		speaker TEXT NOT NULL,
		text TEXT NOT NULL,
		intent TEXT NOT NULL DEFAULT '',
		lang TEXT NOT NULL DEFAULT '',
		partials TEXT,
		endpointing_ms INTEGER NOT NULL DEFAULT 0,
		recognition_ms INTEGER NOT NULL DEFAULT 0,
		understanding_ms INTEGER NOT NULL DEFAULT 0,
		waiting_ms INTEGER NOT NULL DEFAULT 0,
		synthesis_ms INTEGER NOT NULL DEFAULT 0,
		voice_to_voice_ms INTEGER NOT NULL DEFAULT 0,
		latency_ms INTEGER NOT NULL DEFAULT 0,
		barge_in INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (call_id, seq)
	);`,
}}

// Store keeps call records in the SQLite database.
type Store struct{ db *sql.DB }

// OpenStore migrates the calls tables on db.
func OpenStore(ctx context.Context, db *sql.DB) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: a database", ErrMissingDependency)
	}
	if err := store.Migrate(ctx, db, "calls", migrations); err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

func fmtTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// Start records a call that has just been answered, so that live calls
// show up in the list at once.
func (s *Store) Start(ctx context.Context, c Call) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO calls (id, channel, started_at, caller, codec, lang)
		VALUES (?, ?, ?, ?, ?, ?)`, c.ID, c.Channel, fmtTime(c.StartedAt), c.Caller, c.Codec, c.Lang)
	if err != nil {
		return fmt.Errorf("calls: record start of %s: %w", c.ID, err)
	}
	return nil
}

// Finish writes the ended call and its turns (replacing any turns).
func (s *Store) Finish(ctx context.Context, c Call) error {
	var handoff sql.NullString
	if c.Handoff != nil {
		b, _ := json.Marshal(c.Handoff)
		handoff = sql.NullString{String: string(b), Valid: true}
	}
	var ended sql.NullString
	if c.EndedAt != nil {
		ended = sql.NullString{String: fmtTime(*c.EndedAt), Valid: true}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("calls: finish %s: %w", c.ID, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO calls (id, channel, started_at, ended_at, caller, codec, lang, reason,
			appeal_number, handoff, frames_in, frames_out, packets_in, packets_out, barge_ins, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET ended_at = excluded.ended_at, codec = excluded.codec, lang = excluded.lang,
			reason = excluded.reason, appeal_number = excluded.appeal_number, handoff = excluded.handoff,
			frames_in = excluded.frames_in, frames_out = excluded.frames_out, packets_in = excluded.packets_in,
			packets_out = excluded.packets_out, barge_ins = excluded.barge_ins, error = excluded.error`,
		c.ID, c.Channel, fmtTime(c.StartedAt), ended, c.Caller, c.Codec, c.Lang, c.Reason, c.AppealNumber, handoff,
		c.FramesIn, c.FramesOut, c.PacketsIn, c.PacketsOut, c.BargeIns, c.Error); err != nil {
		return fmt.Errorf("calls: finish %s: %w", c.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM call_turns WHERE call_id = ?`, c.ID); err != nil {
		return fmt.Errorf("calls: finish %s: %w", c.ID, err)
	}
	for i, t := range c.Turns {
		var partials sql.NullString
		if len(t.Partials) > 0 {
			b, _ := json.Marshal(t.Partials)
			partials = sql.NullString{String: string(b), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO call_turns (call_id, seq, at, speaker, text, intent, lang, partials,
				endpointing_ms, recognition_ms, understanding_ms, waiting_ms, synthesis_ms, voice_to_voice_ms, latency_ms, barge_in)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, i+1, fmtTime(t.At), t.Speaker, t.Text, t.Intent, t.Lang, partials,
			t.EndpointingMs, t.RecognitionMs, t.UnderstandingMs, t.WaitingMs, t.SynthesisMs, t.VoiceToVoiceMs,
			t.LatencyMs, t.BargeIn); err != nil {
			return fmt.Errorf("calls: turn %d of %s: %w", i+1, c.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("calls: finish %s: %w", c.ID, err)
	}
	return nil
}

const callColumns = `id, channel, started_at, ended_at, caller, codec, lang, reason, appeal_number, handoff,
	frames_in, frames_out, packets_in, packets_out, barge_ins, error`

func scanCall(row interface{ Scan(...any) error }) (Call, error) {
	var c Call
	var started string
	var ended, handoff sql.NullString
	if err := row.Scan(&c.ID, &c.Channel, &started, &ended, &c.Caller, &c.Codec, &c.Lang, &c.Reason, &c.AppealNumber,
		&handoff, &c.FramesIn, &c.FramesOut, &c.PacketsIn, &c.PacketsOut, &c.BargeIns, &c.Error); err != nil {
		return Call{}, err
	}
	c.StartedAt, _ = time.Parse(timeFormat, started)
	if ended.Valid {
		t, _ := time.Parse(timeFormat, ended.String)
		c.EndedAt = &t
	}
	if handoff.Valid {
		c.Handoff = &HandoffRecord{}
		if err := json.Unmarshal([]byte(handoff.String), c.Handoff); err != nil {
			return Call{}, fmt.Errorf("calls: handoff of %s: %w", c.ID, err)
		}
	}
	return c, nil
}

// List returns calls newest first, without their turns.
func (s *Store) List(ctx context.Context, f Filter) ([]Call, error) {
	var where []string
	var args []any
	if f.Channel != "" {
		where, args = append(where, "channel = ?"), append(args, f.Channel)
	}
	if f.Reason != "" {
		where, args = append(where, "reason = ?"), append(args, f.Reason)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "started_at >= ?"), append(args, fmtTime(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "started_at < ?"), append(args, fmtTime(f.Until))
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	q := `SELECT ` + callColumns + ` FROM calls`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY started_at DESC, id LIMIT ? OFFSET ?"
	rows, err := s.db.QueryContext(ctx, q, append(args, f.Limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, fmt.Errorf("calls: list: %w", err)
	}
	defer rows.Close()
	out := []Call{}
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("calls: list: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Get returns a call with its turns, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (Call, error) {
	c, err := scanCall(s.db.QueryRowContext(ctx, `SELECT `+callColumns+` FROM calls WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Call{}, ErrNotFound
	}
	if err != nil {
		return Call{}, fmt.Errorf("calls: get %s: %w", id, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, speaker, text, intent, lang, partials, endpointing_ms,
		recognition_ms, understanding_ms, waiting_ms, synthesis_ms, voice_to_voice_ms, latency_ms, barge_in
		FROM call_turns WHERE call_id = ? ORDER BY seq`, id)
	if err != nil {
		return Call{}, fmt.Errorf("calls: turns of %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t Turn
		var at string
		var partials sql.NullString
		if err := rows.Scan(&t.Seq, &at, &t.Speaker, &t.Text, &t.Intent, &t.Lang, &partials, &t.EndpointingMs,
			&t.RecognitionMs, &t.UnderstandingMs, &t.WaitingMs, &t.SynthesisMs, &t.VoiceToVoiceMs, &t.LatencyMs,
			&t.BargeIn); err != nil {
			return Call{}, fmt.Errorf("calls: turns of %s: %w", id, err)
		}
		t.At, _ = time.Parse(timeFormat, at)
		if partials.Valid {
			_ = json.Unmarshal([]byte(partials.String), &t.Partials)
		}
		c.Turns = append(c.Turns, t)
	}
	return c, rows.Err()
}
