package espeak

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/tts/internal/ttstest"
)

func newEngine(t *testing.T, opts ...Option) *Engine {
	t.Helper()
	return ttstest.Open(t, "eSpeak NG is needed (Debian espeak-ng, libespeak-ng-dev; make setup)", func() (*Engine, error) { return New(opts...) })
}

// TestEngine: plausible renders, cancellation within one frame,
// concurrent renders equal to sequential ones.
func TestEngine(t *testing.T) {
	ttstest.Suite{Plausible: []string{tts.LangRU, tts.LangEN}, Cancel: tts.LangRU, Workers: 6}.Run(t, func(t *testing.T) tts.Synthesizer { return newEngine(t) })
}

func TestVoices(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	for _, c := range []struct {
		voice, lang string
		want        error
	}{
		{"en-gb", "en", nil},
		{"en-us+f3", "en", nil},
		{"ru", "ru", nil},
		{"Russian", "ru", nil},
		{"klingon", "en", tts.ErrUnknownVoice},
		{"ru", "en", tts.ErrUnknownVoice},
		{"en-us+nosuchvariant", "en", tts.ErrUnknownVoice},
	} {
		st, err := e.Synthesize(ctx, tts.Request{Text: "Hello. Привет.", Lang: c.lang, Voice: c.voice})
		if !errors.Is(err, c.want) {
			t.Errorf("voice %q lang %s: %v, want %v", c.voice, c.lang, err, c.want)
		}
		if err == nil {
			if _, err := ttstest.Drain(st); err != nil {
				t.Errorf("voice %q: %v", c.voice, err)
			}
		}
	}
	if _, err := New(WithVoice("ru", "nosuch")); !errors.Is(err, tts.ErrUnknownVoice) {
		t.Errorf("New with a missing default voice: %v", err)
	}
	if len(e.Voices("ru")) == 0 {
		t.Error("no Russian voices listed")
	}
}

// TestRateAndPitch: a faster rate gives shorter audio; engines with
// different settings share the worker without affecting each other.
func TestRateAndPitch(t *testing.T) {
	slow := newEngine(t, WithRate(120))
	fast := newEngine(t, WithRate(240), WithPitch(70))
	text := ttstest.Sentences[tts.LangEN][1]
	a := ttstest.Render(t, slow, tts.Request{Text: text, Lang: "en"})
	b := ttstest.Render(t, fast, tts.Request{Text: text, Lang: "en"})
	if float64(len(b)) > 0.7*float64(len(a)) {
		t.Errorf("240 wpm gave %d samples, 120 wpm %d", len(b), len(a))
	}
	c := ttstest.Render(t, slow, tts.Request{Text: text, Lang: "en", Speed: 2})
	if float64(len(c)) > 0.7*float64(len(a)) {
		t.Errorf("speed 2 gave %d samples, speed 1 %d", len(c), len(a))
	}
	if _, err := New(WithRate(10)); err == nil {
		t.Error("rate 10 accepted")
	}
}

func TestBadInput(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	for _, c := range []struct {
		req  tts.Request
		want error
	}{
		{tts.Request{Text: "", Lang: "ru"}, tts.ErrEmptyText},
		{tts.Request{Text: "❤️🙂", Lang: "ru"}, tts.ErrEmptyText},
		{tts.Request{Text: strings.Repeat("Текст ответа. ", 8000), Lang: "ru"}, tts.ErrTextTooLong},
		{tts.Request{Text: "Hallo", Lang: "de"}, tts.ErrUnsupportedLanguage},
	} {
		if _, err := e.Synthesize(ctx, c.req); !errors.Is(err, c.want) {
			t.Errorf("%.20q %s: %v, want %v", c.req.Text, c.req.Lang, err, c.want)
		}
	}
	// Unsupported characters are dropped, the rest is spoken.
	s := ttstest.Render(t, e, tts.Request{Text: "Ваш номер 中文 принят ✅.", Lang: "ru", Rate: audio.Rate8k})
	if len(s) < audio.Rate8k/2 {
		t.Errorf("only %d samples", len(s))
	}
}

// TestReopen: the library is terminated with the last engine and can be
// initialised again.
func TestReopen(t *testing.T) {
	for range 2 {
		e, err := New()
		if err != nil {
			t.Fatal(err)
		}
		ttstest.Render(t, e, tts.Request{Text: "One.", Lang: "en"})
		e.Close()
		e.Close()
		if _, err := e.Synthesize(context.Background(), tts.Request{Text: "One.", Lang: "en"}); !errors.Is(err, tts.ErrClosed) {
			t.Errorf("after Close: %v", err)
		}
	}
}
