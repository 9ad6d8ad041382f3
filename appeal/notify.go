package appeal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"
)

// Event types.
const (
	EventCreated       = "appeal.created"
	EventStatusChanged = "appeal.status_changed"
	EventEscalated     = "appeal.escalated"
)

// Event tells the outside world that an appeal changed. Phone is for
// in-process notifiers (SMS) and never serialised.
type Event struct {
	ID       string     `json:"id"`
	Type     string     `json:"type"`
	At       time.Time  `json:"at"`
	Number   string     `json:"number"`
	Channel  Channel    `json:"channel"`
	Lang     string     `json:"lang"`
	Queue    string     `json:"queue"`
	Status   Status     `json:"status"`
	From     Status     `json:"from,omitempty"`
	Reason   string     `json:"reason,omitempty"`
	Actor    string     `json:"actor,omitempty"`
	Deadline *time.Time `json:"deadline,omitempty"`
	Phone    string     `json:"-"`
}

// Notifier delivers events. Notify should return quickly (queue, then
// deliver): it runs after the change is committed, in the caller's request.
type Notifier interface {
	Notify(ctx context.Context, ev Event) error
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, ev Event) error

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, ev Event) error { return f(ctx, ev) }

// Notifiers fans an event out to several notifiers, joining their errors.
type Notifiers []Notifier

// Notify calls every notifier.
func (ns Notifiers) Notify(ctx context.Context, ev Event) error {
	var errs []error
	for _, n := range ns {
		if err := n.Notify(ctx, ev); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func newEventID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
