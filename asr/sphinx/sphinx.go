// Package sphinx is an English speech recognition engine on CMU PocketSphinx
// (Debian's libpocketsphinx, 5prealpha): small and CPU-light, for small
// hosts and for tests that need real recognition without a Vosk model.
//
// A decoder loads the acoustic model, language model and dictionary, which
// takes time and memory, so decoders are pooled: a closed stream returns its
// decoder for the next one, up to the stream cap.
package sphinx

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/audio"
)

// DefaultModelDir is where Debian's pocketsphinx-en-us puts the model.
const DefaultModelDir = "/usr/share/pocketsphinx/model/en-us"

// SampleRate is the rate of the en-us acoustic model.
const SampleRate = 16000

var _ asr.Recognizer = (*Engine)(nil)

type options struct {
	modelDir   string
	maxStreams int
	wait       time.Duration
	vad        audio.VADConfig
	log        *slog.Logger
	args       []string
}

// Option configures an Engine.
type Option func(*options)

// WithModelDir sets the folder holding en-us/ (acoustic model),
// en-us.lm.bin and cmudict-en-us.dict.
func WithModelDir(dir string) Option { return func(o *options) { o.modelDir = dir } }

// WithMaxStreams caps concurrent streams (and pooled decoders).
func WithMaxStreams(n int) Option { return func(o *options) { o.maxStreams = n } }

// WithStreamWait is how long NewStream waits for a free slot before
// returning asr.ErrBusy.
func WithStreamWait(d time.Duration) Option { return func(o *options) { o.wait = d } }

// WithVAD sets the endpointing voice-activity settings.
func WithVAD(cfg audio.VADConfig) Option { return func(o *options) { o.vad = cfg } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithDecoderArgs adds PocketSphinx arguments ("-beam", "1e-60", ...) after
// the engine's own, for tuning.
func WithDecoderArgs(args ...string) Option {
	return func(o *options) { o.args = append(o.args, args...) }
}

// Engine recognises English. It is safe for concurrent use.
type Engine struct {
	opt  options
	args []string
	lim  *asr.Limiter

	mu     sync.Mutex
	idle   []*psDecoder
	closed bool
}

// New checks the model files and loads one decoder, so a broken model is
// reported at start, not on the first call.
func New(opts ...Option) (*Engine, error) {
	o := options{modelDir: DefaultModelDir, maxStreams: 4, wait: 2 * time.Second, vad: audio.DefaultVADConfig()}
	for _, f := range opts {
		f(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	files, err := checkModel(o.modelDir)
	if err != nil {
		return nil, err
	}
	e := &Engine{opt: o, lim: asr.NewLimiter(o.maxStreams, o.wait)}
	e.args = append([]string{
		"-hmm", files.hmm,
		"-lm", files.lm,
		"-dict", files.dict,
		"-samprate", fmt.Sprint(SampleRate),
		// The fe-level silence removal would shift word times by the
		// silence it drops; the stream's VAD already skips silence.
		"-remove_silence", "no",
		// The flat-lexicon second pass runs over the whole utterance in
		// ps_end_utt, after the caller stopped talking: 30-40 ms per second
		// of speech, most of the time from end of speech to the final
		// result. On ../shared/speech/en it changes no word of the corpus
		// WER (0.438 both ways); the lattice pass that gives confidences
		// and n-best stays on.
		"-fwdflat", "no",
	}, o.args...)
	d, err := newPSDecoder(e.args)
	if err != nil {
		return nil, fmt.Errorf("%w: PocketSphinx could not load the model in %s (%v): reinstall pocketsphinx-en-us", asr.ErrModelBroken, o.modelDir, err)
	}
	e.idle = append(e.idle, d)
	return e, nil
}

type modelFiles struct{ hmm, lm, dict string }

// checkModel names what is missing: ps_init would only log it (and we
// silence its log) and return NULL, or crash on some missing files.
func checkModel(dir string) (modelFiles, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return modelFiles{}, fmt.Errorf("%w: PocketSphinx model folder %s does not exist (install the Debian package pocketsphinx-en-us)", asr.ErrModelMissing, dir)
	}
	f := modelFiles{
		hmm:  filepath.Join(dir, "en-us"),
		lm:   filepath.Join(dir, "en-us.lm.bin"),
		dict: filepath.Join(dir, "cmudict-en-us.dict"),
	}
	var missing []string
	for _, p := range []string{
		filepath.Join(f.hmm, "mdef"), filepath.Join(f.hmm, "means"), filepath.Join(f.hmm, "variances"),
		filepath.Join(f.hmm, "transition_matrices"), filepath.Join(f.hmm, "feat.params"),
		f.lm, f.dict,
	} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			rel, _ := filepath.Rel(dir, p)
			missing = append(missing, rel)
		}
	}
	if len(missing) > 0 {
		return modelFiles{}, fmt.Errorf("%w: PocketSphinx model folder %s lacks %s", asr.ErrModelBroken, dir, strings.Join(missing, ", "))
	}
	checks := []struct {
		name string
		fn   func(string) error
	}{
		{"mdef", checkMdef},
		{"means", func(p string) error { return checkS3(p, true) }},
		{"variances", func(p string) error { return checkS3(p, true) }},
		{"transition_matrices", func(p string) error { return checkS3(p, false) }},
		{"mixture_weights", func(p string) error { return checkS3(p, false) }},
		{"feat.params", checkText},
		{"noisedict", checkText},
		{"dict", checkText},
	}
	for _, c := range checks {
		p := filepath.Join(f.hmm, c.name)
		if c.name == "dict" {
			p = f.dict
		}
		if _, err := os.Stat(p); err != nil && c.name == "mixture_weights" {
			continue // optional: en-us ships sendump instead
		}
		if err := c.fn(p); err != nil {
			return modelFiles{}, fmt.Errorf("%w: PocketSphinx model file %s is %v (half-copied?); copy the model again", asr.ErrModelBroken, p, err)
		}
	}
	return f, nil
}

// NewStream opens a stream for English. It waits for a free slot up to the
// configured wait, then returns asr.ErrBusy.
func (e *Engine) NewStream(ctx context.Context, cfg asr.StreamConfig) (asr.Stream, error) {
	if cfg.Lang != "en" && cfg.Lang != "" {
		return nil, fmt.Errorf("%w: sphinx recognises English only, not %q", asr.ErrUnsupportedLanguage, cfg.Lang)
	}
	release, err := e.lim.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	ps, err := e.get()
	if err != nil {
		release()
		return nil, err
	}
	ps.startStream() // a new caller: forget the previous one's channel
	dec := &decoder{e: e, ps: ps, nbest: cfg.Alternatives}
	return asr.NewStream(ctx, dec, cfg, asr.StreamOptions{
		Logger:  e.opt.log.With("asr", "sphinx"),
		VAD:     e.opt.vad,
		Release: release,
	})
}

func (e *Engine) get() (*psDecoder, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, fmt.Errorf("sphinx: engine closed: %w", asr.ErrClosed)
	}
	if n := len(e.idle); n > 0 {
		d := e.idle[n-1]
		e.idle = e.idle[:n-1]
		e.mu.Unlock()
		return d, nil
	}
	e.mu.Unlock()
	// Loading outside the lock: it takes a while and other streams may
	// return or take decoders meanwhile.
	d, err := newPSDecoder(e.args)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", asr.ErrModelBroken, err)
	}
	return d, nil
}

func (e *Engine) put(d *psDecoder) {
	d.reset()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		d.free()
		return
	}
	e.idle = append(e.idle, d)
}

// Decoders is the number of loaded decoders waiting in the pool.
func (e *Engine) Decoders() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.idle)
}

// Close frees the pooled decoders; streams still open free theirs when they
// close. Idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	for _, d := range e.idle {
		d.free()
	}
	e.idle = nil
	return nil
}

// decoder adapts a pooled ps decoder to asr.Decoder.
type decoder struct {
	e     *Engine
	ps    *psDecoder
	nbest int
}

func (d *decoder) SampleRate() int { return SampleRate }

func (d *decoder) Accept(pcm []int16) (bool, error) {
	if d.ps == nil {
		return false, asr.ErrClosed
	}
	if len(pcm) == 0 {
		return false, nil
	}
	return false, d.ps.process(pcm)
}

func (d *decoder) Partial() string {
	if d.ps == nil {
		return ""
	}
	return d.ps.hyp()
}

func (d *decoder) Final() (asr.Result, error) {
	if d.ps == nil {
		return asr.Result{}, asr.ErrClosed
	}
	text, conf, segs, alts, err := d.ps.end(d.nbest)
	if err != nil {
		return asr.Result{}, err
	}
	res := asr.Result{Text: text, Confidence: conf}
	for _, w := range segs {
		res.Words = append(res.Words, asr.Word{Text: w.text, Start: w.start, End: w.end, Confidence: w.conf})
	}
	for _, a := range alts {
		res.Alternatives = append(res.Alternatives, asr.Alternative{Text: a, Confidence: -1})
	}
	return res, nil
}

func (d *decoder) Reset() {
	if d.ps != nil {
		d.ps.reset()
	}
}

func (d *decoder) Close() error {
	if d.ps == nil {
		return nil
	}
	d.e.put(d.ps)
	d.ps = nil
	return nil
}
