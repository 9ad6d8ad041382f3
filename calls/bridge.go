package calls

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/handoff"
	"github.com/hotline-ivr/hotline/voice"
)

// Errors of Bridges.Join.
var (
	// ErrNoCaller: nobody is on hold for that handoff (the caller hung up,
	// the hold ended with a callback, or the call was not bridged).
	ErrNoCaller = errors.New("calls: no caller on hold for this handoff")
	// ErrAlreadyBridged: an agent's leg is joined to that caller already.
	ErrAlreadyBridged = errors.New("calls: the caller is already bridged to an agent")
)

// Queue is what holding a caller needs from the queues: the handoff's
// state and the current estimated wait. *handoff.Center is one.
type Queue interface {
	Estimate(handoffID string) (handoff.View, time.Duration, error)
}

// Bridges pairs callers on hold (their calls.Handler waits in the
// handoff) with the media legs of the agents who accepted them. One
// Bridges is shared by the SIP and WebRTC handlers and the agent media
// endpoint.
type Bridges struct {
	mu      sync.Mutex
	waiting map[string]chan *agentLeg // handoff id → the caller's hold loop
}

// NewBridges returns an empty registry.
func NewBridges() *Bridges { return &Bridges{waiting: map[string]chan *agentLeg{}} }

// agentLeg is an agent's audio joined to a held caller. done is closed by
// the caller's side when the bridge is over (or never started).
type agentLeg struct {
	conn  voice.Conn
	rate  int
	agent string
	done  chan struct{}
}

// Waiting reports whether a caller is on hold for handoffID.
func (b *Bridges) Waiting(handoffID string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.waiting[handoffID]
	return ok
}

// Join bridges an agent's leg (conn at rate, 20 ms frames) to the caller
// on hold for handoffID and blocks until the bridge is over: either side
// hung up. The caller's handler owns the bridge goroutines; Join returns
// once they have stopped.
func (b *Bridges) Join(ctx context.Context, handoffID, agent string, conn voice.Conn, rate int) error {
	b.mu.Lock()
	ch, ok := b.waiting[handoffID]
	b.mu.Unlock()
	if !ok {
		return ErrNoCaller
	}
	leg := &agentLeg{conn: conn, rate: rate, agent: agent, done: make(chan struct{})}
	select {
	case ch <- leg:
	default:
		return ErrAlreadyBridged
	}
	<-leg.done
	return nil
}

// hold registers a caller on hold; leave unregisters it and releases an
// agent leg that arrived too late.
func (b *Bridges) hold(handoffID string) (legs <-chan *agentLeg, leave func()) {
	ch := make(chan *agentLeg, 1)
	b.mu.Lock()
	b.waiting[handoffID] = ch
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		if b.waiting[handoffID] == ch {
			delete(b.waiting, handoffID)
		}
		b.mu.Unlock()
		select {
		case leg := <-ch:
			close(leg.done)
		default:
		}
	}
}

// bridge copies audio both ways between the caller (at callerRate) and
// the agent's leg until either side ends or ctx does. One goroutine per
// direction; both have stopped when it returns. It reports whether the
// agent's side ended first.
func bridge(ctx context.Context, caller voice.Conn, callerRate int, leg *agentLeg) (agentLeft bool) {
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer cancel()
		pump(bctx, caller, leg.conn, leg.rate)
	}()
	go func() {
		defer wg.Done()
		defer cancel()
		pump(bctx, leg.conn, caller, callerRate)
	}()
	select {
	case <-bctx.Done():
	case <-caller.Done():
	case <-leg.conn.Done():
	}
	cancel()
	wg.Wait()
	return isDone(leg.conn) && !isDone(caller)
}

// pump reads 20 ms frames from src and writes them to dst at dstRate,
// resampling when the rates differ.
func pump(ctx context.Context, src, dst voice.Conn, dstRate int) {
	var rs *audio.Resampler
	var pending []int16
	n := audio.SamplesPerFrame(dstRate)
	for ctx.Err() == nil {
		f, err := src.ReadFrame()
		if err != nil || isDone(src) {
			return
		}
		s := f.Samples
		if f.Rate != dstRate && f.Rate > 0 {
			if rs == nil || rs.From() != f.Rate {
				if rs, err = audio.NewResampler(f.Rate, dstRate); err != nil {
					return
				}
			}
			s = rs.Process(s)
		}
		pending = append(pending, s...)
		for len(pending) >= n {
			out := audio.Frame{Rate: dstRate, Samples: append([]int16(nil), pending[:n]...)}
			pending = pending[n:]
			if ctx.Err() != nil || dst.WriteFrame(out) != nil {
				return
			}
		}
	}
}
