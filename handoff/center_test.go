package handoff

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *fakeClock) set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var msk = func() *time.Location { l, _ := time.LoadLocation("Europe/Moscow"); return l }()

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, msk)
	if err != nil {
		panic(err)
	}
	return t
}

// Monday 2025-03-03 10:00 Moscow.
func newCenter(t *testing.T, opts ...Option) (*Center, *fakeClock) {
	t.Helper()
	qs, err := DefaultQueues()
	if err != nil {
		t.Fatal(err)
	}
	holiday, err := qs[0].Schedule.WithHolidays(map[string]string{"2025-03-08": "closed", "2025-05-09": "10:00-14:00"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range qs {
		qs[i].Schedule = holiday
	}
	clk := &fakeClock{t: at("2025-03-03 10:00")}
	opts = append([]Option{WithClock(clk.now), WithTick(time.Hour), WithDisconnectGrace(0)}, opts...)
	c, err := New(qs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, clk
}

func TestScheduleEveryQueue(t *testing.T) {
	c, clk := newCenter(t)
	cases := []struct {
		now      string
		open     bool
		nextOpen string
	}{
		{"2025-03-03 07:59", false, "2025-03-03 08:00"}, // Monday before opening
		{"2025-03-03 08:00", true, ""},
		{"2025-03-03 19:59", true, ""},
		{"2025-03-03 20:00", false, "2025-03-04 08:00"},
		{"2025-03-07 21:00", false, "2025-03-09 10:00"}, // Friday night: Saturday 8 March is a holiday → Sunday 10:00
		{"2025-03-09 09:59", false, "2025-03-09 10:00"}, // Sunday
		{"2025-03-09 15:59", true, ""},
		{"2025-03-09 16:00", false, "2025-03-10 08:00"},
		{"2025-03-15 08:30", false, "2025-03-15 09:00"}, // ordinary Saturday 09–18
		{"2025-03-15 17:59", true, ""},
		{"2025-05-09 09:00", false, "2025-05-09 10:00"}, // shortened holiday
		{"2025-05-09 14:00", false, "2025-05-10 09:00"},
	}
	for _, q := range []string{"general", "tech", "social", "business", "abroad"} {
		for _, tc := range cases {
			clk.set(at(tc.now))
			d, err := c.Route(Request{Queue: q})
			if err != nil {
				t.Fatal(err)
			}
			if d.InHours != tc.open || d.Callback == tc.open || d.Queue != q {
				t.Fatalf("%s at %s: %+v", q, tc.now, d)
			}
			if !tc.open && !d.NextOpen.Equal(at(tc.nextOpen)) {
				t.Fatalf("%s at %s: next open %s, want %s", q, tc.now, d.NextOpen.In(msk), tc.nextOpen)
			}
		}
	}
}

func TestTopicRouting(t *testing.T) {
	c, _ := newCenter(t)
	for req, want := range map[*Request]string{
		{Topic: "pension"}: "social", {Intent: "tax"}: "business", {Region: "abroad"}: "abroad",
		{Topic: "portal"}: "tech", {Intent: "faq"}: "general", {}: "general",
	} {
		d, err := c.Route(*req)
		if err != nil || d.Queue != want {
			t.Errorf("%+v → %s %v, want %s", *req, d.Queue, err, want)
		}
	}
	if _, err := c.Route(Request{Queue: "nope"}); !errors.Is(err, ErrUnknownQueue) {
		t.Fatalf("unknown queue: %v", err)
	}
}

func drain(sub *Subscription) []Event {
	var out []Event
	for {
		select {
		case ev, ok := <-sub.C:
			if !ok {
				return out
			}
			out = append(out, ev)
		default:
			return out
		}
	}
}

func offersTo(evs []Event, agent string) []string {
	var ids []string
	for _, ev := range evs {
		if ev.Type == EventOffer && ev.Agent == agent {
			ids = append(ids, ev.Handoff.ID)
		}
	}
	return ids
}

func ready(t *testing.T, c *Center, id string, skills ...string) {
	t.Helper()
	c.Connect(id)
	if _, err := c.SetPresence(id, PresenceUpdate{State: Ready, Skills: skills}); err != nil {
		t.Fatal(err)
	}
}

func TestPriorityOrdering(t *testing.T) {
	c, _ := newCenter(t)
	plain, _ := c.Submit(Request{Queue: "social"})
	repeat, _ := c.Submit(Request{Queue: "social", RepeatCaller: true})
	open, _ := c.Submit(Request{Queue: "social", HasOpenAppeal: true})
	both, _ := c.Submit(Request{Queue: "social", HasOpenAppeal: true, RepeatCaller: true})
	if plain.Position != 1 || repeat.Position != 1 || open.Position != 1 || both.Position != 1 {
		t.Fatalf("positions at submit: %d %d %d %d", plain.Position, repeat.Position, open.Position, both.Position)
	}
	sub := c.Subscribe("a", false)
	defer sub.Close()
	var got []string
	ready(t, c, "a")
	for i := 0; i < 4; i++ {
		ids := offersTo(drain(sub), "a")
		if len(ids) != 1 {
			t.Fatalf("round %d: offers %v", i, ids)
		}
		got = append(got, ids[0])
		if _, err := c.Accept("a", ids[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := c.WrapUp("a", ids[0], "консультация"); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{both.HandoffID, open.HandoffID, repeat.HandoffID, plain.HandoffID}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestLongestIdleDeclineAndTimeout(t *testing.T) {
	c, clk := newCenter(t, WithOfferTimeout(20*time.Second))
	subA, subB := c.Subscribe("a", false), c.Subscribe("b", false)
	defer subA.Close()
	defer subB.Close()
	ready(t, c, "a")
	clk.add(time.Second)
	ready(t, c, "b")
	d, _ := c.Submit(Request{Queue: "tech", AppealNumber: mustNumber(t)})
	if ids := offersTo(drain(subA), "a"); len(ids) != 1 || ids[0] != d.HandoffID {
		t.Fatalf("longest idle agent a not offered: %v", ids)
	}
	if err := c.Decline("a", d.HandoffID); err != nil {
		t.Fatal(err)
	}
	if ids := offersTo(drain(subB), "b"); len(ids) != 1 {
		t.Fatalf("declined offer not passed to b: %v", ids)
	}
	if _, err := c.Accept("a", d.HandoffID); !errors.Is(err, ErrNotOffered) {
		t.Fatalf("a accepting b's offer: %v", err)
	}
	// b does not answer: the offer times out, b goes away.
	clk.add(21 * time.Second)
	c.Tick()
	evs := drain(subB)
	revoked := false
	for _, ev := range evs {
		revoked = revoked || (ev.Type == EventOfferRevoked && ev.Reason == "timeout")
	}
	if !revoked {
		t.Fatalf("no timeout revoke: %+v", evs)
	}
	for _, a := range c.Agents() {
		if a.ID == "b" && a.State != Away {
			t.Fatalf("b after missed offer: %s", a.State)
		}
	}
	// a declined less than a minute ago; after that, a gets it again.
	clk.add(time.Minute)
	c.Tick()
	if ids := offersTo(drain(subA), "a"); len(ids) != 1 {
		t.Fatalf("offer not back to a: %v", ids)
	}
}

func mustNumber(t *testing.T) string {
	n, err := appeal.NewNumber()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDisconnectReturnsHandoffToFront(t *testing.T) {
	c, clk := newCenter(t, WithDisconnectGrace(5*time.Second))
	sub := c.Subscribe("a", false)
	defer sub.Close()
	ready(t, c, "a")
	number := mustNumber(t)
	d1, _ := c.Submit(Request{Queue: "general", AppealNumber: number, Intent: "complaint",
		Transcript: []appeal.TranscriptTurn{{Speaker: appeal.SpeakerCaller, Text: "жалоба"}}, WaitSoFar: 30 * time.Second})
	if _, err := c.Accept("a", d1.HandoffID); err != nil {
		t.Fatal(err)
	}
	c.Submit(Request{Queue: "general"})
	c.Submit(Request{Queue: "general"})
	c.Disconnect("a")
	clk.add(2 * time.Second)
	c.Tick()
	if v, _ := c.Get(d1.HandoffID); v.State != Accepted {
		t.Fatalf("returned within the grace: %s", v.State)
	}
	// Reconnect within the grace: still theirs.
	c.Connect("a")
	c.Disconnect("a")
	clk.add(6 * time.Second)
	c.Tick()
	v, err := c.Get(d1.HandoffID)
	if err != nil || v.State != Queued || v.Agent != "" || v.AppealNumber != number || len(v.Transcript) != 1 || v.Intent != "complaint" {
		t.Fatalf("after disconnect: %+v %v", v, err)
	}
	// A new agent gets it first: it is at the front.
	sub2 := c.Subscribe("b", false)
	defer sub2.Close()
	ready(t, c, "b")
	if ids := offersTo(drain(sub2), "b"); len(ids) != 1 || ids[0] != d1.HandoffID {
		t.Fatalf("front of queue: %v", ids)
	}
	if v, _ := c.Accept("b", d1.HandoffID); v.CallerWaitSec < 30 {
		t.Fatalf("caller wait lost: %d", v.CallerWaitSec)
	}
}

func TestEWTAndOverflow(t *testing.T) {
	c, clk := newCenter(t)
	// No data, no agents: default 3 min handle time, one agent assumed.
	d, _ := c.Route(Request{Queue: "general"})
	if d.EWTSeconds != 180 || d.Position != 1 {
		t.Fatalf("empty queue: %+v", d)
	}
	// Two social agents busy, with a measured handle time of 60 s.
	ready(t, c, "s1", "social")
	ready(t, c, "s2", "social")
	acceptAll := func() {
		t.Helper()
		for _, a := range c.Agents() {
			if a.Offer != "" {
				if _, err := c.Accept(a.ID, a.Offer); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	c.Submit(Request{Queue: "social"})
	c.Submit(Request{Queue: "social"})
	acceptAll()
	clk.add(60 * time.Second)
	views := c.Agents()
	for _, a := range views {
		if _, err := c.WrapUp(a.ID, a.Handoff, "готово"); err != nil {
			t.Fatal(err)
		}
	}
	c.Submit(Request{Queue: "social"})
	c.Submit(Request{Queue: "social"})
	acceptAll()
	for i := 0; i < 3; i++ {
		c.Submit(Request{Queue: "social"})
	}
	// Position 4 with 2 agents at 60 s: 120 s.
	d, _ = c.Route(Request{Queue: "social"})
	if d.Queue != "social" || d.Position != 4 || d.EWTSeconds != 120 || d.Overflowed {
		t.Fatalf("social EWT: %+v", d)
	}
	// Four more: 7 ahead → 210 s, past the 3 min overflow limit, while a
	// ready general agent can answer at once.
	for i := 0; i < 3; i++ {
		c.Submit(Request{Queue: "social"})
	}
	ready(t, c, "g1", "general")
	d, _ = c.Route(Request{Queue: "social"})
	if !d.Overflowed || d.Queue != "general" || d.OverflowFrom != "social" || d.EWTSeconds != 0 {
		t.Fatalf("overflow at routing: %+v", d)
	}
	// Handoffs already waiting in social go to the general agent once they
	// waited the overflow limit.
	sub := c.Subscribe("g1", false)
	defer sub.Close()
	c.Tick()
	if ids := offersTo(drain(sub), "g1"); len(ids) != 0 {
		t.Fatalf("overflow before the limit: %v", ids)
	}
	clk.add(3 * time.Minute)
	c.Tick()
	if ids := offersTo(drain(sub), "g1"); len(ids) != 1 {
		t.Fatalf("no overflow offer after the limit: %v", ids)
	}
}

func TestOutOfHoursCallbackOfferedWhenQueueOpens(t *testing.T) {
	c, clk := newCenter(t)
	clk.set(at("2025-03-03 21:00"))
	d, err := c.Submit(Request{Queue: "general", AppealNumber: mustNumber(t)})
	if err != nil || !d.Callback || !d.NextOpen.Equal(at("2025-03-04 08:00")) || d.Transfer.Mode != TransferNone {
		t.Fatalf("%+v %v", d, err)
	}
	sub := c.Subscribe("night", false)
	defer sub.Close()
	ready(t, c, "night")
	if ids := offersTo(drain(sub), "night"); len(ids) != 0 {
		t.Fatalf("callback offered out of hours: %v", ids)
	}
	if qs := c.Queues(); qs[0].Callbacks != 1 || qs[0].Open {
		t.Fatalf("stats %+v", qs[0])
	}
	clk.set(at("2025-03-04 08:00"))
	c.Tick()
	if ids := offersTo(drain(sub), "night"); len(ids) != 1 || ids[0] != d.HandoffID {
		t.Fatalf("callback not offered at opening: %v", ids)
	}
}

func TestReassignAndTransfer(t *testing.T) {
	c, _ := newCenter(t)
	qs, _ := DefaultQueues()
	_ = qs
	ready(t, c, "a")
	c.Connect("b") // connected, away
	number := mustNumber(t)
	d, _ := c.Submit(Request{Queue: "general", Channel: appeal.Voice, AppealNumber: number})
	if d.Transfer.Mode != TransferBridge || d.Transfer.Headers[HeaderAppeal] != number {
		t.Fatalf("transfer %+v", d.Transfer)
	}
	c.Accept("a", d.HandoffID)
	v, err := c.Reassign(d.HandoffID, "b", "")
	if err != nil || v.State != Offered || v.Agent != "b" {
		t.Fatalf("reassign: %+v %v", v, err)
	}
	if _, err := c.Accept("b", d.HandoffID); err != nil {
		t.Fatal(err)
	}
	v, err = c.Reassign(d.HandoffID, "", "tech")
	if err != nil || v.Queue != "tech" {
		t.Fatalf("to queue: %+v %v", v, err)
	}
	if _, err := c.Reassign(d.HandoffID, "ghost", ""); !errors.Is(err, ErrAgentUnknown) {
		t.Fatalf("ghost: %v", err)
	}
	chat, _ := c.Submit(Request{Queue: "general", Channel: appeal.Chat})
	if chat.Transfer.Mode != TransferChat {
		t.Fatalf("chat transfer %+v", chat.Transfer)
	}
	if _, err := c.Message(chat.HandoffID, appeal.TranscriptTurn{Speaker: appeal.SpeakerCaller, Text: "алло"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Cancel(chat.HandoffID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(chat.HandoffID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("canceled still there: %v", err)
	}
}

func TestHubDropsSlowConsumer(t *testing.T) {
	h := NewHub()
	slow := h.Subscribe(nil, 2)
	fast := h.Subscribe(nil, 100)
	for i := 0; i < 10; i++ {
		h.Publish(Event{Type: EventQueues})
	}
	if !slow.Dropped() || len(drain(fast)) != 10 || h.Len() != 1 {
		t.Fatalf("slow dropped=%v, hub has %d", slow.Dropped(), h.Len())
	}
	if n := len(drain(slow)); n != 2 {
		t.Fatalf("slow consumer kept %d", n)
	}
	slow.Close()
	fast.Close()
	fast.Close()
}

func TestEstimateForHeldCaller(t *testing.T) {
	c, _ := newCenter(t)
	first, _ := c.Submit(Request{Queue: "general", Channel: appeal.Voice})
	second, _ := c.Submit(Request{Queue: "general", Channel: appeal.Voice})
	_, w1, err := c.Estimate(first.HandoffID)
	if err != nil {
		t.Fatal(err)
	}
	v, w2, _ := c.Estimate(second.HandoffID)
	if w1 != 3*time.Minute || w2 != 6*time.Minute || v.State != Queued {
		t.Fatalf("waits %v %v, state %s", w1, w2, v.State)
	}
	ready(t, c, "a1", "general")
	for _, a := range c.Agents() {
		if a.Offer != "" {
			if _, err := c.Accept(a.ID, a.Offer); err != nil {
				t.Fatal(err)
			}
		}
	}
	v, w1, _ = c.Estimate(first.HandoffID)
	if v.State != Accepted || v.Agent != "a1" || w1 != 0 {
		t.Fatalf("after accept: %s %s %v", v.State, v.Agent, w1)
	}
	if _, w2, _ = c.Estimate(second.HandoffID); w2 != 3*time.Minute {
		t.Fatalf("second now %v", w2)
	}
	if _, _, err := c.Estimate("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
}
