package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/hotline-ivr/hotline/appeal"
)

// fakeClock runs timers when the test advances it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// waitTimer waits until a live timer is due at at: the session's goroutine
// has armed it.
func (c *fakeClock) waitTimer(t *testing.T, at time.Time) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, tm := range c.timers {
			if !tm.stopped && tm.at.Equal(at) {
				c.mu.Unlock()
				return
			}
		}
		c.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("no timer armed for %v", at)
}

// Advance moves time on and runs the timers that came due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	keep := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.at.After(c.now):
			t.stopped = true
			due = append(due, t.f)
		default:
			keep = append(keep, t)
		}
	}
	c.timers = keep
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}

// fakeNLU understands a handful of keywords, enough to drive every branch
// of the dialogue deterministically.
type fakeNLU struct {
	mu    sync.Mutex
	calls []string
}

type rule struct {
	keys   []string
	intent string
	conf   float64
}

var fakeRules = []rule{
	{[]string{"часы", "когда работают", "hours", "open"}, IntentFAQ, 0.8},
	{[]string{"стои", "бесплатн", "cost", "free"}, IntentFAQ, 0.35},
	{[]string{"жалоб", "complain"}, IntentComplaint, 0.9},
	{[]string{"оператор", "человек", "operator", "human"}, IntentOperator, 0.9},
	{[]string{"статус", "status"}, IntentCheckStatus, 0.9},
	{[]string{"подать", "заявлени", "application", "file"}, IntentFileApplication, 0.9},
	{[]string{"перезвон", "callback", "call me back"}, IntentCallback, 0.9},
	{[]string{"повтор", "repeat", "again"}, IntentRepeat, 0.9},
	{[]string{"до свидания", "goodbye", "bye"}, IntentGoodbye, 0.9},
	{[]string{"english", "английск", "russian", "русск"}, IntentSwitchLanguage, 0.9},
	{[]string{"паспорт", "passport"}, IntentFAQ, 0.9},
}

var (
	artHours      = Article{ID: "operator-hours-overview", Queue: "general", Title: "Часы работы операторов", Spoken: "Операторы работают в будни с 8:00 до 20:00."}
	artHoursEN    = Article{ID: "operator-hours-overview", Queue: "general", Title: "Operator hours", Spoken: "Operators work on weekdays from 8:00 to 20:00."}
	artCostRU     = Article{ID: "call-cost-russia", Queue: "general", Title: "Стоимость звонка из России", Spoken: "Звонок из России бесплатный."}
	artCostAbroad = Article{ID: "call-cost-abroad", Queue: "abroad", Title: "Стоимость звонка из-за границы", Spoken: "Из-за границы стоимость зависит от тарифа оператора."}
	artPassport   = Article{ID: "passport-replacement", Queue: "social", Title: "Замена паспорта", Spoken: "Паспорт меняют в МФЦ."}
)

func (f *fakeNLU) Parse(ctx context.Context, text string, h Hint) (Understanding, error) {
	f.mu.Lock()
	f.calls = append(f.calls, text)
	f.mu.Unlock()
	low := strings.ToLower(text)
	u := Understanding{Lang: h.Lang, LangConfidence: 0.5, Slots: map[string]string{}, Queue: "general"}
	cyr, lat := 0, 0
	for _, r := range low {
		switch {
		case unicode.Is(unicode.Cyrillic, r):
			cyr++
		case unicode.Is(unicode.Latin, r):
			lat++
		}
	}
	if cyr+lat > 0 {
		u.LangConfidence = 0.95
		u.Lang = "ru"
		if lat > cyr {
			u.Lang = "en"
		}
	}
	if strings.Trim(low, " .,!?") == "" {
		return u, nil
	}
	ws := words(low)
	if len(ws) <= 3 {
		switch ws[0] {
		case "да", "yes", "верно":
			u.Intent, u.Confidence = IntentYes, 0.95
			return u, nil
		case "нет", "no":
			u.Intent, u.Confidence = IntentNo, 0.95
			return u, nil
		}
	}
	u.Intent, u.Confidence = IntentFAQ, 0.1
	for _, r := range fakeRules {
		if slices.ContainsFunc(r.keys, func(k string) bool { return strings.Contains(low, k) }) {
			u.Intent, u.Confidence = r.intent, r.conf
			break
		}
	}
	if u.Intent == IntentSwitchLanguage {
		u.Slots[SlotLanguage] = "ru"
		if strings.Contains(low, "english") || strings.Contains(low, "английск") {
			u.Slots[SlotLanguage] = "en"
		}
	}
	if d := digitsOf(text); d != "" {
		switch {
		case h.Expect == ExpectPhone || u.Intent == IntentCallback:
			u.Slots[SlotPhone] = d
		case h.Expect == ExpectAppealNumber || u.Intent == IntentCheckStatus:
			u.Slots[SlotAppealNumber] = d
		}
	}
	if u.Intent == IntentFAQ {
		switch {
		case strings.Contains(low, "час") || strings.Contains(low, "когда"):
			a := artHours
			u.Article = &a
		case strings.Contains(low, "hours") || strings.Contains(low, "open"):
			a := artHoursEN
			u.Article = &a
		case strings.Contains(low, "стои") || strings.Contains(low, "бесплатн"):
			a := artCostRU
			u.Article = &a
		case strings.Contains(low, "паспорт"):
			a := artPassport
			u.Article = &a
		}
		if u.Article != nil {
			u.Queue = u.Article.Queue
		}
	}
	return u, nil
}

type fakeAnswerer struct{}

func (fakeAnswerer) Search(ctx context.Context, q, lang string, limit int) ([]Article, error) {
	low := strings.ToLower(q)
	if strings.Contains(low, "стои") || strings.Contains(low, "бесплатн") {
		return []Article{artCostRU, artCostAbroad}, nil
	}
	return nil, nil
}

type storedAppeal struct {
	na         NewAppeal
	status     string
	transcript []Turn
}

// fakeAppeals keeps appeals in memory with real appeal numbers.
type fakeAppeals struct {
	mu      sync.Mutex
	byNum   map[string]*storedAppeal
	order   []string
	lookups int
	fail    error
}

func newFakeAppeals() *fakeAppeals { return &fakeAppeals{byNum: map[string]*storedAppeal{}} }

func (f *fakeAppeals) ValidNumber(n string) error {
	switch err := appeal.ValidNumber(n); err {
	case nil:
		return nil
	case appeal.ErrCheckDigit:
		return ErrCheckDigit
	default:
		return ErrMalformedNumber
	}
}

func (f *fakeAppeals) Create(ctx context.Context, na NewAppeal) (string, error) {
	if f.fail != nil {
		return "", f.fail
	}
	n, err := appeal.NewNumber()
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byNum[n] = &storedAppeal{na: na, status: "accepted", transcript: slices.Clone(na.Transcript)}
	f.order = append(f.order, n)
	return n, nil
}

// add registers an appeal with a known phone and status for lookups.
func (f *fakeAppeals) add(phone, status string) string {
	n, _ := appeal.NewNumber()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byNum[n] = &storedAppeal{na: NewAppeal{Phone: phone}, status: status}
	return n
}

func (f *fakeAppeals) Lookup(ctx context.Context, number, last4, lang string) (StatusInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	a, ok := f.byNum[number]
	if !ok || !strings.HasSuffix(a.na.Phone, last4) {
		return StatusInfo{}, ErrLookupFailed
	}
	st := appeal.Status(a.status)
	dl := time.Date(2026, 3, 12, 12, 0, 0, 0, time.UTC)
	return StatusInfo{Number: number, Status: a.status, Label: st.Label(lang), Meaning: st.Meaning(lang), Deadline: &dl}, nil
}

func (f *fakeAppeals) AppendTranscript(ctx context.Context, number string, turns []Turn) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.byNum[number]
	if !ok {
		return fmt.Errorf("no appeal %s", number)
	}
	a.transcript = append(a.transcript, turns...)
	return nil
}

func (f *fakeAppeals) created() []*storedAppeal {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*storedAppeal
	for _, n := range f.order {
		out = append(out, f.byNum[n])
	}
	return out
}

// fakeRouter is open or closed as the test says.
type fakeRouter struct {
	mu       sync.Mutex
	open     bool
	nextOpen time.Time
	reqs     []HandoffRequest
}

func (r *fakeRouter) Hours(ctx context.Context, queue string) (Hours, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Hours{Open: r.open, NextOpen: r.nextOpen}, nil
}

func (r *fakeRouter) Route(ctx context.Context, req HandoffRequest) (Decision, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	if !r.open {
		return Decision{HandoffID: fmt.Sprint("h", len(r.reqs)), Queue: req.Queue, Callback: true, NextOpen: r.nextOpen}, nil
	}
	return Decision{HandoffID: fmt.Sprint("h", len(r.reqs)), Queue: req.Queue, InHours: true, EstimatedWait: 90 * time.Second}, nil
}

func (r *fakeRouter) requests() []HandoffRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

type fakeRelay struct {
	mu    sync.Mutex
	turns []Turn
}

func (r *fakeRelay) ToAgent(ctx context.Context, id string, t Turn) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.turns = append(r.turns, t)
	return nil
}

// harness drives one session turn by turn.
type harness struct {
	t      *testing.T
	s      *Session
	clock  *fakeClock
	app    *fakeAppeals
	router *fakeRouter
	relay  *fakeRelay
	nlu    *fakeNLU
	events []Event // everything seen
}

// Monday 2026-03-09 12:00 Moscow: operators work.
var mondayNoon = time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, cfg Config, mod ...func(*harness, *Deps)) *harness {
	t.Helper()
	h := &harness{
		t: t, clock: &fakeClock{now: mondayNoon}, app: newFakeAppeals(),
		router: &fakeRouter{open: true}, relay: &fakeRelay{}, nlu: &fakeNLU{},
	}
	deps := Deps{Understander: h.nlu, Answerer: fakeAnswerer{}, Appeals: h.app, Router: h.router, Clock: h.clock}
	for _, m := range mod {
		m(h, &deps)
	}
	s, err := New(deps, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.s = s
	t.Cleanup(func() { s.Close() })
	return h
}

// turn reads events up to the end of the bot's turn and returns the
// replies joined.
func (h *harness) turn() string {
	h.t.Helper()
	var replies []string
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-h.s.Events():
			if !ok {
				return strings.Join(replies, " ")
			}
			h.events = append(h.events, ev)
			switch ev.Kind {
			case EventReply:
				replies = append(replies, ev.Text)
			case EventReplyEnd, EventEnd:
				return strings.Join(replies, " ")
			}
		case <-timeout:
			h.t.Fatalf("no end of turn; replies so far: %q", replies)
			return ""
		}
	}
}

func (h *harness) send(in Input) string {
	h.t.Helper()
	if err := h.s.Send(context.Background(), in); err != nil {
		h.t.Fatalf("send %+v: %v", in, err)
	}
	return h.turn()
}

func (h *harness) say(text string) string {
	h.t.Helper()
	return h.send(Input{Kind: InputText, Text: text})
}
func (h *harness) key(d string) string {
	h.t.Helper()
	return h.send(Input{Kind: InputDTMF, Digits: d})
}

func (h *harness) last(kind EventKind) (Event, bool) {
	for i := len(h.events) - 1; i >= 0; i-- {
		if h.events[i].Kind == kind {
			return h.events[i], true
		}
	}
	return Event{}, false
}

func (h *harness) ended() (string, bool) {
	ev, ok := h.last(EventEnd)
	return ev.Reason, ok
}

func contains(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Fatalf("reply %q does not contain %q", got, w)
		}
	}
}
