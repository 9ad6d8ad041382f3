package handoff

import (
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
)

// Event types sent to the desk.
const (
	EventSnapshot     = "snapshot"      // on subscribe: queues, agents, live handoffs
	EventOffer        = "offer"         // a handoff offered to this agent, with its card
	EventOfferRevoked = "offer_revoked" // the offer ended without acceptance
	EventHandoff      = "handoff"       // a handoff changed state
	EventQueues       = "queues"        // queue statistics changed
	EventAgent        = "agent"         // an agent's presence changed
	EventMessage      = "message"       // a chat turn in a handoff
)

// Event is one thing the desk should know. Agent names the agent it is
// for ("" for everyone allowed to see its queue).
type Event struct {
	Type      string                 `json:"type"`
	At        time.Time              `json:"at"`
	Agent     string                 `json:"agent,omitempty"`
	Handoff   *View                  `json:"handoff,omitempty"`
	HandoffID string                 `json:"handoff_id,omitempty"`
	Reason    string                 `json:"reason,omitempty"`
	Turn      *appeal.TranscriptTurn `json:"turn,omitempty"`
	Queues    []QueueStats           `json:"queues,omitempty"`
	Agents    []AgentView            `json:"agents,omitempty"`
	Handoffs  []View                 `json:"handoffs,omitempty"`
}

// Hub fans events out to subscribers. A subscriber that does not keep up
// (its buffer is full) is dropped: its channel is closed and Dropped
// reports true, so the desk reconnects and gets a fresh snapshot instead of
// slowing down everyone else.
type Hub struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[*Subscription]struct{}{}} }

// Subscription receives the events its filter admits.
type Subscription struct {
	C       <-chan Event
	c       chan Event
	hub     *Hub
	filter  func(Event) bool
	dropped bool
	closed  bool
}

// Subscribe registers a subscriber with a buffer of buf events (default 256).
func (h *Hub) Subscribe(filter func(Event) bool, buf int) *Subscription {
	if buf <= 0 {
		buf = 256
	}
	c := make(chan Event, buf)
	s := &Subscription{C: c, c: c, hub: h, filter: filter}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Publish delivers ev to every subscriber that wants it, never blocking.
func (h *Hub) Publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.filter != nil && !s.filter(ev) {
			continue
		}
		select {
		case s.c <- ev:
		default:
			s.dropped, s.closed = true, true
			delete(h.subs, s)
			close(s.c)
		}
	}
}

// Len is the number of subscribers.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Dropped reports whether the hub dropped this subscriber for being slow.
func (s *Subscription) Dropped() bool {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.dropped
}

// Close unsubscribes; it is idempotent.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if !s.closed {
		s.closed = true
		delete(s.hub.subs, s)
		close(s.c)
	}
}
