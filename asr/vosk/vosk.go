// Package vosk is the Vosk (Kaldi) speech recognition engine for Russian
// and English, through github.com/alphacep/vosk-api/go and libvosk.
//
// One model per language is loaded once and shared by every stream; each
// stream has its own recogniser. Build with -tags novosk to leave libvosk
// out: the engine then reports asr.ErrEngineUnavailable.
package vosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/audio"
)

// SampleRate is what the recognisers are fed; the official small models
// are trained on 16 kHz audio.
const SampleRate = 16000

// Official small models, the ones `hotline models pull` installs.
var OfficialModels = map[string]string{
	"en": "vosk-model-small-en-us-0.15",
	"ru": "vosk-model-small-ru-0.22",
}

var _ asr.Recognizer = (*Engine)(nil)

type options struct {
	models     map[string]string
	maxStreams int
	wait       time.Duration
	vad        audio.VADConfig
	log        *slog.Logger
	logLevel   int
}

// Option configures an Engine.
type Option func(*options)

// WithModel sets the model folder for a language ("ru", "en").
func WithModel(lang, dir string) Option {
	return func(o *options) { o.models[lang] = dir }
}

// WithMaxStreams caps concurrent streams over all languages.
func WithMaxStreams(n int) Option { return func(o *options) { o.maxStreams = n } }

// WithStreamWait is how long NewStream waits for a free slot before
// returning asr.ErrBusy.
func WithStreamWait(d time.Duration) Option { return func(o *options) { o.wait = d } }

// WithVAD sets the endpointing voice-activity settings.
func WithVAD(cfg audio.VADConfig) Option { return func(o *options) { o.vad = cfg } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithKaldiLogLevel sets libvosk's own stderr logging (default -1: quiet).
func WithKaldiLogLevel(level int) Option { return func(o *options) { o.logLevel = level } }

// Engine recognises the languages it has models for. It is safe for
// concurrent use.
type Engine struct {
	opt options
	lim *asr.Limiter

	mu     sync.Mutex
	models map[string]*loaded
	closed bool
}

// loaded is a model being loaded or loaded; ready is closed when done.
type loaded struct {
	ready chan struct{}
	m     *model
	err   error
}

// New configures the engine. Models load on first use or with Load.
func New(opts ...Option) (*Engine, error) {
	o := options{models: map[string]string{}, maxStreams: 4, wait: 2 * time.Second, vad: audio.DefaultVADConfig(), logLevel: -1}
	for _, f := range opts {
		f(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if !Available {
		return nil, fmt.Errorf("vosk: %w (built with -tags novosk)", asr.ErrEngineUnavailable)
	}
	setLogLevel(o.logLevel) // process-wide in libvosk; the last engine wins
	return &Engine{opt: o, lim: asr.NewLimiter(o.maxStreams, o.wait), models: map[string]*loaded{}}, nil
}

// Languages lists the configured languages.
func (e *Engine) Languages() []string {
	var ls []string
	for l := range e.opt.models {
		ls = append(ls, l)
	}
	sort.Strings(ls)
	return ls
}

// Load loads the model of lang now (instead of on the first stream), so a
// missing model is reported at start. Concurrent callers share one load.
func (e *Engine) Load(lang string) error {
	_, err := e.model(lang)
	return err
}

func (e *Engine) model(lang string) (*model, error) {
	dir, ok := e.opt.models[lang]
	if !ok || dir == "" {
		return nil, fmt.Errorf("%w: %w for %q (set asr.vosk.models.%s)", asr.ErrUnsupportedLanguage, errNoModel, lang, lang)
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, fmt.Errorf("vosk: engine closed: %w", asr.ErrClosed)
	}
	l, ok := e.models[lang]
	if !ok {
		l = &loaded{ready: make(chan struct{})}
		e.models[lang] = l
		e.mu.Unlock()
		l.m, l.err = openModel(lang, dir)
		close(l.ready)
		if l.err != nil {
			// Forget the failure so an operator can fix the folder
			// without a restart.
			e.mu.Lock()
			delete(e.models, lang)
			e.mu.Unlock()
		} else {
			e.opt.log.Info("vosk model loaded", "lang", lang, "dir", dir)
		}
	} else {
		e.mu.Unlock()
		<-l.ready
	}
	return l.m, l.err
}

// openModel checks the folder and loads it.
func openModel(lang, dir string) (*model, error) {
	if err := CheckModel(dir); err != nil {
		return nil, err
	}
	m, err := loadModel(dir)
	if err != nil {
		if errors.Is(err, asr.ErrEngineUnavailable) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: Vosk %s model in %s: %v (files damaged or half-copied? unpack %s.zip there again)",
			asr.ErrModelBroken, lang, dir, err, OfficialModels[lang])
	}
	return m, nil
}

// CheckModel checks that dir looks like a complete Vosk (Kaldi) model
// before libvosk sees it: libvosk reports a bad folder only as a NULL
// pointer, with the reason in its (silenced) log.
func CheckModel(dir string) error {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return fmt.Errorf("%w: Vosk model folder %s does not exist", asr.ErrModelMissing, dir)
	}
	exists := func(rel string) bool {
		st, err := os.Stat(filepath.Join(dir, rel))
		return err == nil && st.Mode().IsRegular() && st.Size() > 0
	}
	var missing []string
	// libvosk 0.3.39 takes a folder with conf/model.conf for the current
	// layout (every official model since 2020) and refuses it otherwise.
	for _, rel := range []string{"am/final.mdl", "conf/model.conf", "conf/mfcc.conf"} {
		if !exists(rel) {
			missing = append(missing, rel)
		}
	}
	// A graph is either one HCLG.fst or, in the small models, a lookahead
	// pair HCLr.fst + Gr.fst.
	if !exists("graph/HCLG.fst") && !(exists("graph/HCLr.fst") && exists("graph/Gr.fst")) {
		missing = append(missing, "graph/HCLG.fst (or graph/HCLr.fst and graph/Gr.fst)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: Vosk model folder %s lacks %s (not a Vosk model, or half-copied)",
			asr.ErrModelBroken, dir, strings.Join(missing, ", "))
	}
	return nil
}

// NewStream opens a stream for cfg.Lang, loading its model if needed. It
// waits for a free slot up to the configured wait, then returns
// asr.ErrBusy.
func (e *Engine) NewStream(ctx context.Context, cfg asr.StreamConfig) (asr.Stream, error) {
	m, err := e.model(cfg.Lang)
	if err != nil {
		return nil, err
	}
	release, err := e.lim.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	r, err := newRecognizer(m, SampleRate, cfg.Alternatives)
	if err != nil {
		release()
		return nil, fmt.Errorf("%w: %v", asr.ErrModelBroken, err)
	}
	return asr.NewStream(ctx, &decoder{r: r, alts: cfg.Alternatives > 0}, cfg, asr.StreamOptions{
		Logger:  e.opt.log.With("asr", "vosk", "lang", cfg.Lang),
		VAD:     e.opt.vad,
		Release: release,
	})
}

// Close frees the models (streams still open keep theirs alive until they
// close). Idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	for lang, l := range e.models {
		<-l.ready
		if l.m != nil {
			l.m.free()
		}
		delete(e.models, lang)
	}
	return nil
}

// decoder adapts a Vosk recogniser to asr.Decoder.
type decoder struct {
	r    *recognizer
	alts bool
	// fed and uttStart count samples, to place word times on the
	// utterance clock (see rebase).
	fed, uttStart int64
}

func (d *decoder) SampleRate() int { return SampleRate }

func (d *decoder) Accept(pcm []int16) (bool, error) {
	if d.r == nil {
		return false, asr.ErrClosed
	}
	if len(pcm) == 0 {
		return false, nil
	}
	d.fed += int64(len(pcm))
	return d.r.accept(pcm)
}

func (d *decoder) Partial() string {
	if d.r == nil {
		return ""
	}
	var p struct {
		Partial string `json:"partial"`
	}
	if json.Unmarshal([]byte(d.r.partial()), &p) != nil {
		return ""
	}
	return p.Partial
}

// Final returns the utterance. After Vosk's own endpoint Result holds it;
// otherwise FinalResult flushes what is pending.
func (d *decoder) Final() (asr.Result, error) {
	if d.r == nil {
		return asr.Result{}, asr.ErrClosed
	}
	// FinalResult also returns a pending endpoint result, and an empty
	// one if Result already took it; it never loses audio.
	res, err := parseResult(d.r.final())
	if err != nil {
		return asr.Result{}, err
	}
	d.rebase(&res)
	d.r.reset()
	d.uttStart = d.fed
	return res, nil
}

// rebase puts word times on the utterance clock. Vosk counts time from the
// recogniser's start, over all utterances, while the stream gives it only
// the speech (silence between utterances is not decoded). If the times lie
// beyond the utterance's length they are on Vosk's running clock and the
// samples fed before this utterance are subtracted.
func (d *decoder) rebase(res *asr.Result) {
	if len(res.Words) == 0 {
		return
	}
	uttLen := time.Duration(d.fed-d.uttStart) * time.Second / SampleRate
	if res.Words[len(res.Words)-1].End <= uttLen+100*time.Millisecond {
		return
	}
	off := time.Duration(d.uttStart) * time.Second / SampleRate
	for i := range res.Words {
		res.Words[i].Start = max(0, res.Words[i].Start-off)
		res.Words[i].End = max(0, res.Words[i].End-off)
	}
}

func (d *decoder) Reset() {
	if d.r != nil {
		d.r.reset()
		d.uttStart = d.fed
	}
}

func (d *decoder) Close() error {
	if d.r != nil {
		d.r.free()
		d.r = nil
	}
	return nil
}

// Vosk's result JSON: either words with confidences, or (with max
// alternatives set) a list of alternatives, each with its words.
type voskWord struct {
	Word  string   `json:"word"`
	Start float64  `json:"start"`
	End   float64  `json:"end"`
	Conf  *float64 `json:"conf"`
}

type voskAlt struct {
	Text       string     `json:"text"`
	Confidence float64    `json:"confidence"`
	Result     []voskWord `json:"result"`
}

type voskResult struct {
	Text         string     `json:"text"`
	Result       []voskWord `json:"result"`
	Alternatives []voskAlt  `json:"alternatives"`
}

func parseResult(js string) (asr.Result, error) {
	var v voskResult
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		return asr.Result{}, fmt.Errorf("vosk: bad result JSON: %w", err)
	}
	res := asr.Result{Confidence: -1}
	words := v.Result
	res.Text = v.Text
	if len(v.Alternatives) > 0 {
		best := v.Alternatives[0]
		res.Text, words = best.Text, best.Result
		for _, a := range v.Alternatives[1:] {
			if a.Text != "" && a.Text != best.Text {
				// Vosk's alternative confidences are lattice scores, not
				// probabilities.
				res.Alternatives = append(res.Alternatives, asr.Alternative{Text: a.Text, Confidence: -1})
			}
		}
	}
	var sum float64
	n := 0
	for _, w := range words {
		conf := -1.0
		if w.Conf != nil {
			conf = *w.Conf
			sum += conf
			n++
		}
		res.Words = append(res.Words, asr.Word{
			Text:       w.Word,
			Start:      seconds(w.Start),
			End:        seconds(w.End),
			Confidence: conf,
		})
	}
	if n > 0 && n == len(words) {
		res.Confidence = sum / float64(n)
	}
	res.Text = strings.TrimSpace(res.Text)
	return res, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
