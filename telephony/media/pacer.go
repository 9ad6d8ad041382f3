package media

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-ivr/hotline/audio"
)

// A pacer drives the 20 ms clock of many sessions from one goroutine and
// one timer: every tick it sends one packet of each session's bot audio and
// plays out one frame of each session's caller audio. A ticker per session
// (two, with the playout) costs hundreds of timer wake-ups and goroutine
// switches per tick at a few hundred calls; a pacer costs one each, and
// there are only a few (pacersPerCPU).
//
// Ticks are scheduled on absolute deadlines from the loop's start (no
// drift), and a tick that comes late catches up on the frames it owes, so
// every session keeps real time. The loop exits when its last session is
// removed and starts again with the next one.
type pacer struct {
	mu       sync.Mutex // held for a whole tick: remove waits for it
	sessions []*Session
	n        atomic.Int32 // len(sessions), for pacerFor without waiting for a tick
	running  bool
	kick     chan struct{}
	phase    time.Duration // offset of this pacer's ticks within the 20 ms period
}

var (
	pacersOnce sync.Once
	pacers     []*pacer
	pacerEpoch time.Time
)

// pacersPerCPU: two loops per CPU, their ticks staggered evenly over the
// 20 ms period, keep each tick's burst of work (and of packets) short and
// spread it over the period instead of doing it all at one instant.
const pacersPerCPU = 2

// pacerFor returns the pacer with the fewest sessions.
func pacerFor() *pacer {
	pacersOnce.Do(func() {
		pacerEpoch = time.Now()
		n := pacersPerCPU * max(1, runtime.GOMAXPROCS(0))
		for i := range n {
			pacers = append(pacers, &pacer{kick: make(chan struct{}, 1),
				phase: time.Duration(i) * audio.FrameDuration / time.Duration(n)})
		}
	})
	best, bestN := pacers[0], -1
	for _, p := range pacers {
		n := int(p.n.Load())
		if bestN < 0 || n < bestN {
			best, bestN = p, n
		}
	}
	return best
}

// add registers s; its first frame is played and sent on the next tick.
func (p *pacer) add(s *Session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sessions = append(p.sessions, s)
	p.n.Store(int32(len(p.sessions)))
	if !p.running {
		p.running = true
		// The last tick time of this pacer's phase: the first tick is
		// at most 20 ms away.
		since := time.Since(pacerEpoch) - p.phase
		base := pacerEpoch.Add(p.phase + since/audio.FrameDuration*audio.FrameDuration)
		if since < 0 {
			base = pacerEpoch.Add(p.phase - audio.FrameDuration)
		}
		go p.run(base)
	}
}

// remove unregisters s. When it returns no tick is running s's frames, and
// none will.
func (p *pacer) remove(s *Session) {
	p.mu.Lock()
	if i := slices.Index(p.sessions, s); i >= 0 {
		p.sessions = slices.Delete(p.sessions, i, i+1)
		p.n.Store(int32(len(p.sessions)))
	}
	empty := len(p.sessions) == 0
	p.mu.Unlock()
	if empty {
		select {
		case p.kick <- struct{}{}: // let the loop exit now, not at the next tick
		default:
		}
	}
}

// count is the number of sessions the pacer drives (for tests).
func (p *pacer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sessions)
}

// maxCatchUp is how many owed frames a late tick sends at once; further
// behind (the process stalled) it sends one and drops the rest rather than
// burst a second of audio at the peer.
const maxCatchUp = 10

func (p *pacer) run(base time.Time) {
	t := time.NewTimer(audio.FrameDuration)
	defer t.Stop()
	done := 0 // ticks handled since base
	for {
		t.Reset(time.Until(base.Add(time.Duration(done+1) * audio.FrameDuration)))
		select {
		case <-t.C:
		case <-p.kick:
		}
		p.mu.Lock()
		if len(p.sessions) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		now := time.Now()
		due := int(now.Sub(base) / audio.FrameDuration)
		if due <= done { // woken early by a stale kick
			p.mu.Unlock()
			continue
		}
		n := due - done
		if n > maxCatchUp {
			n = 1
		}
		done = due
		for range n {
			// Every session's packet first, then the playouts (decoding),
			// so that no send waits for the other sessions' decoders.
			for _, s := range p.sessions {
				s.sendFrame()
			}
			for _, s := range p.sessions {
				s.playoutFrame()
			}
		}
		for _, s := range p.sessions {
			s.rtcpTick(now)
		}
		p.mu.Unlock()
	}
}
