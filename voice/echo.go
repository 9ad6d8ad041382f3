package voice

import (
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/audio"
)

// echoWindow is how far back the bot's output level counts when judging
// caller audio: the Conn queues up to ~200 ms and the line adds its own
// delay before the echo comes back.
const echoWindow = 500 * time.Millisecond

// outLevel remembers the level of the audio recently written to the
// caller, so the listener can tell the bot's echo from caller speech.
// The speaker writes it, the listener reads it.
type outLevel struct {
	mu     sync.Mutex
	frames [32]levelMark
	n      int
}

type levelMark struct {
	at time.Time
	db float64
}

func (o *outLevel) add(at time.Time, f audio.Frame) {
	o.mu.Lock()
	o.frames[o.n%len(o.frames)] = levelMark{at, audio.RMSdBFS(f.Samples)}
	o.n++
	o.mu.Unlock()
}

// max is the loudest output frame written since now-echoWindow, and
// whether there was any.
func (o *outLevel) max(now time.Time) (float64, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	best, any := audio.SilenceDBFS, false
	for _, m := range o.frames {
		if !m.at.IsZero() && now.Sub(m.at) <= echoWindow && m.db > best {
			best, any = m.db, true
		}
	}
	return best, any
}

// since reports whether anything was written at or after t.
func (o *outLevel) since(t time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, m := range o.frames {
		if !m.at.IsZero() && !m.at.Before(t) {
			return true
		}
	}
	return false
}
