package asr

import (
	"context"
	"sync"
	"time"
)

// Decoder is the synchronous engine side of a stream: one utterance at a
// time, audio at the engine's own rate, called from one goroutine only.
// Engines implement it; NewStream turns it into a Stream.
type Decoder interface {
	// SampleRate is the rate Accept expects (16000 for both engines).
	SampleRate() int
	// Accept decodes more audio of the current utterance. endpoint reports
	// that the engine itself detected the end of an utterance (Vosk does;
	// PocketSphinx never does): the stream then asks for Final.
	Accept(pcm []int16) (endpoint bool, err error)
	// Partial returns the current hypothesis of the utterance, "" if none.
	Partial() string
	// Final ends the utterance and returns its result with times relative
	// to the first sample accepted since the last Final or Reset. The next
	// Accept starts a new utterance.
	Final() (Result, error)
	// Reset drops the utterance in progress.
	Reset()
	// Close frees (or returns to a pool) the engine resources. The decoder
	// is not used afterwards.
	Close() error
}

// Limiter caps concurrent streams of an engine. A new stream waits up to a
// bounded time for a free slot instead of overloading the CPU, which would
// make every call's recognition late.
type Limiter struct {
	slots chan struct{}
	wait  time.Duration
}

// NewLimiter allows n concurrent holders; Acquire waits up to wait.
func NewLimiter(n int, wait time.Duration) *Limiter {
	return &Limiter{slots: make(chan struct{}, max(n, 1)), wait: wait}
}

// Acquire takes a slot. It returns ErrBusy when none frees up within the
// wait, or the context's error. release is idempotent.
func (l *Limiter) Acquire(ctx context.Context) (release func(), err error) {
	select {
	case l.slots <- struct{}{}:
	default:
		t := time.NewTimer(l.wait)
		defer t.Stop()
		select {
		case l.slots <- struct{}{}:
		case <-t.C:
			return nil, ErrBusy
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var once sync.Once
	return func() { once.Do(func() { <-l.slots }) }, nil
}

// InUse is the number of slots taken.
func (l *Limiter) InUse() int { return len(l.slots) }

// Cap is the number of slots.
func (l *Limiter) Cap() int { return cap(l.slots) }
