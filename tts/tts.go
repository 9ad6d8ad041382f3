package tts

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hotline-ivr/hotline/audio"
)

// MaxTextLen is the longest text, in characters, one request may carry:
// about five minutes of speech, far more than a caller can follow. See
// ErrTextTooLong for what the bot should do with longer texts.
const MaxTextLen = 5000

// Languages the project speaks.
const (
	LangRU = "ru"
	LangEN = "en"
)

// Synthesizer renders text to speech. Implementations are safe for
// concurrent use.
type Synthesizer interface {
	// Synthesize checks the request and starts rendering it. Errors about
	// the request itself (empty or too long text, unknown language or
	// voice, bad rate) come back here; engine failures during rendering
	// come from Stream.ReadFrame. Cancelling ctx stops the stream.
	Synthesize(ctx context.Context, req Request) (Stream, error)
}

// Stream yields the frames of one reply. ReadFrame is called from one
// goroutine; Close from any.
type Stream interface {
	// ReadFrame returns the next 20 ms frame at the requested rate (the
	// last one is padded with silence to a full frame), io.EOF after the
	// last frame, ErrClosed after Close and the context's error after it
	// ends. After cancellation no further frame is returned.
	ReadFrame() (audio.Frame, error)
	// Close stops rendering, waits for the stream's goroutine and frees
	// what it holds. It is idempotent.
	Close() error
}

// Request is one reply to speak.
type Request struct {
	// Text is the reply as written (digits, abbreviations, URLs): it is
	// prepared for the ear by the engine's stream (see package textprep).
	Text string
	// Lang is LangRU or LangEN.
	Lang string
	// Voice is an engine voice name; empty picks the engine's default
	// for Lang.
	Voice string
	// Rate is the output sample rate: 8000 (telephone), 16000 or 48000
	// (WebRTC). Zero means 8000.
	Rate int
	// Speed scales the speaking rate: 1 is the engine's configured rate,
	// 1.2 is 20% faster. Zero means 1; it is clamped to [0.5, 2].
	Speed float64
	// Source names what the text came from, for example a knowledge-base
	// article ID, so Cache.InvalidateSource can drop its renders when the
	// article changes. Engines ignore it.
	Source string
}

// Normalize fills defaults and checks the request: text length, language,
// rate and speed. Engines call it first; it does not check the voice.
func (r Request) Normalize() (Request, error) {
	if r.Rate == 0 {
		r.Rate = audio.Rate8k
	}
	if r.Rate != audio.Rate8k && r.Rate != audio.Rate16k && r.Rate != audio.Rate48k {
		return r, fmt.Errorf("%w: %d Hz (want 8000, 16000 or 48000)", ErrUnsupportedRate, r.Rate)
	}
	switch r.Lang {
	case LangRU, LangEN:
	case "":
		return r, fmt.Errorf("%w: no language given (want ru or en)", ErrUnsupportedLanguage)
	default:
		return r, fmt.Errorf("%w: %q (want ru or en)", ErrUnsupportedLanguage, r.Lang)
	}
	if strings.TrimSpace(r.Text) == "" {
		return r, ErrEmptyText
	}
	if n := utf8.RuneCountInString(r.Text); n > MaxTextLen {
		return r, fmt.Errorf("%w: %d characters, at most %d per request: speak a summary and offer the rest by SMS", ErrTextTooLong, n, MaxTextLen)
	}
	switch {
	case r.Speed == 0:
		r.Speed = 1
	case r.Speed < 0.5:
		r.Speed = 0.5
	case r.Speed > 2:
		r.Speed = 2
	}
	return r, nil
}

// Renderer is what an engine implements: it renders one prepared sentence.
// NewStream calls it sentence by sentence from the stream's goroutine;
// calls for different streams may run concurrently.
type Renderer interface {
	// Render synthesises the sentence and calls emit with PCM chunks at
	// the engine's native rate as they are produced (one call with the
	// whole sentence is fine). emit never blocks on the listener. Render
	// returns emit's error as soon as emit fails, and the context's error
	// when ctx ends; it should check both often (every chunk).
	Render(ctx context.Context, s Sentence, emit func(pcm []int16, rate int) error) error
}

// Sentence is one unit of rendering.
type Sentence struct {
	// Text is prepared for the ear: words only, with sentence and
	// clause punctuation.
	Text  string
	Lang  string
	Voice string // resolved by the engine, never empty
	Speed float64
}
