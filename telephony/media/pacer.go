package media

import (
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/audio"
)

// A pacer drives the 20 ms clock of many sessions from one goroutine and
// one timer: every tick it plays out one frame of each session's caller
// audio and sends one packet of each session's bot audio. A ticker per
// session (two, with the playout) costs hundreds of timer wake-ups and
// goroutine switches per tick at a few hundred calls; one loop per CPU
// costs one each.
//
// Ticks are scheduled on absolute deadlines from the loop's start (no
// drift), and a tick that comes late catches up on the frames it owes, so
// every session keeps real time. The loop exits when its last session is
// removed and starts again with the next one.
type pacer struct {
	mu       sync.Mutex // held for a whole tick: remove waits for it
	sessions []*Session
	running  bool
	kick     chan struct{}
}

var (
	pacersOnce sync.Once
	pacers     []*pacer
)

// pacerFor returns the pacer with the fewest sessions.
func pacerFor() *pacer {
	pacersOnce.Do(func() {
		n := max(1, runtime.GOMAXPROCS(0))
		for range n {
			pacers = append(pacers, &pacer{kick: make(chan struct{}, 1)})
		}
	})
	best, bestN := pacers[0], -1
	for _, p := range pacers {
		p.mu.Lock()
		n := len(p.sessions)
		p.mu.Unlock()
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
	if !p.running {
		p.running = true
		go p.run(time.Now())
	}
}

// remove unregisters s. When it returns no tick is running s's frames, and
// none will.
func (p *pacer) remove(s *Session) {
	p.mu.Lock()
	if i := slices.Index(p.sessions, s); i >= 0 {
		p.sessions = slices.Delete(p.sessions, i, i+1)
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
		for _, s := range p.sessions {
			s.tick(now, n)
		}
		p.mu.Unlock()
	}
}
