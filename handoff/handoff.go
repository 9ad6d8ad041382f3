package handoff

import (
	"time"

	"github.com/hotline-ivr/hotline/appeal"
)

// State is where a handoff is.
type State string

// States.
const (
	Queued   State = "queued"   // waiting for an agent
	Callback State = "callback" // out of hours: waiting for the queue to open, then an agent calls back
	Offered  State = "offered"  // offered to one agent, waiting for accept or decline
	Accepted State = "accepted" // an agent has it
	Finished State = "finished" // wrapped up by the agent
	Canceled State = "canceled" // the caller left before an agent took it
)

// Transfer modes for voice handoffs.
const (
	TransferBridge = "bridge" // the call is bridged to the agent's browser (WebRTC)
	TransferRefer  = "refer"  // the call is sent by SIP REFER to a PBX queue
	TransferChat   = "chat"   // a text conversation continues in the desk
	TransferNone   = "none"   // a callback: the agent calls the caller
)

// HeaderAppeal carries the appeal number on a SIP REFER (and the bridged leg).
const HeaderAppeal = "X-Hotline-Appeal"

// Transfer tells telephony how to connect the caller to the agent.
type Transfer struct {
	Mode     string            `json:"mode"`
	ReferURI string            `json:"refer_uri,omitempty"`
	Headers  map[string]string `json:"headers,omitempty"`
}

// Attempt is one answer the bot tried before handing off.
type Attempt struct {
	Question  string  `json:"question"`
	ArticleID string  `json:"article_id,omitempty"`
	Answer    string  `json:"answer,omitempty"`
	Score     float64 `json:"score,omitempty"`
}

// Request asks to hand a conversation to a human.
type Request struct {
	AppealNumber string                  `json:"appeal_number"`
	Channel      appeal.Channel          `json:"channel"` // voice or chat
	Lang         string                  `json:"lang"`
	Queue        string                  `json:"queue,omitempty"` // explicit queue; else by Topic/Intent
	Topic        string                  `json:"topic,omitempty"`
	Intent       string                  `json:"intent,omitempty"`
	Region       string                  `json:"region,omitempty"` // "abroad" or a region code when known
	Slots        map[string]string       `json:"slots,omitempty"`
	Transcript   []appeal.TranscriptTurn `json:"transcript,omitempty"`
	Attempts     []Attempt               `json:"bot_attempts,omitempty"`
	CallRef      string                  `json:"call_ref,omitempty"` // telephony's call id, for bridging
	// Priority hints.
	HasOpenAppeal bool `json:"has_open_appeal,omitempty"`
	RepeatCaller  bool `json:"repeat_caller,omitempty"`
	// WaitSoFar is how long the caller has already spent (with the bot, in IVR).
	WaitSoFar time.Duration `json:"-"`
}

// Priority is the queue priority the hints give: callers with an open
// appeal first, then repeat callers, then everyone else.
func (r Request) Priority() int {
	p := 0
	if r.HasOpenAppeal {
		p += 2
	}
	if r.RepeatCaller {
		p++
	}
	return p
}

// Decision is where a request went.
type Decision struct {
	HandoffID     string        `json:"handoff_id,omitempty"`
	Queue         string        `json:"queue"`
	InHours       bool          `json:"in_hours"`
	Position      int           `json:"position,omitempty"` // 1 = next
	EstimatedWait time.Duration `json:"-"`
	EWTSeconds    int           `json:"estimated_wait_seconds"`
	Overflowed    bool          `json:"overflowed,omitempty"`
	OverflowFrom  string        `json:"overflow_from,omitempty"`
	Callback      bool          `json:"callback,omitempty"`
	NextOpen      *time.Time    `json:"next_open,omitempty"` // when out of hours: the next working period
	Transfer      Transfer      `json:"transfer"`
}

// Handoff is the package an agent receives.
type Handoff struct {
	ID           string
	AppealNumber string
	Channel      appeal.Channel
	Lang         string
	Queue        string
	OverflowFrom string
	Intent       string
	Topic        string
	Region       string
	Slots        map[string]string
	Transcript   []appeal.TranscriptTurn
	Attempts     []Attempt
	CallRef      string
	Priority     int
	Transfer     Transfer
	State        State
	Agent        string
	CallerSince  time.Time // when the caller's wait began (before the bot handed off)
	EnqueuedAt   time.Time
	NotBefore    time.Time // callbacks: the queue's next opening
	OfferedAt    time.Time
	OfferExpires time.Time
	AcceptedAt   time.Time
	WrapUp       string
	declined     map[string]time.Time
}

// View is a handoff as the desk sees it: the card.
type View struct {
	ID            string                  `json:"id"`
	AppealNumber  string                  `json:"appeal_number"`
	AppealSpoken  string                  `json:"appeal_spoken,omitempty"`
	Channel       appeal.Channel          `json:"channel"`
	Lang          string                  `json:"lang"`
	Queue         string                  `json:"queue"`
	OverflowFrom  string                  `json:"overflow_from,omitempty"`
	Intent        string                  `json:"intent,omitempty"`
	Topic         string                  `json:"topic,omitempty"`
	Region        string                  `json:"region,omitempty"`
	Slots         map[string]string       `json:"slots,omitempty"`
	Transcript    []appeal.TranscriptTurn `json:"transcript,omitempty"`
	Attempts      []Attempt               `json:"bot_attempts,omitempty"`
	Priority      int                     `json:"priority"`
	Transfer      Transfer                `json:"transfer"`
	State         State                   `json:"state"`
	Agent         string                  `json:"agent,omitempty"`
	CallerWaitSec int                     `json:"caller_wait_seconds"` // the caller's wait so far
	EnqueuedAt    time.Time               `json:"enqueued_at"`
	NotBefore     *time.Time              `json:"not_before,omitempty"`
	OfferExpires  *time.Time              `json:"offer_expires,omitempty"`
	AcceptedAt    *time.Time              `json:"accepted_at,omitempty"`
	WrapUp        string                  `json:"wrap_up,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (h *Handoff) view(now time.Time) View {
	v := View{
		ID: h.ID, AppealNumber: h.AppealNumber, Channel: h.Channel, Lang: h.Lang, Queue: h.Queue,
		OverflowFrom: h.OverflowFrom, Intent: h.Intent, Topic: h.Topic, Region: h.Region, Slots: h.Slots,
		Transcript: h.Transcript[:len(h.Transcript):len(h.Transcript)], Attempts: h.Attempts,
		Priority: h.Priority, Transfer: h.Transfer, State: h.State, Agent: h.Agent,
		CallerWaitSec: int(now.Sub(h.CallerSince).Seconds()), EnqueuedAt: h.EnqueuedAt,
		NotBefore: optTime(h.NotBefore), AcceptedAt: optTime(h.AcceptedAt), WrapUp: h.WrapUp,
	}
	if h.AppealNumber != "" {
		v.AppealSpoken = appeal.FormatNumber(h.AppealNumber)
	}
	if h.State == Offered {
		v.OfferExpires = optTime(h.OfferExpires)
	}
	if h.State == Accepted || h.State == Finished {
		v.CallerWaitSec = int(h.AcceptedAt.Sub(h.CallerSince).Seconds())
	}
	return v
}
