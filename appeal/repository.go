package appeal

import (
	"context"
	"time"
)

// Repository stores appeals. The domain owns it so that a PostgreSQL
// backend can follow the SQLite one without changes here. Implementations
// return ErrNotFound, ErrDuplicateNumber, ErrDuplicateKey, ErrStale and
// ErrTranscriptTooLarge as documented, and are safe for concurrent use.
// A method that returns nil has made its change durable.
type Repository interface {
	// Create stores a new appeal with its first history entry and, when
	// idem.Key is set, the idempotency record, atomically.
	Create(ctx context.Context, r Record, first HistoryEntry, idem Idempotency) error
	// Idempotency returns the record of key, or ErrNotFound.
	Idempotency(ctx context.Context, key string) (Idempotency, error)
	// Get returns the appeal with its transcript, history and notes.
	Get(ctx context.Context, number string) (Record, error)
	// List returns appeals without transcript, history and notes, newest first.
	List(ctx context.Context, f Filter) ([]Record, error)
	// ChangeStatus moves the appeal from status from to h.To, records h,
	// sets the new deadline and clears the escalation mark; ErrStale when
	// the appeal is no longer in status from.
	ChangeStatus(ctx context.Context, number string, from Status, h HistoryEntry, deadline *time.Time) error
	// AddNote appends a note.
	AddNote(ctx context.Context, number string, n Note) error
	// AppendTranscript appends turns unless the transcript would pass
	// maxTurns turns or maxBytes bytes of text (ErrTranscriptTooLarge).
	AppendTranscript(ctx context.Context, number string, turns []TranscriptTurn, maxTurns, maxBytes int) error
	// Overdue returns up to limit open, not yet escalated appeals whose
	// deadline is before now.
	Overdue(ctx context.Context, now time.Time, limit int) ([]Record, error)
	// MarkEscalated marks the appeal escalated at at if it is still in
	// status and unmarked; false when another sweeper was first.
	MarkEscalated(ctx context.Context, number string, status Status, at time.Time, note Note) (bool, error)
	// OpenByPhoneHash lists the numbers of open appeals of a phone, and how
	// many appeals (open or not) it has in total.
	OpenByPhoneHash(ctx context.Context, hash string) (open []string, total int, err error)
}
