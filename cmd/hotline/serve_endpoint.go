package main

import (
	"cmp"
	"context"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/bot/adapters"
	"github.com/hotline-ivr/hotline/nlu"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/voice"
)

// voiceDeps are the dependencies of a call's voice pipeline, the same for
// SIP and in-app calls: the bot, and the Completer that lets a turn end at
// a short pause (asr.vad.early_endpoint) when what the caller said is
// complete.
func (b *botStack) voiceDeps(recs voice.RecognizerFunc, synth tts.Synthesizer) voice.Deps {
	d := voice.Deps{Recognizers: recs, Synth: synth, Bot: b.Deps}
	if b.parser != nil {
		d.Completer = voice.UnderstandingCompleter(voice.CompleterConfig{
			// The classifier only: the caller is silent while it runs.
			Understander:  adapters.Understander{P: quickParser{b.parser}},
			MinConfidence: cmp.Or(b.cfg.AnswerThreshold, 0.6),
			ValidAppeal:   func(s string) bool { return appeal.ValidNumber(s) == nil },
		})
	}
	return d
}

// quickParser parses without the LLM (nlu.Hint.Quick).
type quickParser struct{ p *nlu.Parser }

func (q quickParser) Parse(ctx context.Context, text string, h nlu.Hint) (nlu.Result, error) {
	h.Quick = true
	return q.p.Parse(ctx, text, h)
}
