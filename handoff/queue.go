package handoff

import (
	"fmt"
	"time"
)

// Queue configures one human queue.
type Queue struct {
	Name  string
	Title string
	// Skills an agent needs (all of them) to take this queue; default: the queue's name.
	Skills []string
	// Topics and intents routed here when a request names no queue.
	Topics []string
	// Schedule is the operator hours (default DefaultSchedule).
	Schedule *Schedule
	// OverflowTo is a queue whose agents may take this queue's handoffs
	// once they waited OverflowAfter; a new request whose estimated wait
	// passes OverflowAfter is routed there directly if that is sooner.
	OverflowTo    string
	OverflowAfter time.Duration
	// HandleTime is the average handle time assumed before there is data (default 3 min).
	HandleTime time.Duration
	// ReferURI, when set, sends voice handoffs to a PBX queue by SIP REFER
	// instead of bridging them to the agent's browser.
	ReferURI string
}

// DefaultQueues are the hotline's five queues with Moscow operator hours,
// topic routing and overflow of the specialised queues to general after
// three minutes.
func DefaultQueues() ([]Queue, error) {
	s, err := DefaultSchedule()
	if err != nil {
		return nil, err
	}
	mk := func(name, title string, topics ...string) Queue {
		q := Queue{Name: name, Title: title, Topics: topics, Schedule: s, HandleTime: 3 * time.Minute}
		if name != "general" {
			q.OverflowTo, q.OverflowAfter = "general", 3*time.Minute
		}
		return q
	}
	return []Queue{
		mk("general", "Общие вопросы", "faq", "general", "operator", "complaint", "callback"),
		mk("tech", "Техническая поддержка", "tech", "portal", "login", "app"),
		mk("social", "Социальные выплаты и пенсии", "social", "pension", "benefits"),
		mk("business", "Бизнес и предприниматели", "business", "tax", "registration"),
		mk("abroad", "Звонки из-за рубежа", "abroad", "consular"),
	}, nil
}

func (q *Queue) normalize() error {
	if q.Name == "" {
		return fmt.Errorf("%w: a queue needs a name", ErrInvalid)
	}
	if len(q.Skills) == 0 {
		q.Skills = []string{q.Name}
	}
	if q.Schedule == nil {
		s, err := DefaultSchedule()
		if err != nil {
			return err
		}
		q.Schedule = s
	}
	if q.HandleTime <= 0 {
		q.HandleTime = 3 * time.Minute
	}
	return nil
}

// QueueStats is a queue's live state.
type QueueStats struct {
	Name          string     `json:"name"`
	Title         string     `json:"title,omitempty"`
	Open          bool       `json:"open"`
	NextOpen      *time.Time `json:"next_open,omitempty"`
	Waiting       int        `json:"waiting"`   // queued and offered, in hours
	Callbacks     int        `json:"callbacks"` // waiting for the queue to open
	ReadyAgents   int        `json:"ready_agents"`
	BusyAgents    int        `json:"busy_agents"`
	EWTSeconds    int        `json:"estimated_wait_seconds"` // for a new caller
	OldestWaitSec int        `json:"oldest_wait_seconds"`
	AHTSeconds    int        `json:"average_handle_seconds"`
	OverflowTo    string     `json:"overflow_to,omitempty"`
}
