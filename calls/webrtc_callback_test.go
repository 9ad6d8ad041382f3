package calls

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/handoff"
	"github.com/hotline-ivr/hotline/voice"
)

// requestCallbacks is a Callbacks that takes the whole request, as
// cmd/hotline's does.
type requestCallbacks struct {
	mu  sync.Mutex
	got []CallbackRequest
}

func (f *requestCallbacks) RequestCallback(ctx context.Context, h voice.Handoff, phone string) (string, error) {
	return f.RequestCallbackFor(ctx, CallbackRequest{Handoff: h, Phone: phone})
}

func (f *requestCallbacks) RequestCallbackFor(_ context.Context, r CallbackRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, r)
	return "2026-000777-1", nil
}

// An in-app caller has no caller id: after the max hold the callback
// goes to the number the bot collected in the handoff, with the call's
// transcript and the user, and the app gets a callback event.
func TestWebRTCHoldOverCallbackOnCollectedPhone(t *testing.T) {
	synth := &textSynth{}
	cb := &requestCallbacks{}
	phones := map[string]string{"h-ph": "+79161234567"}
	h := newTestHandler(t, synth, WithCallbacks(cb),
		WithHandoffPhone(func(id string) string { return phones[id] }),
		WithBridges(NewBridges(), &fakeQueue{state: handoff.Queued}, 150*time.Millisecond, time.Hour))
	transcript := []bot.Turn{{Speaker: bot.SpeakerCaller, Text: "operator please"}}
	info := CallInfo{ID: "c1", Channel: "webrtc", User: "alice", Rate: 8000}

	var evs []voice.Event
	emit := func(ev voice.Event) { evs = append(evs, ev) }
	ho := voice.Handoff{Queue: "social", Lang: "en", Mode: voice.TransferBridge, HandoffID: "h-ph", AppealNumber: "2026-000042-7"}
	r := h.handoffWith(context.Background(), newLine(8000, 0), info, voice.Config{Rate: 8000}, ho, transcript, emit, h.log)
	if r.Outcome != OutcomeCallback || r.CallbackAppeal != "2026-000777-1" || len(cb.got) != 1 {
		t.Fatalf("record %+v, callbacks %+v", r, cb.got)
	}
	got := cb.got[0]
	if got.Phone != "+79161234567" || got.Channel != "webrtc" || got.User != "alice" || got.Handoff.Queue != "social" ||
		len(got.Transcript) != 1 {
		t.Errorf("callback request %+v", got)
	}
	said := synthTexts(synth)
	if len(said) != 1 || !strings.Contains(said[0], "2026-000777-1") || !strings.Contains(said[0], "call you back") {
		t.Errorf("the caller was told %q", said)
	}
	if len(evs) != 1 || evs[0].Type != EventCallback || evs[0].AppealNumber != "2026-000777-1" {
		t.Errorf("events %+v", evs)
	}

	// No number known: the appeal is still registered (with the
	// transcript) and the caller is told to expect the answer in the app.
	synth.texts, cb.got = nil, nil
	ho.HandoffID, ho.Lang = "h-none", "ru"
	r = h.handoffWith(context.Background(), newLine(8000, 0), info, voice.Config{Rate: 8000}, ho, transcript, nil, h.log)
	if r.Outcome != OutcomeCallback || len(cb.got) != 1 || cb.got[0].Phone != "" || len(cb.got[0].Transcript) != 1 {
		t.Fatalf("record %+v, callbacks %+v", r, cb.got)
	}
	if said := synthTexts(synth); len(said) != 1 || !strings.Contains(said[0], "2026-000777-1") ||
		!strings.Contains(said[0], "в приложении") {
		t.Errorf("the caller was told %q", said)
	}
}

// A SIP caller's caller id wins over a collected number, and the plain
// Callbacks interface still works.
func TestCallbackCallerIDFirst(t *testing.T) {
	synth := &textSynth{}
	cb := &fakeCallbacks{}
	h := newTestHandler(t, synth, WithCallbacks(cb), WithHandoffPhone(func(string) string { return "+70000000000" }))
	ho := voice.Handoff{Queue: "general", Lang: "ru", Mode: voice.TransferBridge, HandoffID: "h1"}
	r := h.handoff(context.Background(), &fakeCall{done: make(chan struct{})}, CallInfo{Channel: "sip", From: "+79161234567"},
		voice.Config{Rate: 8000}, ho, nil, h.log)
	if r.Outcome != OutcomeCallback || cb.phone != "+79161234567" {
		t.Errorf("record %+v, phone %q", r, cb.phone)
	}
}
