// Package espeak is the embedded speech synthesis engine on libespeak-ng
// (cgo, Debian libespeak-ng-dev): Russian and English, fast, small, no
// server. Its voice is robotic but clear; for English the Festival SLT
// voice is more intelligible (see the tts README).
//
// libespeak-ng keeps its state in process globals and is not thread-safe,
// so one worker goroutine per process owns the library and renders the
// sentences of all streams in turn. A stream submits one sentence at a
// time, so a long reply never holds the worker for more than a sentence,
// and the synthesis callback checks for cancellation every chunk (20 ms of
// audio), so barge-in stops rendering at once.
package espeak

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/hotline-ivr/hotline/tts"
)

// Defaults.
const (
	DefaultRate  = 165 // words per minute; eSpeak's own 175 is hurried on the phone
	DefaultPitch = 50  // 0..100
	// chunkMS is the audio per callback: the granularity of streaming
	// and of cancellation.
	chunkMS = 20
)

// DefaultVoices are the voices used when a request names none.
var DefaultVoices = map[string]string{tts.LangRU: "ru", tts.LangEN: "en-us"}

var (
	_ tts.Synthesizer = (*Engine)(nil)
	_ tts.Renderer    = (*Engine)(nil)
)

type options struct {
	rate, pitch int
	voices      map[string]string
	log         *slog.Logger
}

// Option configures an Engine.
type Option func(*options)

// WithRate sets the speaking rate in words per minute (80..450).
func WithRate(wpm int) Option { return func(o *options) { o.rate = wpm } }

// WithPitch sets the base pitch (0..100, 50 is normal).
func WithPitch(p int) Option { return func(o *options) { o.pitch = p } }

// WithVoice sets the default voice for a language ("ru", "en-us",
// "en-gb+f3").
func WithVoice(lang, voice string) Option {
	return func(o *options) { o.voices[lang] = voice }
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Engine synthesises speech with eSpeak NG. Engines share the process-wide
// worker; each keeps its own rate, pitch and voices.
type Engine struct {
	opt options
	w   *worker

	mu     sync.Mutex
	closed bool
}

// New starts (or joins) the worker and checks the default voices.
func New(opts ...Option) (*Engine, error) {
	o := options{rate: DefaultRate, pitch: DefaultPitch, voices: map[string]string{}}
	for l, v := range DefaultVoices {
		o.voices[l] = v
	}
	for _, f := range opts {
		f(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if o.rate < 80 || o.rate > 450 {
		return nil, fmt.Errorf("espeak: rate %d words per minute, want 80..450", o.rate)
	}
	if o.pitch < 0 || o.pitch > 100 {
		return nil, fmt.Errorf("espeak: pitch %d, want 0..100", o.pitch)
	}
	w, err := acquire()
	if err != nil {
		return nil, err
	}
	e := &Engine{opt: o, w: w}
	for l, v := range o.voices {
		if _, err := w.resolve(v, l); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

// SampleRate is the rate eSpeak renders at (22050 Hz).
func (e *Engine) SampleRate() int { return e.w.rate }

// Voices lists the installed voices that speak lang.
func (e *Engine) Voices(lang string) []string {
	var out []string
	for _, v := range e.w.voices {
		if speaks(v, lang) {
			out = append(out, v.name)
		}
	}
	slices.Sort(out)
	return out
}

// Synthesize implements tts.Synthesizer.
func (e *Engine) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	req, err := req.Normalize()
	if err != nil {
		return nil, err
	}
	if e.isClosed() {
		return nil, tts.ErrClosed
	}
	if req.Voice == "" {
		req.Voice = e.opt.voices[req.Lang]
	}
	if req.Voice, err = e.w.resolve(req.Voice, req.Lang); err != nil {
		return nil, err
	}
	return tts.NewStream(ctx, e, req, tts.StreamOptions{})
}

// Render implements tts.Renderer: it queues the sentence on the worker and
// waits for it.
func (e *Engine) Render(ctx context.Context, s tts.Sentence, emit func([]int16, int) error) error {
	if e.isClosed() {
		return tts.ErrClosed
	}
	wpm := min(450, max(80, int(float64(e.opt.rate)*s.Speed+0.5)))
	j := &job{ctx: ctx, text: s.Text, voice: s.Voice, wpm: wpm, pitch: e.opt.pitch, emit: emit, done: make(chan struct{})}
	select {
	case e.w.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	case <-e.w.quit:
		return tts.ErrClosed
	}
	<-j.done
	return j.err
}

func (e *Engine) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// Close releases the engine; the last engine of the process stops the
// worker and terminates the library. Streams of a closed engine end with
// tts.ErrClosed. Close is idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	release(e.w)
	return nil
}

type job struct {
	ctx        context.Context
	text       string
	voice      string
	wpm, pitch int
	sampleRate int
	emit       func([]int16, int) error
	err        error
	done       chan struct{}
}

// worker owns libespeak-ng.
type worker struct {
	jobs    chan *job
	quit    chan struct{} // closed to stop the worker
	stopped chan struct{} // closed when it has stopped
	refs    int
	rate    int
	dataDir string
	voices  []voiceInfo
}

var (
	workerMu sync.Mutex
	shared   *worker // the process's worker while any Engine is open

	// The library is initialised once per process and never terminated:
	// espeak_Terminate hangs in synchronous mode (libespeak-ng 1.51), and
	// the loaded voice data is small. Only the worker goroutine stops
	// when the last Engine closes.
	libOnce    sync.Once
	libRate    int
	libDataDir string
	libVoices  []voiceInfo
)

func acquire() (*worker, error) {
	workerMu.Lock()
	defer workerMu.Unlock()
	if shared != nil {
		shared.refs++
		return shared, nil
	}
	w := &worker{jobs: make(chan *job), quit: make(chan struct{}), stopped: make(chan struct{}), refs: 1}
	ready := make(chan error, 1)
	go w.run(ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	shared = w
	return w, nil
}

func release(w *worker) {
	workerMu.Lock()
	w.refs--
	last := w.refs == 0
	if last {
		shared = nil
		close(w.quit)
	}
	workerMu.Unlock()
	if last {
		<-w.stopped
	}
}

func (w *worker) run(ready chan<- error) {
	defer close(w.stopped)
	libOnce.Do(func() {
		libRate, libDataDir = libInit(chunkMS)
		if libRate > 0 {
			libVoices = libListVoices()
		}
	})
	if libRate <= 0 {
		ready <- fmt.Errorf("%w: espeak_Initialize failed (is espeak-ng-data installed?)", ErrInit)
		return
	}
	w.rate, w.dataDir, w.voices = libRate, libDataDir, libVoices
	ready <- nil
	lastVoice := ""
	for {
		select {
		case <-w.quit:
			return
		case j := <-w.jobs:
			w.render(j, &lastVoice)
			close(j.done)
		}
	}
}

func (w *worker) render(j *job, lastVoice *string) {
	if err := j.ctx.Err(); err != nil {
		j.err = err
		return
	}
	if j.voice != *lastVoice {
		if !libSetVoice(j.voice) {
			*lastVoice = ""
			j.err = fmt.Errorf("%w: eSpeak could not load voice %q", tts.ErrUnknownVoice, j.voice)
			return
		}
		*lastVoice = j.voice
	}
	libSetParams(j.wpm, j.pitch)
	j.sampleRate = w.rate
	current = j
	ok := libSynth(j.text)
	current = nil
	if !ok && j.err == nil && j.ctx.Err() == nil {
		j.err = fmt.Errorf("%w: espeak_Synth failed", tts.ErrEngine)
	}
}

// resolve maps a voice name ("ru", "en-us", "Russian", "en-gb+f3") to the
// voice file identifier the library loads reliably ("gmw/en+f3": version
// 1.51 does not load some voices by language name), and checks that it
// speaks lang. The voice list is read once at start and not changed after,
// so this needs no trip to the worker.
func (w *worker) resolve(voice, lang string) (string, error) {
	base, variant, _ := strings.Cut(voice, "+")
	base = strings.ToLower(base)
	for _, v := range w.voices {
		if strings.ToLower(v.name) == base || strings.ToLower(v.identifier) == base ||
			strings.ToLower(filepath.Base(v.identifier)) == base || slices.Contains(v.languages, base) {
			if !speaks(v, lang) {
				return "", fmt.Errorf("%w: eSpeak voice %q does not speak %q", tts.ErrUnknownVoice, voice, lang)
			}
			id := v.identifier
			if variant != "" {
				if !w.hasVariant(variant) {
					return "", fmt.Errorf("%w: eSpeak has no voice variant %q", tts.ErrUnknownVoice, variant)
				}
				id += "+" + variant
			}
			return id, nil
		}
	}
	return "", fmt.Errorf("%w: eSpeak has no voice %q (try ru, en-us, en-gb)", tts.ErrUnknownVoice, voice)
}

func (w *worker) hasVariant(v string) bool {
	if w.dataDir == "" || strings.ContainsAny(v, `/\`) {
		return false
	}
	_, err := os.Stat(filepath.Join(w.dataDir, "voices", "!v", v))
	return err == nil
}

func speaks(v voiceInfo, lang string) bool {
	for _, l := range v.languages {
		if l == lang || strings.HasPrefix(l, lang+"-") {
			return true
		}
	}
	return false
}
