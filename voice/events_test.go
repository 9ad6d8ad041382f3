package voice_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/voice"
)

// eventLog collects Config.OnEvent's events.
type eventLog struct {
	mu  sync.Mutex
	evs []voice.Event
}

func (l *eventLog) add(ev voice.Event) { l.mu.Lock(); l.evs = append(l.evs, ev); l.mu.Unlock() }

func (l *eventLog) all() []voice.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]voice.Event(nil), l.evs...)
}

func (l *eventLog) waitFor(t *testing.T, timeout time.Duration, match func(voice.Event) bool) voice.Event {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, ev := range l.all() {
			if match(ev) {
				return ev
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no matching event within %v; got %+v", timeout, l.all())
	return voice.Event{}
}

// TestTypedTextAndEvents: text typed in the app reaches the bot as a
// turn, and OnEvent reports the typed final, the bot's replies (the
// answer among them), the handoff with its appeal number and the end.
func TestTypedTextAndEvents(t *testing.T) {
	e := heavy(t)
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	monday := time.Date(2026, 3, 9, 12, 0, 0, 0, msk)
	var log eventLog
	typed := make(chan string, 1)
	cfg := config("en")
	cfg.OnEvent = log.add
	cfg.Text = typed
	c := startCall(t, voiceDepsAt(t, e, monday), cfg)
	log.waitFor(t, 10*time.Second, func(ev voice.Event) bool { return ev.Type == voice.EventReply })

	typed <- "What are the operator hours?"
	log.waitFor(t, 5*time.Second, func(ev voice.Event) bool {
		return ev.Type == voice.EventFinal && ev.Typed && ev.Text == "What are the operator hours?"
	})
	if a := log.waitFor(t, 20*time.Second, func(ev voice.Event) bool {
		return ev.Type == voice.EventReply && strings.Contains(ev.Text, "operators work")
	}); a.ArticleID == "" || a.Lang != "en" {
		t.Errorf("answer event %+v: want the article id in en", a)
	}
	c.conn.key("0")
	h := log.waitFor(t, 30*time.Second, func(ev voice.Event) bool { return ev.Type == voice.EventHandoff })
	if h.Queue == "" || len(h.AppealNumber) != 10 {
		t.Errorf("handoff event %+v: want the queue and the appeal number", h)
	}
	res := c.wait(t, 30*time.Second)
	evs := log.all()
	if last := evs[len(evs)-1]; last.Type != voice.EventEnd || last.Reason != res.Reason {
		t.Errorf("last event %+v, want end with reason %q", last, res.Reason)
	}
	if len(res.Turns) == 0 || res.Turns[0].Input != "What are the operator hours?" {
		t.Errorf("turns %+v: the typed question is missing", res.Turns)
	}
}
