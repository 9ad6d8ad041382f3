package festival

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/tts/internal/ttstest"
)

func newEngine(t *testing.T, opts ...Option) *Engine {
	t.Helper()
	return ttstest.Open(t, "Festival is needed (Debian festival, festvox-us-slt-hts, festvox-ru; make setup)", func() (*Engine, error) { return New(opts...) })
}

// TestEngine: plausible renders, cancellation within one frame,
// concurrent renders equal to sequential ones.
func TestEngine(t *testing.T) {
	ttstest.Suite{Plausible: []string{tts.LangEN, tts.LangRU}, Cancel: tts.LangEN, Workers: 4}.Run(t, func(t *testing.T) tts.Synthesizer { return newEngine(t) })
}

func TestVoicesAndInput(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	for _, c := range []struct {
		req  tts.Request
		want error
	}{
		{tts.Request{Text: "Hello.", Lang: "en", Voice: "nosuch_voice"}, tts.ErrUnknownVoice},
		{tts.Request{Text: "Hello.", Lang: "en", Voice: VoiceRU}, tts.ErrUnknownVoice},
		{tts.Request{Text: "Hello.", Lang: "en", Voice: `x") (system "true`}, tts.ErrUnknownVoice},
		{tts.Request{Text: "", Lang: "en"}, tts.ErrEmptyText},
		{tts.Request{Text: "Hello.", Lang: "fr"}, tts.ErrUnsupportedLanguage},
	} {
		if _, err := e.Synthesize(ctx, c.req); !errors.Is(err, c.want) {
			t.Errorf("%+v: %v, want %v", c.req, err, c.want)
		}
	}
	// Quotes, backslashes and Scheme syntax in the text are spoken or
	// dropped, never evaluated.
	s := ttstest.Render(t, e, tts.Request{Text: `He said "stop" \ (quit) now.`, Lang: "en", Rate: audio.Rate8k})
	if len(s) < audio.Rate8k/2 {
		t.Errorf("only %d samples", len(s))
	}
}

// TestRestart: a crashed server is restarted and the next reply works.
func TestRestart(t *testing.T) {
	e := newEngine(t)
	ttstest.Render(t, e, tts.Request{Text: "One.", Lang: "en"})
	e.Kill()
	time.Sleep(50 * time.Millisecond)
	ttstest.Render(t, e, tts.Request{Text: "Two.", Lang: "en"})
}

func TestMissingInstall(t *testing.T) {
	if _, err := New(WithBinary("/nonexistent/festival")); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("missing binary: %v", err)
	}
	if _, err := New(WithVoice("en", "nosuch_voice")); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("missing voice: %v", err)
	}
}
