package voice

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/audio"
)

// heard is what the listener tells the controller: a recogniser result or
// a change of the confirmation detector.
type heard struct {
	gen  int // recognition stream generation; older ones are stale
	lang string
	res  asr.Result
	// loud/quiet: the confirmation VAD saw sustained speech start / end.
	loud, quiet bool
	// A res of kind Pause comes only when the listener found the turn
	// complete at it and asked the stream for the final now.
	// at is when the listener saw it; audioAt is the wall-clock time of
	// the audio instant the result refers to (End for SpeechEnd and
	// Final, Start otherwise).
	at, audioAt time.Time
}

// listener owns the recognition stream: it writes the caller's frames to
// it (Write has one caller) and replaces it when the language changes.
type listener struct {
	log     *slog.Logger
	recs    RecognizerFunc
	now     func() time.Time
	frames  <-chan audio.Frame
	langs   chan string // latest language wins (buffer 1)
	out     chan<- heard
	confirm time.Duration
	echo    *outLevel
	margin  float64 // dB; negative: no echo gate
	// complete decides at a Pause whether to end the turn early; nil
	// always waits for the hangover.
	complete Completer
	expect   atomic.Pointer[string] // what the bot asked for last (bot.Expect*)
	flushes  chan int               // stream generations to finalise now (buffer 1)

	gen int
}

// setExpect records what the bot has just asked for.
func (l *listener) setExpect(e string) { l.expect.Store(&e) }

func (l *listener) expecting() string {
	if p := l.expect.Load(); p != nil {
		return *p
	}
	return ""
}

// early decides at a pause whether the caller's turn is already complete.
func (l *listener) early(partial string) bool {
	if l.complete == nil || l.flushes == nil || strings.TrimSpace(partial) == "" {
		return false
	}
	return l.complete(partial, l.expecting())
}

// requestFlush asks the run loop (the stream's writer) to finalise stream
// gen now. The pump must not call Flush itself: the stream may be waiting
// for the pump to take a result while its queue is full.
func (l *listener) requestFlush(gen int) {
	select {
	case l.flushes <- gen:
	default: // one is pending already
	}
}

// setLang asks for a language switch; a pending request is replaced.
func (l *listener) setLang(lang string) {
	for {
		select {
		case l.langs <- lang:
			return
		default:
		}
		select {
		case <-l.langs:
		default:
		}
	}
}

func (l *listener) run(ctx context.Context, lang string, chosen bool) {
	var cur *listenStream
	defer func() {
		if cur != nil {
			cur.close()
		}
	}()
	cur = l.open(ctx, lang, chosen)
	// The confirmation detector is a second VAD that needs longer speech
	// before it fires: the recogniser's own SpeechStart comes after 80 ms,
	// early enough for noise and the bot's echo to trigger it.
	vcfg := audio.DefaultVADConfig()
	vcfg.MinSpeech = l.confirm
	vad := audio.NewVAD(vcfg)
	for {
		select {
		case <-ctx.Done():
			return
		case gen := <-l.flushes:
			if cur != nil && cur.gen == gen {
				if err := cur.st.Flush(); err != nil && !errors.Is(err, asr.ErrClosed) {
					l.log.Warn("early end of turn failed", "err", err)
				}
			}
		case lg := <-l.langs:
			if cur != nil && cur.lang == lg {
				continue
			}
			// Open the new stream before closing the old: the caller is
			// never unheard for longer than the switch takes.
			next := l.open(ctx, lg, true)
			if cur != nil {
				cur.close()
			}
			cur = next
		case f, ok := <-l.frames:
			if !ok {
				return
			}
			if cur != nil {
				if err := cur.write(f, l.now()); err != nil {
					if !errors.Is(err, asr.ErrClosed) || ctx.Err() == nil {
						l.log.Warn("recognition stream failed; keys only until the next language change", "lang", cur.lang, "err", err)
					}
					cur.close()
					cur = nil
				}
			}
			switch vad.Process(l.gate(f)) {
			case audio.VADSpeechStart:
				l.send(ctx, heard{loud: true, at: l.now()})
			case audio.VADSpeechEnd:
				l.send(ctx, heard{quiet: true, at: l.now()})
			}
		}
	}
}

// gate hides from the confirmation detector caller audio that is not
// clearly louder than what the bot played just before: that is its echo.
// The recogniser still gets the audio as is.
func (l *listener) gate(f audio.Frame) audio.Frame {
	if l.margin < 0 || l.echo == nil {
		return f
	}
	out, playing := l.echo.max(l.now())
	if !playing || audio.RMSdBFS(f.Samples) >= out-l.margin {
		return f
	}
	return audio.Frame{Rate: f.Rate, Samples: make([]int16, len(f.Samples))}
}

func (l *listener) send(ctx context.Context, h heard) {
	select {
	case l.out <- h:
	case <-ctx.Done():
	}
}

// open starts a stream in lang. Before the caller has chosen (chosen
// false) any language will do to hear "English" or "русский"; after, a
// recogniser of another language would only produce nonsense, so the
// call goes on with keys only.
func (l *listener) open(ctx context.Context, lang string, chosen bool) *listenStream {
	langs := []string{lang}
	if !chosen {
		langs = append(langs, map[string]string{"ru": "en", "en": "ru"}[lang])
	}
	var errs []error
	for _, lg := range langs {
		if lg == "" {
			continue
		}
		s, err := l.openLang(ctx, lg)
		if err == nil {
			return s
		}
		errs = append(errs, err)
	}
	l.log.Error("no speech recognition; the caller can use keys only", "lang", lang, "err", errors.Join(errs...))
	return nil
}

func (l *listener) openLang(ctx context.Context, lang string) (*listenStream, error) {
	if l.recs == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoRecognizer, lang)
	}
	rec, err := l.recs(lang)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoRecognizer, lang)
	}
	st, err := rec.NewStream(ctx, asr.StreamConfig{Lang: lang})
	if err != nil {
		return nil, fmt.Errorf("voice: recognition stream (%s): %w", lang, err)
	}
	l.gen++
	s := &listenStream{lang: lang, gen: l.gen, st: st, done: make(chan struct{})}
	go s.pump(ctx, l)
	l.log.Info("listening", "lang", lang)
	return s, nil
}

// listenStream is one recognition stream and the goroutine that reads its
// results; its clock maps audio time to the wall clock.
type listenStream struct {
	lang string
	gen  int
	st   asr.Stream
	done chan struct{}

	mu    sync.Mutex
	marks []mark // recent frames: audio end time and wall time read
	audio time.Duration
}

type mark struct {
	end  time.Duration
	wall time.Time
}

// marksKept covers the longest utterance the pipeline times (20 s).
const marksKept = 1000

func (s *listenStream) write(f audio.Frame, now time.Time) error {
	s.mu.Lock()
	s.audio += f.Duration()
	s.marks = append(s.marks, mark{s.audio, now})
	if len(s.marks) > 2*marksKept {
		s.marks = append(s.marks[:0], s.marks[len(s.marks)-marksKept:]...)
	}
	s.mu.Unlock()
	return s.st.Write(f)
}

// wallAt is when the frame holding audio instant d was read from the
// call: the moment the caller's audio at d had arrived.
func (s *listenStream) wallAt(d time.Duration) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.marks) == 0 {
		return time.Time{}
	}
	for i := len(s.marks) - 1; i >= 0; i-- {
		if s.marks[i].end < d {
			if i+1 < len(s.marks) {
				return s.marks[i+1].wall
			}
			return s.marks[i].wall
		}
	}
	return s.marks[0].wall
}

func (s *listenStream) pump(ctx context.Context, l *listener) {
	defer close(s.done)
	var partial string // the utterance's latest hypothesis
	for r := range s.st.Results() {
		at := r.Start
		switch r.Kind {
		case asr.SpeechEnd, asr.Final, asr.Pause:
			at = r.End
		}
		switch r.Kind {
		case asr.Partial:
			partial = r.Text
		case asr.Final, asr.SpeechStart:
			partial = ""
		case asr.Pause:
			text := cmp.Or(strings.TrimSpace(r.Text), partial)
			if !l.early(text) {
				continue // wait for the hangover, or for more speech
			}
			r.Text = text
			l.requestFlush(s.gen)
		}
		h := heard{gen: s.gen, lang: s.lang, res: r, at: l.now(), audioAt: s.wallAt(at)}
		select {
		case l.out <- h:
		case <-ctx.Done():
			return
		}
	}
}

// close stops the stream and waits for its result reader.
func (s *listenStream) close() {
	s.st.Close()
	<-s.done
}
