package main

import (
	"context"
	"log/slog"
	"net/url"

	"github.com/hotline-ivr/hotline/config"
	"github.com/hotline-ivr/hotline/nlu"
)

// llmConfig maps llm.* to the nlu client; nil when the LLM is off.
func llmConfig(cfg *config.Config) *nlu.LLMConfig {
	l := cfg.LLM
	if !l.Enabled {
		return nil
	}
	return &nlu.LLMConfig{
		BaseURL: l.BaseURL, Model: l.Model, APIKey: l.APIKey,
		Timeout: l.Timeout, Threshold: l.MinConfidence, Phrase: l.PhraseAnswers,
		BreakerFailures: l.BreakerFailures, BreakerCooldown: l.BreakerCooldown,
	}
}

// withLLM is the parser option for c (none when off), logged once.
func withLLM(log *slog.Logger, c *nlu.LLMConfig) []nlu.Option {
	if c == nil {
		return nil
	}
	host := c.BaseURL
	if u, err := url.Parse(c.BaseURL); err == nil {
		host = u.Host // never the key, nor a path that might hold one
	}
	log.Info("llm enabled", "host", host, "model", c.Model, "timeout", c.Timeout.String(),
		"min_confidence", c.Threshold, "phrase_answers", c.Phrase)
	return []nlu.Option{nlu.WithLLM(*c)}
}

// phrasedReply is what `hotline ask` says: the bot's first reply, with a
// FAQ answer phrased by the LLM from the article when that is configured
// (the article's text whenever the LLM fails).
func phrasedReply(ctx context.Context, p *nlu.Parser, r nlu.Result) string {
	if l := p.LLM(); l.PhraseEnabled() && r.Intent == nlu.IntentFAQ && r.Article != nil && r.Confidence >= nlu.ClarifyBelow {
		return l.Answer(ctx, r.Lang, r.Text, *r.Article)
	}
	return nlu.FirstReply(r)
}
