// Package openai is a speech synthesis engine on any OpenAI-compatible
// speech endpoint (POST /audio/speech: OpenAI, or a local server speaking
// the same API), through github.com/sashabaranov/go-openai.
//
// Each sentence is one request, bounded by the configured timeout. Wrap
// the engine in tts.NewFallback with the embedded engine as secondary, so
// an unreachable, slow or broken endpoint costs a caller at most the
// timeout:
//
//	remote, _ := openai.New(openai.WithBaseURL(url), openai.WithModel("tts-1"), openai.WithVoice("alloy"))
//	synth := tts.NewFallback(remote, espeakEngine, 2*time.Second, log)
package openai

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/tts"
)

// maxResponse bounds one sentence's audio (a minute of 48 kHz PCM).
const maxResponse = 6 << 20

var (
	_ tts.Synthesizer = (*Engine)(nil)
	_ tts.Renderer    = (*Engine)(nil)
)

type options struct {
	baseURL, apiKey, model, voice string
	timeout                       time.Duration
	client                        *http.Client
	log                           *slog.Logger
}

// Option configures an Engine.
type Option func(*options)

// WithBaseURL sets the API base URL ("https://api.openai.com/v1",
// "http://127.0.0.1:8000/v1").
func WithBaseURL(u string) Option { return func(o *options) { o.baseURL = u } }

// WithAPIKey sets the bearer token; local servers usually need none.
func WithAPIKey(k string) Option { return func(o *options) { o.apiKey = k } }

// WithModel sets the speech model ("tts-1").
func WithModel(m string) Option { return func(o *options) { o.model = m } }

// WithVoice sets the default voice ("alloy").
func WithVoice(v string) Option { return func(o *options) { o.voice = v } }

// WithTimeout bounds each sentence's request (default 5 s).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithHTTPClient sets the HTTP client.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Engine renders speech on a remote endpoint. It is safe for concurrent
// use.
type Engine struct {
	opt    options
	client *goopenai.Client
}

// New checks the configuration. It does not contact the endpoint.
func New(opts ...Option) (*Engine, error) {
	o := options{model: string(goopenai.TTSModel1), voice: string(goopenai.VoiceAlloy), timeout: 5 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	if o.baseURL == "" {
		return nil, errors.New("openai tts: no base URL configured")
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	cfg := goopenai.DefaultConfig(o.apiKey)
	cfg.BaseURL = o.baseURL
	if o.client != nil {
		cfg.HTTPClient = o.client
	}
	return &Engine{opt: o, client: goopenai.NewClientWithConfig(cfg)}, nil
}

// Synthesize implements tts.Synthesizer. The endpoint's voices are not
// known in advance: a voice it does not have fails at the first sentence.
func (e *Engine) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	req, err := req.Normalize()
	if err != nil {
		return nil, err
	}
	if req.Voice == "" {
		req.Voice = e.opt.voice
	}
	return tts.NewStream(ctx, e, req, tts.StreamOptions{SplitFirstClause: true})
}

// Render implements tts.Renderer: one request per sentence, WAV back.
func (e *Engine) Render(ctx context.Context, s tts.Sentence, emit func([]int16, int) error) error {
	rctx, cancel := context.WithTimeout(ctx, e.opt.timeout)
	defer cancel()
	resp, err := e.client.CreateSpeech(rctx, goopenai.CreateSpeechRequest{
		Model:          goopenai.SpeechModel(e.opt.model),
		Input:          s.Text,
		Voice:          goopenai.SpeechVoice(s.Voice),
		ResponseFormat: goopenai.SpeechResponseFormatWav,
		Speed:          s.Speed,
	})
	if err != nil {
		return e.fail(ctx, rctx, err)
	}
	defer resp.Close()
	body, err := io.ReadAll(io.LimitReader(resp, maxResponse+1))
	if err != nil {
		return e.fail(ctx, rctx, err)
	}
	if len(body) > maxResponse {
		return fmt.Errorf("%w: speech endpoint sent more than %d bytes for one sentence", tts.ErrEngine, maxResponse)
	}
	samples, info, err := audio.ReadWAV(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: speech endpoint did not send WAV audio: %v", tts.ErrEngine, err)
	}
	if len(samples) == 0 {
		return fmt.Errorf("%w: speech endpoint sent no audio", tts.ErrEngine)
	}
	return emit(samples, info.Rate)
}

func (e *Engine) fail(ctx, rctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if rctx.Err() != nil {
		return fmt.Errorf("%w: speech endpoint did not answer within %v", tts.ErrTimeout, e.opt.timeout)
	}
	return fmt.Errorf("%w: speech endpoint: %v", tts.ErrEngine, err)
}
