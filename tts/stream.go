package tts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/tts/textprep"
)

// StreamOptions tunes NewStream for an engine.
type StreamOptions struct {
	// SplitFirstClause renders the first clause of the first sentence on
	// its own, for engines that only return audio once a whole chunk is
	// rendered (Festival, HTTP endpoints): it shortens the time to first
	// audio at a small cost in prosody at that comma.
	SplitFirstClause bool
	// Ahead is how much rendered audio may wait for the listener before
	// the stream stops rendering further sentences. Zero means 3 s.
	Ahead time.Duration
	// Prepared marks the request text as already prepared for the ear.
	Prepared bool
}

// NewStream prepares req.Text for the ear, splits it into sentences and
// starts a goroutine that renders them in turn with r, converting to
// req.Rate and cutting 20 ms frames. req must be normalised and its voice
// resolved by the engine. Rendering runs at most opt.Ahead in front of the
// listener, so a reply abandoned by barge-in costs little.
func NewStream(ctx context.Context, r Renderer, req Request, opt StreamOptions) (Stream, error) {
	text := req.Text
	if !opt.Prepared {
		text = textprep.Prepare(text, req.Lang)
	}
	chunks := SplitSentences(text, opt.SplitFirstClause)
	if len(chunks) == 0 {
		return nil, fmt.Errorf("%w: nothing speakable in %q", ErrEmptyText, clipText(req.Text, 40))
	}
	if opt.Ahead <= 0 {
		opt.Ahead = 3 * time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &stream{
		ctx:    ctx,
		cancel: cancel,
		rate:   req.Rate,
		ahead:  int(opt.Ahead / audio.FrameDuration),
		ready:  make(chan struct{}, 1),
		space:  make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	go s.run(r, req, chunks)
	return s, nil
}

type stream struct {
	ctx    context.Context
	cancel context.CancelFunc
	rate   int
	ahead  int // frames

	mu       sync.Mutex
	frames   []audio.Frame
	finished bool  // the goroutine delivered everything it will
	err      error // why it stopped early, nil on success
	closed   bool

	ready chan struct{} // a frame was queued or the stream finished
	space chan struct{} // the listener took a frame
	done  chan struct{} // the goroutine ended
}

func (s *stream) run(r Renderer, req Request, chunks []string) {
	defer close(s.done)
	var (
		rs      *audio.Resampler // from the engine's rate to req.Rate
		skip    int              // samples of rs's filter delay still to drop
		pending []int16          // output samples not yet in a whole frame
		n       = audio.SamplesPerFrame(req.Rate)
	)
	// resampled appends output of rs to pending, dropping the first
	// Delay() samples of each resampled run so speech is not shifted.
	resampled := func(out func(dst []int16) []int16) {
		n0 := len(pending)
		pending = out(pending)
		if drop := min(skip, len(pending)-n0); drop > 0 {
			pending = append(pending[:n0], pending[n0+drop:]...)
			skip -= drop
		}
	}
	push := func(final bool) {
		var out []audio.Frame
		for len(pending) >= n || (final && len(pending) > 0) {
			f := make([]int16, n)
			k := copy(f, pending)
			pending = pending[k:]
			out = append(out, audio.Frame{Rate: req.Rate, Samples: f})
		}
		if len(pending) == 0 {
			pending = nil
		}
		if len(out) > 0 {
			s.mu.Lock()
			s.frames = append(s.frames, out...)
			s.mu.Unlock()
			notify(s.ready)
		}
	}
	emit := func(pcm []int16, rate int) error {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		if rate <= 0 {
			return fmt.Errorf("%w: engine gave audio at %d Hz", ErrEngine, rate)
		}
		if rs == nil || rate != rs.From() {
			if rs != nil {
				resampled(rs.Flush)
			}
			next, err := audio.NewResampler(rate, req.Rate)
			if err != nil {
				return fmt.Errorf("%w: engine gave audio at %d Hz: %w", ErrEngine, rate, err)
			}
			rs, skip = next, next.Delay()
		}
		resampled(func(dst []int16) []int16 { return rs.ProcessTo(dst, pcm) })
		push(false)
		return nil
	}
	var err error
	for _, text := range chunks {
		if err = s.waitSpace(); err != nil {
			break
		}
		err = r.Render(s.ctx, Sentence{Text: text, Lang: req.Lang, Voice: req.Voice, Speed: req.Speed}, emit)
		if err != nil {
			break
		}
	}
	if err == nil {
		if rs != nil {
			resampled(rs.Flush)
		}
		push(true)
	}
	s.mu.Lock()
	if err != nil && s.ctx.Err() == nil && !errors.Is(err, ErrEngine) && !errors.Is(err, ErrTimeout) {
		err = fmt.Errorf("%w: %w", ErrEngine, err)
	}
	s.err = err
	s.finished = true
	s.mu.Unlock()
	notify(s.ready)
}

// waitSpace blocks while more than the allowed audio waits for the
// listener.
func (s *stream) waitSpace() error {
	for {
		s.mu.Lock()
		queued := len(s.frames)
		s.mu.Unlock()
		if queued < s.ahead {
			return nil
		}
		select {
		case <-s.space:
		case <-s.ctx.Done():
			return s.ctx.Err()
		}
	}
}

func (s *stream) ReadFrame() (audio.Frame, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return audio.Frame{}, ErrClosed
		}
		if err := s.ctx.Err(); err != nil {
			s.mu.Unlock()
			return audio.Frame{}, err
		}
		if len(s.frames) > 0 {
			f := s.frames[0]
			s.frames[0] = audio.Frame{}
			s.frames = s.frames[1:]
			s.mu.Unlock()
			notify(s.space)
			return f, nil
		}
		if s.finished {
			err := s.err
			s.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return audio.Frame{}, err
		}
		s.mu.Unlock()
		select {
		case <-s.ready:
		case <-s.ctx.Done():
		}
	}
}

func (s *stream) Close() error {
	s.mu.Lock()
	s.closed = true
	s.frames = nil
	s.mu.Unlock()
	s.cancel()
	<-s.done
	return nil
}

func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// ReadAll drains a stream into one buffer at the stream's rate and closes
// it. For tools and tests; the bot plays frames as they come.
func ReadAll(st Stream) ([]int16, int, error) {
	defer st.Close()
	var out []int16
	rate := 0
	for {
		f, err := st.ReadFrame()
		if err == io.EOF {
			return out, rate, nil
		}
		if err != nil {
			return out, rate, err
		}
		rate = f.Rate
		out = append(out, f.Samples...)
	}
}
