package voice

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/hotline-ivr/hotline/tts"
)

// item is one reply to play. The controller creates it and may cancel it
// (barge-in); the speaker plays it.
type item struct {
	id            int
	turn          int // index in Result.Turns this reply answers first, or -1
	text, lang    string
	interruptible bool
	queued        time.Time
	ctx           context.Context
	cancel        context.CancelFunc
}

// played is what the speaker reports about an item.
type played struct {
	id    int
	first bool // the first frame went out (the item is still playing)
	// Set when first: when synthesis began, its first frame came, and the
	// frame was handed to the Conn.
	started, firstRead, firstWritten time.Time
	frames                           int
	interrupted                      bool
	stopped                          time.Time // playback cut (ClearPlayback returned)
	err                              error
}

// speaker owns the output side: the TTS streams and Conn.WriteFrame /
// ClearPlayback. It plays items in order.
type speaker struct {
	log   *slog.Logger
	conn  Conn
	synth tts.Synthesizer
	now   func() time.Time
	rate  int
	voice map[string]string
	speed float64
	queue chan *item
	out   chan<- played
	level *outLevel
}

func (s *speaker) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case it := <-s.queue:
			s.report(ctx, s.play(ctx, it))
		}
	}
}

func (s *speaker) report(ctx context.Context, p played) {
	select {
	case s.out <- p:
	case <-ctx.Done():
	}
}

// play speaks one item; it returns its final report.
func (s *speaker) play(ctx context.Context, it *item) played {
	res := played{id: it.id}
	defer it.cancel()
	if it.ctx.Err() != nil {
		res.interrupted = true
		return res
	}
	res.started = s.now()
	st, err := s.synth.Synthesize(it.ctx, tts.Request{Text: it.text, Lang: it.lang, Voice: s.voice[it.lang], Rate: s.rate, Speed: s.speed})
	if err != nil {
		res.err = err
		return res
	}
	defer st.Close()
	for {
		f, err := st.ReadFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) && it.ctx.Err() == nil {
				res.err = err
			}
			break
		}
		if it.ctx.Err() != nil {
			break
		}
		if res.frames == 0 {
			res.firstRead = s.now()
		}
		s.level.add(s.now(), f)
		if err := s.conn.WriteFrame(f); err != nil {
			res.err = err
			break
		}
		res.frames++
		if res.frames == 1 {
			res.firstWritten = s.now()
			first := res
			first.first = true
			s.report(ctx, first)
		}
	}
	if it.ctx.Err() != nil {
		res.interrupted = true
		if res.frames > 0 {
			// The Conn still holds up to a few hundred ms of this reply:
			// drop it so the caller hears the bot stop now.
			s.conn.ClearPlayback()
			res.stopped = s.now()
		}
	}
	if res.err != nil {
		s.log.Warn("reply playback failed", "lang", it.lang, "err", res.err)
	}
	return res
}
