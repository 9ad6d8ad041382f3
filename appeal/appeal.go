package appeal

import (
	"time"
)

// Channel is where an appeal came from.
type Channel string

// Channels.
const (
	Voice    Channel = "voice"
	Chat     Channel = "chat"
	Callback Channel = "callback"
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return c == Voice || c == Chat || c == Callback }

// Speaker is who said a transcript turn.
type Speaker string

// Speakers.
const (
	SpeakerCaller Speaker = "caller"
	SpeakerBot    Speaker = "bot"
	SpeakerAgent  Speaker = "agent"
)

// Valid reports whether s is a known speaker.
func (s Speaker) Valid() bool { return s == SpeakerCaller || s == SpeakerBot || s == SpeakerAgent }

// TranscriptTurn is one utterance of the conversation.
type TranscriptTurn struct {
	At      time.Time `json:"at"`
	Speaker Speaker   `json:"speaker"`
	Text    string    `json:"text"`
}

// Contact is how to reach the caller. It is encrypted at rest.
type Contact struct {
	Phone string `json:"phone,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// Note is an agent's remark on an appeal.
type Note struct {
	At     time.Time `json:"at"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
}

// HistoryEntry records one status change: who, when and why.
type HistoryEntry struct {
	From   Status    `json:"from,omitempty"` // empty for the creation
	To     Status    `json:"to"`
	Actor  string    `json:"actor"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
}

// Appeal is one request from a caller.
type Appeal struct {
	Number     string            `json:"number"`
	Channel    Channel           `json:"channel"`
	Lang       string            `json:"lang"`
	Queue      string            `json:"queue"`
	Intent     string            `json:"intent,omitempty"`
	Region     string            `json:"region,omitempty"`
	Subject    string            `json:"subject,omitempty"`
	Slots      map[string]string `json:"slots,omitempty"`
	Contact    Contact           `json:"contact"`
	Articles   []string          `json:"articles,omitempty"` // knowledge articles the bot tried
	Transcript []TranscriptTurn  `json:"transcript,omitempty"`

	Status       Status         `json:"status"`
	StatusReason string         `json:"status_reason,omitempty"`
	StatusSince  time.Time      `json:"status_since"`
	Deadline     *time.Time     `json:"deadline,omitempty"`     // end of the current stage's time limit
	EscalatedAt  *time.Time     `json:"escalated_at,omitempty"` // set when the current stage passed its limit
	History      []HistoryEntry `json:"history,omitempty"`
	Notes        []Note         `json:"notes,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// NewAppeal is what Create needs.
type NewAppeal struct {
	Channel    Channel           `json:"channel"`
	Lang       string            `json:"lang"`
	Queue      string            `json:"queue"`
	Intent     string            `json:"intent,omitempty"`
	Region     string            `json:"region,omitempty"`
	Subject    string            `json:"subject,omitempty"`
	Slots      map[string]string `json:"slots,omitempty"`
	Contact    Contact           `json:"contact"`
	Articles   []string          `json:"articles,omitempty"`
	Transcript []TranscriptTurn  `json:"transcript,omitempty"`
	Actor      string            `json:"-"` // who registers it; "bot" when empty
}

// Filter selects appeals for List. Zero fields match everything.
type Filter struct {
	Status    Status
	Queue     string
	Channel   Channel
	Escalated bool // only escalated appeals
	Open      bool // only appeals not done or rejected
	Since     time.Time
	Limit     int // default 50, at most 500
	Offset    int
}

// Record is an appeal as a Repository stores it: the contact sealed.
type Record struct {
	Appeal        // Contact is zero; Transcript, History and Notes only from Get
	SealedContact []byte
	KeyID         string
	PhoneHash     string
	TurnCount     int
	TurnBytes     int
}

// Idempotency binds a client's key to the request it created.
type Idempotency struct {
	Key         string
	PayloadHash string
	Number      string
	CreatedAt   time.Time
}
