package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/calls"
	"github.com/hotline-ivr/hotline/internal/sipload"
	"github.com/hotline-ivr/hotline/store"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/tts/espeak"
	"github.com/hotline-ivr/hotline/voice"
)

// The phone-call and in-app-call pipeline sections answer with the same
// call stack and summarise the calls' turns the same way.

// loadToolDir makes a temporary folder named after prefix and builds
// cmd/sipload into it. cleanup removes the folder; it is nil on error.
func loadToolDir(ctx context.Context, prefix string) (dir, bin string, cleanup func(), err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", "", nil, err
	}
	if bin, err = loadTool(ctx, dir); err != nil {
		os.RemoveAll(dir)
		return "", "", nil, err
	}
	return dir, bin, func() { os.RemoveAll(dir) }, nil
}

// callStack is calls.Handler with the real engines as `hotline serve`
// wires them: eSpeak behind the TTS cache, the embedded nlu and knowledge
// base, appeals in SQLite (benchBotDeps) and the calls' records in SQLite.
type callStack struct {
	h     *calls.Handler
	store *calls.Store
}

// newCallStack builds the stack in dir. english gives the English
// recogniser (other languages have none here); completer, when not nil,
// makes the voice.Completer from the bot's deps. close releases all the
// stack holds; it is nil on error.
func newCallStack(ctx context.Context, dir string, english func() asr.Recognizer,
	completer func(bot.Deps) voice.Completer, opts ...calls.Option) (*callStack, func(), error) {
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	fail := func(err error) (*callStack, func(), error) {
		closeAll()
		return nil, nil, err
	}
	es, err := espeak.New()
	if err != nil {
		return fail(err)
	}
	closers = append(closers, func() { es.Close() })
	synth := tts.NewCache(es, tts.WithCacheBytes(64<<20))
	deps, closeDeps, err := benchBotDeps(ctx, dir)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, closeDeps)
	db, err := store.Open(filepath.Join(dir, "calls.db"))
	if err != nil {
		return fail(err)
	}
	closers = append(closers, func() { db.Close() })
	callStore, err := calls.OpenStore(ctx, db)
	if err != nil {
		return fail(err)
	}
	vd := voice.Deps{
		Recognizers: func(lang string) (asr.Recognizer, error) {
			if lang == "en" {
				return english(), nil
			}
			return nil, fmt.Errorf("%w: %s (no Vosk model here)", voice.ErrNoRecognizer, lang)
		},
		Synth: synth,
		Bot:   deps,
	}
	if completer != nil {
		vd.Completer = completer(deps)
	}
	h, err := calls.New(vd, func(id, phone string) bot.Config {
		return bot.Config{ID: id, CallerPhone: phone, NoInput: 30 * time.Second}
	}, append([]calls.Option{calls.WithStore(callStore)}, opts...)...)
	if err != nil {
		return fail(err)
	}
	return &callStack{h: h, store: callStore}, closeAll, nil
}

// turnColumns is the server's per-turn breakdown as table cells, p50
// over turns: voice-to-voice | endpointing | recognition | understanding
// | waiting | synthesis.
func turnColumns(turns []calls.Turn) string {
	p50 := func(f func(calls.Turn) int64) string {
		var ds []time.Duration
		for _, t := range turns {
			ds = append(ds, time.Duration(f(t))*time.Millisecond)
		}
		return msOf(sipload.Percentile(ds, 50))
	}
	return fmt.Sprintf("%s | %s | %s | %s | %s | %s",
		p50(func(t calls.Turn) int64 { return t.VoiceToVoiceMs }),
		p50(func(t calls.Turn) int64 { return t.EndpointingMs }),
		p50(func(t calls.Turn) int64 { return t.RecognitionMs }),
		p50(func(t calls.Turn) int64 { return t.UnderstandingMs }),
		p50(func(t calls.Turn) int64 { return t.WaitingMs }),
		p50(func(t calls.Turn) int64 { return t.SynthesisMs }))
}

// slowestTurn is the breakdown of the turn with the longest server
// voice-to-voice: a p95 above the p50 is one or two such turns, and the
// p50 columns do not say where their time went.
func slowestTurn(turns []calls.Turn) string {
	if len(turns) == 0 {
		return "no spoken turn"
	}
	s := turns[0]
	for _, t := range turns[1:] {
		if t.VoiceToVoiceMs > s.VoiceToVoiceMs {
			s = t
		}
	}
	return fmt.Sprintf("%d ms (endpointing %d, recognition %d, understanding %d, waiting %d, synthesis %d)",
		s.VoiceToVoiceMs, s.EndpointingMs, s.RecognitionMs, s.UnderstandingMs, s.WaitingMs, s.SynthesisMs)
}

// servedCompleter is the early end of turn as hotline serve wires it
// (botStack.voiceDeps): the bot's understanding decides whether what the
// caller said at a short pause is complete.
func servedCompleter(deps bot.Deps) voice.Completer {
	return voice.UnderstandingCompleter(voice.CompleterConfig{Understander: deps.Understander,
		ValidAppeal: func(s string) bool { return appeal.ValidNumber(s) == nil }})
}
