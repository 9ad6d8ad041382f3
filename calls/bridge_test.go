package calls

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/handoff"
	"github.com/hotline-ivr/hotline/telephony/media"
	"github.com/hotline-ivr/hotline/voice"
)

// line is a Conn at a fixed rate: ReadFrame sends a constant level every
// 2 ms (faster than real time keeps the test short), WriteFrame records
// what arrives.
type line struct {
	rate  int
	level int16
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	got   []audio.Frame
}

func newLine(rate int, level int16) *line {
	return &line{rate: rate, level: level, done: make(chan struct{})}
}

func (l *line) ReadFrame() (audio.Frame, error) {
	select {
	case <-l.done:
		return audio.Frame{}, errors.New("ended")
	case <-time.After(2 * time.Millisecond):
	}
	s := make([]int16, audio.SamplesPerFrame(l.rate))
	for i := range s {
		s[i] = l.level
	}
	return audio.Frame{Rate: l.rate, Samples: s}, nil
}

func (l *line) WriteFrame(f audio.Frame) error {
	select {
	case <-l.done:
		return errors.New("ended")
	case <-time.After(time.Millisecond):
	}
	l.mu.Lock()
	l.got = append(l.got, f)
	l.mu.Unlock()
	return nil
}
func (l *line) ClearPlayback() int       { return 0 }
func (l *line) DTMF() <-chan media.Digit { return nil }
func (l *line) Done() <-chan struct{}    { return l.done }
func (l *line) hangup()                  { l.once.Do(func() { close(l.done) }) }
func (l *line) frames() []audio.Frame {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]audio.Frame(nil), l.got...)
}
func (l *line) heard(level int16, rate int) bool {
	for _, f := range l.frames() {
		if f.Rate == rate && len(f.Samples) == audio.SamplesPerFrame(rate) {
			mid := f.Samples[len(f.Samples)/2]
			if mid > level-level/10 && mid < level+level/10 {
				return true
			}
		}
	}
	return false
}

type fakeQueue struct {
	mu    sync.Mutex
	state handoff.State
	wait  time.Duration
}

func (q *fakeQueue) Estimate(string) (handoff.View, time.Duration, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.state == "" {
		return handoff.View{}, 0, handoff.ErrNotFound
	}
	return handoff.View{State: q.state, Queue: "general"}, q.wait, nil
}

func TestHoldThenBridgeToAgent(t *testing.T) {
	before := runtime.NumGoroutine()
	synth := &textSynth{}
	b := NewBridges()
	q := &fakeQueue{state: handoff.Queued, wait: 4 * time.Minute}
	h := newTestHandler(t, synth, WithCallbacks(&fakeCallbacks{}), WithBridges(b, q, time.Minute, 100*time.Millisecond))
	caller := newLine(8000, 1000)
	var events []voice.Event
	var emu sync.Mutex
	emit := func(ev voice.Event) { emu.Lock(); events = append(events, ev); emu.Unlock() }
	ho := voice.Handoff{Queue: "general", Lang: "en", Mode: voice.TransferBridge, HandoffID: "h1", AppealNumber: "2026-000042-7"}
	res := make(chan *HandoffRecord, 1)
	go func() {
		res <- h.handoff(context.Background(), caller, CallInfo{Rate: 8000}, voice.Config{Rate: 8000}, ho, emit, h.log)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !b.Waiting("h1") || len(caller.frames()) < 20 || len(synthTexts(synth)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("not on hold: waiting %v, %d frames, said %q", b.Waiting("h1"), len(caller.frames()), synthTexts(synth))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s := synthTexts(synth)[0]; !strings.Contains(s, "4 minutes") {
		t.Errorf("wait message %q", s)
	}
	loud := 0
	for _, f := range caller.frames() {
		if audio.RMS(f.Samples) > 0.01 {
			loud++
		}
	}
	if loud == 0 {
		t.Error("no hold music")
	}
	if err := b.Join(context.Background(), "nope", "alice", newLine(48000, 0), 48000); !errors.Is(err, ErrNoCaller) {
		t.Fatalf("join unknown: %v", err)
	}

	agent := newLine(48000, 3000)
	joined := make(chan error, 1)
	go func() { joined <- b.Join(context.Background(), "h1", "alice", agent, 48000) }()
	deadline = time.Now().Add(5 * time.Second)
	for !caller.heard(3000, 8000) || !agent.heard(1000, 48000) {
		if time.Now().After(deadline) {
			t.Fatalf("no audio across the bridge: caller heard agent %v, agent heard caller %v",
				caller.heard(3000, 8000), agent.heard(1000, 48000))
		}
		time.Sleep(10 * time.Millisecond)
	}
	agent.hangup()
	if err := <-joined; err != nil {
		t.Fatal(err)
	}
	r := <-res
	if r.Outcome != OutcomeBridged || r.Agent == nil || r.Agent.Agent != "alice" || r.Agent.EndedBy != "agent" || r.Agent.EndedAt == nil {
		t.Fatalf("record %+v agent %+v", r, r.Agent)
	}
	said := synthTexts(synth)
	if !strings.Contains(said[len(said)-1], "operator has ended") {
		t.Errorf("goodbye %q", said)
	}
	emu.Lock()
	var sawAgent, sawWait bool
	for _, ev := range events {
		sawAgent = sawAgent || ev.Type == EventAgent && ev.Text == "alice"
		sawWait = sawWait || ev.Type == voice.EventHandoff && ev.EstimatedWaitSeconds == 240
	}
	emu.Unlock()
	if !sawAgent || !sawWait {
		t.Errorf("events %+v", events)
	}
	if b.Waiting("h1") {
		t.Error("still registered")
	}
	caller.hangup()
	deadline = time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines %d before, %d after", before, n)
	}
}

func TestHoldRunsOutIntoCallback(t *testing.T) {
	synth := &textSynth{}
	cb := &fakeCallbacks{}
	b := NewBridges()
	h := newTestHandler(t, synth, WithCallbacks(cb), WithBridges(b, &fakeQueue{state: handoff.Queued}, 200*time.Millisecond, time.Hour))
	caller := newLine(8000, 0)
	ho := voice.Handoff{Queue: "general", Lang: "ru", Mode: voice.TransferBridge, HandoffID: "h2"}
	r := h.handoff(context.Background(), caller, CallInfo{Rate: 8000}, voice.Config{Rate: 8000}, ho, nil, h.log)
	if r.Outcome != OutcomeCallback || len(cb.got) != 1 || b.Waiting("h2") {
		t.Fatalf("record %+v callbacks %v", r, cb.got)
	}
	// The caller who hangs up on hold leaves the handoff queued.
	go func() { time.Sleep(100 * time.Millisecond); caller.hangup() }()
	h = newTestHandler(t, synth, WithBridges(b, &fakeQueue{state: handoff.Queued}, time.Minute, time.Hour))
	if r = h.handoff(context.Background(), caller, CallInfo{Rate: 8000}, voice.Config{Rate: 8000}, ho, nil, h.log); r.Outcome != OutcomeLeftQueued {
		t.Fatalf("hung up on hold: %+v", r)
	}
}

func TestHoldToneIsSoft(t *testing.T) {
	ht := &holdTone{rate: 16000}
	var max int16
	for range 200 {
		for _, s := range ht.frame().Samples {
			max = maxI16(max, s)
		}
	}
	if max < 1000 || max > 4000 {
		t.Errorf("peak %d", max)
	}
}

func maxI16(a, b int16) int16 {
	if b > a {
		return b
	}
	return a
}

func synthTexts(s *textSynth) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.texts...)
}
