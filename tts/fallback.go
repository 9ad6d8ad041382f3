package tts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hotline-ivr/hotline/audio"
)

// Fallback is a Synthesizer that tries a primary engine (a remote speech
// endpoint) and switches to a secondary (the embedded engine) when the
// primary fails or has not produced its first frame within the timeout, so
// a slow or broken endpoint costs the caller at most the timeout.
type Fallback struct {
	primary, secondary Synthesizer
	timeout            time.Duration
	log                *slog.Logger
}

// NewFallback returns a Fallback; timeout bounds the wait for the
// primary's first frame (default 2 s).
func NewFallback(primary, secondary Synthesizer, timeout time.Duration, log *slog.Logger) *Fallback {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Fallback{primary: primary, secondary: secondary, timeout: timeout, log: log}
}

// Synthesize returns once the primary has produced its first frame, or
// the secondary has taken over. Errors about the request itself (empty or
// too long text, unknown language, bad rate) are returned as they are:
// another engine would fail the same way. The voice is engine-specific, so
// the secondary gets the request with its default voice.
func (f *Fallback) Synthesize(ctx context.Context, req Request) (Stream, error) {
	req, err := req.Normalize()
	if err != nil {
		return nil, err
	}
	type first struct {
		f   audio.Frame
		err error
	}
	pctx, cancel := context.WithCancel(ctx)
	st, err := f.primary.Synthesize(pctx, req)
	if err == nil {
		ch := make(chan first, 1)
		go func() {
			fr, err := st.ReadFrame()
			ch <- first{fr, err}
		}()
		timer := time.NewTimer(f.timeout)
		defer timer.Stop()
		got := false
		select {
		case r := <-ch:
			if r.err == nil {
				return &firstFrameStream{Stream: st, first: r.f, has: true, cancel: cancel}, nil
			}
			err, got = r.err, true
		case <-timer.C:
			err = fmt.Errorf("%w: no audio within %v", ErrTimeout, f.timeout)
		case <-ctx.Done():
			err = ctx.Err()
		}
		cancel()
		st.Close()
		if !got {
			<-ch
		}
	} else {
		cancel()
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if errors.Is(err, ErrEmptyText) || errors.Is(err, ErrTextTooLong) {
		return nil, err
	}
	f.log.Warn("tts: primary engine failed, using fallback", "err", err)
	req.Voice = ""
	return f.secondary.Synthesize(ctx, req)
}

// firstFrameStream replays the frame the fallback waited for.
type firstFrameStream struct {
	Stream
	first  audio.Frame
	has    bool
	cancel context.CancelFunc
	closed atomic.Bool
}

func (s *firstFrameStream) ReadFrame() (audio.Frame, error) {
	if s.closed.Load() {
		return audio.Frame{}, ErrClosed
	}
	if s.has {
		s.has = false
		return s.first, nil
	}
	return s.Stream.ReadFrame()
}

func (s *firstFrameStream) Close() error {
	s.closed.Store(true)
	err := s.Stream.Close()
	s.cancel()
	return err
}

// ByLang routes each request to the synthesizer for its language, so each
// language can use the engine that speaks it best.
type ByLang map[string]Synthesizer

// Synthesize implements Synthesizer.
func (m ByLang) Synthesize(ctx context.Context, req Request) (Stream, error) {
	s, ok := m[req.Lang]
	if !ok {
		return nil, fmt.Errorf("%w: %q has no engine configured", ErrUnsupportedLanguage, req.Lang)
	}
	return s.Synthesize(ctx, req)
}
