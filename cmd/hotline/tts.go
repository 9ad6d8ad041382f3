package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/config"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/tts/espeak"
	"github.com/hotline-ivr/hotline/tts/festival"
	"github.com/hotline-ivr/hotline/tts/openai"
	"github.com/hotline-ivr/hotline/web"
)

// festivalStandIn bounds the wait for Festival's first audio of a reply
// before eSpeak speaks it instead (Festival's usual first audio is 0.2 to
// 0.4 s; a longer wait means its server is restarting or overloaded).
const festivalStandIn = 3 * time.Second

// speech is the synthesizer built from the tts config, in one place for
// `hotline say` and `hotline serve`: the configured engine per language,
// Festival falling back to eSpeak when it is missing or does not start,
// a remote endpoint or Festival standing aside for the embedded engine
// when a reply fails or is slow to start, all behind one cache.
type speech struct {
	// Synth routes by language to the engines, uncached.
	Synth tts.Synthesizer
	// Cache is Synth behind the cache of rendered replies: what the
	// service speaks through.
	Cache *tts.Cache
	// Engines says what speaks each language, for logs and readiness
	// ("festival, espeak stands in").
	Engines map[string]string

	last     map[string]tts.Synthesizer // per language: the engine of last resort
	festival *festival.Engine
	espeak   *espeak.Engine
}

// speechOptions narrow what openSpeech builds.
type speechOptions struct {
	// Langs to build; nil means both.
	Langs []string
	// Engine, if set, replaces tts.engine for every language and must
	// start: no fallback at start (hotline say --engine).
	Engine string
}

// openSpeech builds the engines the config names. The caller closes the
// result, which stops the Festival server.
func openSpeech(cfg config.TTS, o speechOptions, log *slog.Logger) (_ *speech, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	langs := o.Langs
	if langs == nil {
		langs = []string{tts.LangRU, tts.LangEN}
	}
	if o.Engine != "" && !slices.Contains(config.TTSEngines, o.Engine) {
		return nil, fmt.Errorf("%w: unknown engine %q (want %s)", errUsage, o.Engine, strings.Join(config.TTSEngines, ", "))
	}
	sp := &speech{Engines: map[string]string{}, last: map[string]tts.Synthesizer{}}
	defer func() {
		if err != nil {
			sp.Close()
		}
	}()
	var espeakErr, festivalErr error
	espeakStarted, festivalStarted := false, false
	embedded := func() (*espeak.Engine, error) { // started on first use
		if !espeakStarted {
			espeakStarted = true
			sp.espeak, espeakErr = espeak.New(
				espeak.WithRate(cfg.Espeak.Rate), espeak.WithPitch(cfg.Espeak.Pitch),
				espeak.WithVoice(tts.LangRU, cfg.Espeak.Voice.RU), espeak.WithVoice(tts.LangEN, cfg.Espeak.Voice.EN),
				espeak.WithLogger(log.With("component", "espeak")))
			if espeakErr != nil {
				espeakErr = fmt.Errorf("espeak: %w", espeakErr)
				sp.espeak = nil
			}
		}
		return sp.espeak, espeakErr
	}
	festivalEngine := func() (*festival.Engine, error) {
		if !festivalStarted {
			festivalStarted = true
			start := time.Now()
			sp.festival, festivalErr = festival.New(
				festival.WithBinary(cfg.Festival.Binary), festival.WithPort(cfg.Festival.Port),
				festival.WithVoice(tts.LangRU, cfg.Festival.Voice.RU), festival.WithVoice(tts.LangEN, cfg.Festival.Voice.EN),
				festival.WithStartTimeout(cfg.Festival.StartTimeout), festival.WithLogger(log.With("component", "festival")))
			if festivalErr != nil {
				sp.festival = nil
			} else {
				log.Debug("festival server started", "took", time.Since(start).Round(time.Millisecond))
			}
		}
		return sp.festival, festivalErr
	}
	var remote *openai.Engine
	byLang := tts.ByLang{}
	for _, lang := range langs {
		if lang != tts.LangRU && lang != tts.LangEN {
			return nil, fmt.Errorf("%w: %q (want ru or en)", tts.ErrUnsupportedLanguage, lang)
		}
		name := cfg.Engine.For(lang)
		if o.Engine != "" {
			name = o.Engine
		}
		switch name {
		case "espeak":
			e, err := embedded()
			if err != nil {
				return nil, err
			}
			byLang[lang], sp.last[lang], sp.Engines[lang] = e, e, "espeak"
		case "festival":
			if o.Engine != "" { // asked for by name: Festival alone
				f, err := festivalEngine()
				if err != nil {
					return nil, err
				}
				byLang[lang], sp.last[lang], sp.Engines[lang] = f, f, "festival"
				continue
			}
			f, ferr := festivalEngine()
			e, eerr := embedded()
			if ferr == nil && eerr != nil {
				log.Warn("eSpeak cannot run, nothing stands in for Festival", "lang", lang, "error", eerr)
			}
			switch {
			case ferr == nil && eerr == nil:
				byLang[lang] = tts.NewFallback(f, e, festivalStandIn, log.With("component", "tts", "lang", lang))
				sp.last[lang], sp.Engines[lang] = e, "festival, espeak stands in"
			case ferr == nil:
				byLang[lang], sp.last[lang], sp.Engines[lang] = f, f, "festival"
			case eerr == nil:
				log.Warn("festival is not available, eSpeak speaks instead", "lang", lang, "error", ferr)
				byLang[lang], sp.last[lang], sp.Engines[lang] = e, e, "espeak (festival: "+ferr.Error()+")"
			default:
				return nil, errors.Join(ferr, eerr)
			}
		case "openai":
			if remote == nil {
				var err error
				remote, err = openai.New(openai.WithBaseURL(cfg.OpenAI.BaseURL), openai.WithAPIKey(cfg.OpenAI.APIKey),
					openai.WithModel(cfg.OpenAI.Model), openai.WithVoice(cfg.OpenAI.Voice),
					openai.WithTimeout(cfg.OpenAI.Timeout), openai.WithLogger(log.With("component", "openai-tts")))
				if err != nil {
					return nil, err
				}
			}
			// The embedded engine speaks when the endpoint fails or is
			// slow: eSpeak, whose first audio is immediate; Festival if
			// eSpeak cannot run.
			var standIn tts.Synthesizer
			var standInName string
			if e, err := embedded(); err == nil {
				standIn, standInName = e, "espeak"
			} else if f, ferr := festivalEngine(); ferr == nil {
				standIn, standInName = f, "festival"
			} else {
				return nil, fmt.Errorf("openai needs an embedded engine to stand in: %w", errors.Join(err, ferr))
			}
			byLang[lang] = tts.NewFallback(remote, standIn, cfg.OpenAI.FallbackTimeout, log.With("component", "tts", "lang", lang))
			sp.last[lang], sp.Engines[lang] = standIn, "openai, "+standInName+" stands in"
		default:
			return nil, fmt.Errorf("%w: unknown engine %q", errUsage, name)
		}
	}
	sp.Synth = byLang
	// The cache's name keeps renders of different engine choices apart.
	var key []string
	for _, lang := range langs {
		key = append(key, lang+"="+strings.Fields(sp.Engines[lang])[0])
	}
	sp.Cache = tts.NewCache(byLang, tts.WithCacheBytes(int64(cfg.CacheMB)<<20),
		tts.WithCacheName(strings.Join(key, ",")), tts.WithCacheLogger(log.With("component", "tts-cache")))
	return sp, nil
}

// Check renders a word in every language with the engine of last resort
// (eSpeak when it runs): the service can speak if it works. It is the
// "tts" readiness check.
func (sp *speech) Check(ctx context.Context) error {
	var errs []error
	for _, lang := range slices.Sorted(func(yield func(string) bool) {
		for l := range sp.last {
			if !yield(l) {
				return
			}
		}
	}) {
		word := map[string]string{tts.LangRU: "Да.", tts.LangEN: "Yes."}[lang]
		st, err := sp.last[lang].Synthesize(ctx, tts.Request{Text: word, Lang: lang, Rate: audio.Rate8k})
		if err == nil {
			var samples []int16
			samples, _, err = tts.ReadAll(st)
			if err == nil && len(samples) == 0 {
				err = errors.New("no audio")
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", lang, sp.Engines[lang], err))
		}
	}
	return errors.Join(errs...)
}

// Prerender renders the prompts into the cache, pinned, one by one so
// that a prompt that fails does not stop the others. It returns how many
// were rendered and the failures.
func (sp *speech) Prerender(ctx context.Context, prompts []tts.Request) (int, error) {
	n := 0
	var errs []error
	for _, p := range prompts {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if _, ok := sp.Engines[p.Lang]; !ok {
			continue
		}
		if err := sp.Cache.Prerender(ctx, []tts.Request{p}); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// Close stops the engines (the Festival server and its children). It is
// idempotent.
func (sp *speech) Close() error {
	var errs []error
	if sp.festival != nil {
		errs = append(errs, sp.festival.Close())
	}
	if sp.espeak != nil {
		errs = append(errs, sp.espeak.Close())
	}
	return errors.Join(errs...)
}

// startSpeech builds the service's synthesizer, registers its readiness
// check and prerenders the bot's fixed prompts at telephone rate in the
// background. Closing the result stops the prerender first.
func startSpeech(ctx context.Context, cfg *config.Config, srv *web.Server, log *slog.Logger) (*servedSpeech, error) {
	tlog := log.With("component", "tts")
	sp, err := openSpeech(cfg.TTS, speechOptions{}, log)
	if err != nil {
		return nil, fmt.Errorf("speech synthesis: %w", err)
	}
	srv.AddReadiness("tts", sp.Check)
	tlog.Info("speech synthesis ready", "ru", sp.Engines[tts.LangRU], "en", sp.Engines[tts.LangEN], "cache_mb", cfg.TTS.CacheMB)
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var reqs []tts.Request
		for _, p := range bot.FixedPrompts() {
			reqs = append(reqs, tts.Request{Text: p.Text, Lang: p.Lang, Rate: audio.Rate8k})
		}
		start := time.Now()
		n, err := sp.Prerender(pctx, reqs)
		took := time.Since(start).Round(time.Millisecond)
		switch {
		case pctx.Err() != nil:
			tlog.Info("prompt prerender stopped", "rendered", n, "of", len(reqs), "took", took)
		case err != nil:
			tlog.Warn("some prompts were not prerendered", "rendered", n, "of", len(reqs), "took", took, "error", err)
		default:
			tlog.Info("prompts prerendered", "prompts", n, "took", took, "cache_bytes", sp.Cache.Stats().Bytes)
		}
	}()
	return &servedSpeech{speech: sp, stop: func() { cancel(); <-done }}, nil
}

// servedSpeech is the service's speech with its background prerender.
type servedSpeech struct {
	*speech
	stop func()
}

// Close stops the prerender, then the engines.
func (s *servedSpeech) Close() error {
	s.stop()
	return s.speech.Close()
}
