package asr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hotline-ivr/hotline/audio"
)

// StreamOptions are what an engine passes to NewStream besides the decoder.
type StreamOptions struct {
	Logger *slog.Logger
	// VAD is the engine's voice-activity setting, used unless the
	// StreamConfig overrides it.
	VAD audio.VADConfig
	// Release is called once after the decoder is closed: it frees the
	// engine's concurrency slot.
	Release func()
}

// Tuning of the stream plumbing.
const (
	// queueFrames bounds the frames waiting for the decoder: half a second.
	// A writer further ahead blocks (back-pressure).
	queueFrames = 25
	// resultBuffer lets the reader fall this far behind before partials are
	// dropped and finals wait.
	resultBuffer = 64
	// partialEvery is how often the hypothesis is read during speech;
	// reading it costs a search traceback, and turn-taking does not need
	// it more often than every 100 ms.
	partialEvery = 100 * time.Millisecond
	// preRoll is audio kept from before the VAD reported speech: the VAD
	// reports start only after MinSpeech, and soft onsets ("f", "s") sit
	// below its threshold, so the decoder gets this much earlier audio.
	preRoll = 300 * time.Millisecond
)

// NewStream runs dec as a Stream: it converts the frames' rate to the
// decoder's, cuts utterances by VAD (or not, per cfg.Endpointing), reads
// partials, and emits results in order. It owns dec from now on and closes
// it when the stream ends, then calls opt.Release. The stream ends when ctx
// does.
func NewStream(ctx context.Context, dec Decoder, cfg StreamConfig, opt StreamOptions) (Stream, error) {
	if cfg.SampleRate != 0 && !supportedRate(cfg.SampleRate) {
		dec.Close()
		if opt.Release != nil {
			opt.Release()
		}
		return nil, fmt.Errorf("%w: %d Hz (want 8000, 16000 or 48000)", ErrUnsupportedRate, cfg.SampleRate)
	}
	vcfg := opt.VAD
	if cfg.VAD != nil {
		vcfg = *cfg.VAD
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &stream{
		ctx:     ctx,
		cancel:  cancel,
		in:      make(chan message, queueFrames),
		results: make(chan Result, resultBuffer),
		done:    make(chan struct{}),
		rate:    cfg.SampleRate,
		r: runner{
			dec:     dec,
			mode:    cfg.Endpointing,
			vad:     audio.NewVAD(vcfg),
			release: opt.Release,
			log:     log,
		},
	}
	s.r.hangover = s.r.vad.Config().Hangover
	s.r.minSpeech = s.r.vad.Config().MinSpeech
	s.r.pause = s.r.vad.Config().Pause
	s.r.results = s.results
	s.r.ctx = ctx
	go s.run()
	return s, nil
}

func supportedRate(r int) bool { return r == audio.Rate8k || r == audio.Rate16k || r == audio.Rate48k }

type op int

const (
	opFrame op = iota
	opFlush
	opReset
	opFinish
)

type message struct {
	op      op
	rate    int
	samples []int16
}

type stream struct {
	ctx     context.Context
	cancel  context.CancelFunc
	in      chan message
	results chan Result
	done    chan struct{}

	rate     int // set by the first Write; Write has one caller
	finished atomic.Bool
	err      atomic.Pointer[error]

	r runner // owned by the goroutine
}

func (s *stream) Results() <-chan Result { return s.results }

func (s *stream) Write(f audio.Frame) error {
	if s.finished.Load() {
		return ErrClosed
	}
	if len(f.Samples) == 0 {
		return nil
	}
	if s.rate == 0 {
		if !supportedRate(f.Rate) {
			return fmt.Errorf("%w: %d Hz (want 8000, 16000 or 48000)", ErrUnsupportedRate, f.Rate)
		}
		s.rate = f.Rate
	} else if f.Rate != s.rate {
		return fmt.Errorf("%w: frame at %d Hz in a %d Hz stream", ErrUnsupportedRate, f.Rate, s.rate)
	}
	// The caller may reuse its buffer as soon as Write returns.
	return s.send(message{op: opFrame, rate: f.Rate, samples: append([]int16(nil), f.Samples...)})
}

func (s *stream) send(m message) error {
	// A stream that has ended takes nothing, even if its queue has room
	// (select would pick a ready case at random).
	select {
	case <-s.done:
		return ErrClosed
	case <-s.ctx.Done():
		return ErrClosed
	default:
	}
	select {
	case s.in <- m:
		return nil
	case <-s.done:
		return ErrClosed
	case <-s.ctx.Done():
		return ErrClosed
	}
}

func (s *stream) Flush() error {
	if s.finished.Load() {
		return ErrClosed
	}
	return s.send(message{op: opFlush})
}

func (s *stream) Reset() error {
	if s.finished.Load() {
		return ErrClosed
	}
	return s.send(message{op: opReset})
}

func (s *stream) Finish() error {
	if s.finished.Swap(true) {
		return ErrClosed
	}
	return s.send(message{op: opFinish})
}

func (s *stream) Close() error {
	s.finished.Store(true)
	s.cancel()
	<-s.done
	return nil
}

// Err returns the decoder error that ended the stream, if any.
func (s *stream) Err() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *stream) run() {
	defer close(s.done)
	defer func() {
		close(s.results)
		s.r.dec.Close()
		if s.r.release != nil {
			s.r.release()
		}
	}()
	for {
		select {
		case <-s.ctx.Done():
			return
		case m := <-s.in:
			var err error
			switch m.op {
			case opFrame:
				err = s.r.frame(m)
			case opFlush:
				err = s.r.endUtterance()
			case opReset:
				s.r.reset()
			case opFinish:
				if err = s.r.endUtterance(); err == nil {
					return
				}
			}
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					s.err.Store(&err)
					s.r.log.Warn("asr: stream stopped", "err", err)
				}
				return
			}
		}
	}
}

// runner is the state of the stream goroutine.
type runner struct {
	ctx     context.Context
	dec     Decoder
	mode    Endpointing
	vad     *audio.VAD
	results chan<- Result
	release func()
	log     *slog.Logger

	hangover, minSpeech, pause time.Duration

	rs       *audio.Resampler
	inRate   int
	consumed int64 // input samples seen, the stream clock

	inUtt      bool
	uttStart   time.Duration // audio time of the first sample given to the decoder
	sincePart  time.Duration
	lastPart   string
	preroll    []chunk
	prerollDur time.Duration
}

type chunk struct {
	at  time.Duration
	pcm []int16
}

func (r *runner) now() time.Duration {
	if r.inRate == 0 {
		return 0
	}
	return time.Duration(r.consumed) * time.Second / time.Duration(r.inRate)
}

func (r *runner) frame(m message) error {
	if r.rs == nil {
		rs, err := audio.NewResampler(m.rate, r.dec.SampleRate())
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUnsupportedRate, err)
		}
		r.rs, r.inRate = rs, m.rate
	}
	for _, f := range audio.Split(m.samples, m.rate) {
		if err := r.step(f); err != nil {
			return err
		}
	}
	return nil
}

// step handles one 20 ms frame.
func (r *runner) step(f audio.Frame) error {
	at := r.now()
	r.consumed += int64(len(f.Samples))
	pcm := r.rs.Process(f.Samples)

	if r.mode == EndpointNone {
		if !r.inUtt {
			r.inUtt, r.uttStart = true, at
		}
		return r.accept(pcm, f.Duration())
	}

	ev := r.vad.Process(f)
	if !r.inUtt {
		r.keep(at, pcm, f.Duration())
		if ev != audio.VADSpeechStart {
			return nil
		}
		r.inUtt = true
		r.uttStart = r.preroll[0].at
		if err := r.emit(Result{Kind: SpeechStart, Start: max(r.now()-r.minSpeech, 0), Confidence: -1}, true); err != nil {
			return err
		}
		pre := r.preroll
		r.preroll, r.prerollDur = r.preroll[:0], 0
		for _, c := range pre {
			if err := r.accept(c.pcm, 0); err != nil {
				return err
			}
		}
		return nil
	}
	if err := r.accept(pcm, f.Duration()); err != nil {
		return err
	}
	if ev == audio.VADPause && r.inUtt {
		return r.emit(Result{Kind: Pause, Text: r.dec.Partial(), End: max(r.now()-r.pause, r.uttStart), Confidence: -1}, true)
	}
	if ev == audio.VADSpeechEnd && r.inUtt {
		if err := r.emit(Result{Kind: SpeechEnd, End: max(r.now()-r.hangover, r.uttStart), Confidence: -1}, true); err != nil {
			return err
		}
		return r.endUtterance()
	}
	return nil
}

// keep holds the most recent audio for the pre-roll.
func (r *runner) keep(at time.Duration, pcm []int16, d time.Duration) {
	r.preroll = append(r.preroll, chunk{at: at, pcm: append([]int16(nil), pcm...)})
	r.prerollDur += d
	for r.prerollDur > preRoll+r.minSpeech && len(r.preroll) > 1 {
		r.prerollDur -= time.Duration(len(r.preroll[0].pcm)) * time.Second / time.Duration(r.dec.SampleRate())
		r.preroll = r.preroll[1:]
	}
}

func (r *runner) accept(pcm []int16, d time.Duration) error {
	if len(pcm) == 0 {
		return nil
	}
	endpoint, err := r.dec.Accept(pcm)
	if err != nil {
		return err
	}
	if endpoint {
		// The engine's own endpointer (Vosk) closed an utterance inside
		// what the VAD still calls speech: report it, keep listening.
		return r.final()
	}
	r.sincePart += d
	if r.sincePart >= partialEvery {
		r.sincePart = 0
		if p := r.dec.Partial(); p != "" && p != r.lastPart {
			r.lastPart = p
			return r.emit(Result{Kind: Partial, Text: p, Confidence: -1, Start: r.uttStart, End: r.now()}, false)
		}
	}
	return nil
}

// endUtterance emits the final of the utterance in progress, if any.
func (r *runner) endUtterance() error {
	if !r.inUtt {
		return nil
	}
	if err := r.final(); err != nil {
		return err
	}
	if r.mode == EndpointVAD {
		r.inUtt = false
		r.vad.Reset()
	}
	return nil
}

func (r *runner) final() error {
	res, err := r.dec.Final()
	if err != nil {
		return err
	}
	res.Kind = Final
	off := r.uttStart
	for i := range res.Words {
		res.Words[i].Start += off
		res.Words[i].End += off
	}
	res.Start, res.End = off, r.now()
	r.uttStart = r.now()
	r.lastPart, r.sincePart = "", 0
	return r.emit(res, true)
}

func (r *runner) reset() {
	r.dec.Reset()
	r.vad.Reset()
	r.inUtt = false
	r.preroll, r.prerollDur = r.preroll[:0], 0
	r.lastPart, r.sincePart = "", 0
}

// emit delivers a result. Partials are dropped when the reader lags (a
// newer one will come); everything else waits for the reader.
func (r *runner) emit(res Result, wait bool) error {
	if !wait {
		select {
		case r.results <- res:
		default:
		}
		return nil
	}
	select {
	case r.results <- res:
		return nil
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
}
