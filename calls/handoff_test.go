package calls

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/telephony/media"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/voice"
)

// fakeCall is a Conn that can be transferred; it records what it was
// told.
type fakeCall struct {
	mu      sync.Mutex
	written int
	referTo string
	headers map[string]string
	fail    error
	done    chan struct{}
}

func (c *fakeCall) ReadFrame() (audio.Frame, error) { return audio.Frame{}, io.EOF }
func (c *fakeCall) WriteFrame(audio.Frame) error {
	c.mu.Lock()
	c.written++
	c.mu.Unlock()
	return nil
}
func (c *fakeCall) ClearPlayback() int       { return 0 }
func (c *fakeCall) DTMF() <-chan media.Digit { return nil }
func (c *fakeCall) Done() <-chan struct{}    { return c.done }
func (c *fakeCall) Transfer(_ context.Context, uri string, h map[string]string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.referTo, c.headers = uri, h
	return c.fail
}

// textSynth "speaks" one frame per word and remembers the texts.
type textSynth struct {
	mu    sync.Mutex
	texts []string
}

func (s *textSynth) Synthesize(_ context.Context, r tts.Request) (tts.Stream, error) {
	s.mu.Lock()
	s.texts = append(s.texts, r.Text)
	s.mu.Unlock()
	return &wordStream{n: len(strings.Fields(r.Text)), rate: r.Rate}, nil
}

type wordStream struct{ n, rate int }

func (w *wordStream) ReadFrame() (audio.Frame, error) {
	if w.n == 0 {
		return audio.Frame{}, io.EOF
	}
	w.n--
	return audio.Frame{Rate: w.rate, Samples: make([]int16, audio.SamplesPerFrame(w.rate))}, nil
}
func (w *wordStream) Close() error { return nil }

type fakeCallbacks struct {
	got         []voice.Handoff
	phone       string
	err         error
	transferred []string // handoff id → refer-to, as "id>uri"
}

func (f *fakeCallbacks) Transferred(_ context.Context, h voice.Handoff, referTo string) error {
	f.transferred = append(f.transferred, h.HandoffID+">"+referTo)
	return nil
}

func (f *fakeCallbacks) RequestCallback(_ context.Context, h voice.Handoff, phone string) (string, error) {
	f.got, f.phone = append(f.got, h), phone
	return "2026-000123-4", f.err
}

func newTestHandler(t *testing.T, synth tts.Synthesizer, opts ...Option) *Handler {
	t.Helper()
	h, err := New(voice.Deps{Synth: synth, Recognizers: func(string) (asr.Recognizer, error) { return nil, voice.ErrNoRecognizer }},
		func(id, phone string) bot.Config { return bot.Config{ID: id, CallerPhone: phone} }, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHandoffByREFER(t *testing.T) {
	synth := &textSynth{}
	cb := &fakeCallbacks{}
	h := newTestHandler(t, synth, WithCallbacks(cb),
		WithReferURI(func(q string) string { return map[string]string{"social": "sip:social@pbx"}[q] }))
	call := &fakeCall{done: make(chan struct{})}
	ho := voice.Handoff{Queue: "social", AppealNumber: "2026-000042-7", Lang: "en", Mode: voice.TransferRefer, HandoffID: "h1"}
	r := h.handoff(context.Background(), call, CallInfo{From: "+79161234567", Rate: 16000}, voice.Config{Rate: 16000}, ho, nil, h.log)
	if r.Outcome != OutcomeTransferred || r.ReferTo != "sip:social@pbx" || call.headers[AppealHeader] != "2026-000042-7" {
		t.Errorf("transfer: %+v, REFER to %q with %v", r, call.referTo, call.headers)
	}
	if len(cb.got) != 0 || len(synth.texts) != 0 {
		t.Errorf("a transferred call got a callback %v or a prompt %q", cb.got, synth.texts)
	}
	if len(cb.transferred) != 1 || cb.transferred[0] != "h1>sip:social@pbx" {
		t.Errorf("the desk handoff was not withdrawn after the transfer: %v", cb.transferred)
	}
}

func TestFailedTransferBecomesCallback(t *testing.T) {
	synth := &textSynth{}
	cb := &fakeCallbacks{}
	h := newTestHandler(t, synth, WithCallbacks(cb), WithReferURI(func(string) string { return "sip:q@pbx" }),
		WithTransferTimeout(time.Second))
	call := &fakeCall{done: make(chan struct{}), fail: errors.New("target answered 486")}
	ho := voice.Handoff{Queue: "general", Lang: "en", Mode: voice.TransferRefer}
	r := h.handoff(context.Background(), call, CallInfo{From: "+79161234567", Rate: 8000}, voice.Config{Rate: 8000}, ho, nil, h.log)
	if r.Outcome != OutcomeCallback || r.CallbackAppeal != "2026-000123-4" || len(cb.got) != 1 || cb.phone != "+79161234567" {
		t.Fatalf("failed transfer: %+v, callbacks %v", r, cb.got)
	}
	if len(synth.texts) != 1 || !strings.Contains(synth.texts[0], "2026-000123-4") || !strings.Contains(synth.texts[0], "call you back") {
		t.Errorf("the caller was told %q", synth.texts)
	}
	if len(cb.transferred) != 0 {
		t.Errorf("a failed transfer withdrew the handoff as transferred: %v", cb.transferred)
	}
	if call.written == 0 {
		t.Error("no audio was written")
	}
}

func TestBridgeWithoutAgentLegIsCallback(t *testing.T) {
	synth := &textSynth{}
	cb := &fakeCallbacks{}
	h := newTestHandler(t, synth, WithCallbacks(cb))
	call := &fakeCall{done: make(chan struct{})}
	ho := voice.Handoff{Queue: "general", Lang: "ru", Mode: voice.TransferBridge}
	r := h.handoff(context.Background(), call, CallInfo{}, voice.Config{Rate: 8000}, ho, nil, h.log)
	if r.Outcome != OutcomeCallback || call.referTo != "" || len(synth.texts) != 1 || !strings.Contains(synth.texts[0], "обратный звонок") {
		t.Errorf("bridge: %+v, REFER %q, said %q", r, call.referTo, synth.texts)
	}
	// A caller already gone hears nothing and gets no callback from here.
	close(call.done)
	synth.texts, cb.got = nil, nil
	r = h.handoff(context.Background(), call, CallInfo{}, voice.Config{Rate: 8000}, ho, nil, h.log)
	if r.Outcome != OutcomeLeftQueued || len(cb.got) != 0 || len(synth.texts) != 0 {
		t.Errorf("hung-up caller: %+v %v %q", r, cb.got, synth.texts)
	}
}

func TestPartialsGoWithTheirUtterance(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	p := &partialLog{now: func() time.Time { return at }}
	for _, ev := range []voice.Event{
		{Type: voice.EventPartial, Text: "what"}, {Type: voice.EventPartial, Text: "what"},
		{Type: voice.EventPartial, Text: "what are the"}, {Type: voice.EventFinal, Text: "what are the operator hours"},
		{Type: voice.EventReply, Text: "..."}, {Type: voice.EventFinal, Text: "yes"},
	} {
		p.add(ev)
	}
	turns := []Turn{{Speaker: "bot", Text: "hello"}, {Speaker: "caller", Text: "[DTMF 2]"},
		{Speaker: "caller", Text: "what are the operator hours"}, {Speaker: "caller", Text: "yes"}}
	attachPartials(turns, p.finals)
	if len(turns[1].Partials) != 0 || len(turns[2].Partials) != 2 || turns[2].Partials[1].Text != "what are the" ||
		len(turns[3].Partials) != 0 {
		t.Errorf("turns = %+v", turns)
	}
}
