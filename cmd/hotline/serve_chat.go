package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/bot/adapters"
	"github.com/hotline-ivr/hotline/bot/chat"
	"github.com/hotline-ivr/hotline/config"
	"github.com/hotline-ivr/hotline/handoff"
	"github.com/hotline-ivr/hotline/knowledge"
	"github.com/hotline-ivr/hotline/nlu"
	"github.com/hotline-ivr/hotline/web"
)

// chatConfig is what the conversation bot and the web chat need. The lead
// maps it from the YAML config (keys in the comments); zero values take
// the defaults in brackets.
type chatConfig struct {
	// bot.answer_threshold (0.5): faq confidence to answer at once;
	// bot.clarify_threshold (0.25): below it the bot says it did not
	// understand, between the two it offers the two best topics.
	AnswerThreshold, ClarifyThreshold float64
	// bot.human_only: article ids or queue names that always go to a person.
	HumanOnly []string
	// bot.no_input_voice (8s): silence before a re-prompt on a call.
	NoInputVoice time.Duration
	// chat.no_input (5m): the same in the web chat.
	NoInputChat time.Duration
	// chat.max_message_bytes (4096), chat.rate (2 per second), chat.burst (8),
	// chat.max_sessions (200), chat.origins (other sites allowed to embed
	// the chat; default same origin only).
	MaxMessage    int
	Rate          float64
	Burst         int
	MaxSessions   int
	AllowedOrigin []string
	// llm.*: the optional LLM for unsure utterances and, with
	// phrase_answers, grounded phrasing of FAQ answers; nil when off.
	LLM *nlu.LLMConfig
}

// botStack is the bot's dependencies and the mounted chat; Close ends the
// open chats (saving their transcripts) and waits.
type botStack struct {
	Deps   bot.Deps // for telephony: bot.New(stack.Deps, stack.VoiceConfig(callID, callerID))
	Chat   *chat.Handler
	parser *nlu.Parser
	cfg    chatConfig
}

// Close ends the chats. It is idempotent (chat.Handler.Close is).
func (b *botStack) Close() error { return b.Chat.Close() }

// VoiceConfig is a voice session's configuration for a call.
func (b *botStack) VoiceConfig(callID, callerPhone string) bot.Config {
	c := b.sessionConfig(bot.ChannelVoice)
	c.ID, c.CallerPhone = callID, callerPhone
	return c
}

func (b *botStack) sessionConfig(channel string) bot.Config {
	c := bot.Config{
		Channel: channel, AnswerThreshold: b.cfg.AnswerThreshold, ClarifyThreshold: b.cfg.ClarifyThreshold,
		HumanOnly: b.cfg.HumanOnly, NoInput: b.cfg.NoInputVoice,
	}
	if channel == bot.ChannelChat {
		c.NoInput = b.cfg.NoInputChat
	}
	return c
}

// mountChat builds the bot over the running knowledge base, appeals and
// handoff center, and mounts the chat WebSocket (/api/v1/chat/ws) and the
// widget (/chat/) on srv.
//
// Wiring in serve.go, after mountKnowledge and mountAppeals:
//
//	bs, err := mountChat(ctx, log, srv, kb, ap.Service, ap.Center, chatConfig{})
//	if err != nil { return err }
//	defer bs.Close()
func mountChat(ctx context.Context, log *slog.Logger, srv *web.Server, kb *knowledge.Service, appeals *appeal.Service,
	center *handoff.Center, cfg chatConfig) (*botStack, error) {
	arts, err := nlu.PublishedArticles(ctx, kb)
	if err != nil {
		return nil, fmt.Errorf("bot: knowledge articles: %w", err)
	}
	// The parser learns the articles' example questions at start; articles
	// edited later are still found through the knowledge base's search.
	nlog := log.With("component", "nlu")
	p, err := nlu.New(append([]nlu.Option{
		nlu.WithLogger(nlog),
		nlu.WithArticles(arts),
		nlu.WithRetriever(nlu.KnowledgeRetriever{S: kb}),
		nlu.WithAppealValidator(func(s string) bool { return appeal.ValidNumber(s) == nil }),
	}, withLLM(nlog, cfg.LLM)...)...)
	if err != nil {
		return nil, fmt.Errorf("bot: nlu: %w", err)
	}
	b := &botStack{parser: p, cfg: cfg}
	var und bot.Understander = adapters.Understander{P: p}
	if p.LLM().PhraseEnabled() {
		// FAQ answers are phrased from the article by the LLM; the bot
		// says the article's own text when it is slow, down or ungrounded.
		und = adapters.Phrased{U: und, P: p.LLM(), MinConfidence: cmp.Or(cfg.ClarifyThreshold, 0.25), HumanOnly: cfg.HumanOnly}
	}
	b.Deps = bot.Deps{
		Understander: und,
		Answerer:     adapters.Answerer{S: kb},
		Appeals:      adapters.Appeals{S: appeals},
		Relay:        adapters.Relay{C: center},
		Log:          log.With("component", "bot"),
	}
	if center != nil {
		b.Deps.Router = adapters.Router{C: center}
	}
	opts := []chat.Option{
		chat.WithLogger(log.With("component", "chat")),
		chat.WithSessionConfig(func(c *bot.Config) {
			lang := c.Lang
			*c = b.sessionConfig(bot.ChannelChat)
			c.Lang = lang
		}),
	}
	if center != nil {
		opts = append(opts, chat.WithAgentFeed(adapters.Relay{C: center}))
	} else {
		b.Deps.Relay = nil
	}
	if cfg.MaxMessage > 0 {
		opts = append(opts, chat.WithMaxMessage(cfg.MaxMessage))
	}
	if cfg.Rate > 0 && cfg.Burst > 0 {
		opts = append(opts, chat.WithRate(cfg.Rate, cfg.Burst))
	}
	if cfg.MaxSessions > 0 {
		opts = append(opts, chat.WithMaxSessions(cfg.MaxSessions))
	}
	if cfg.NoInputChat > 0 {
		opts = append(opts, chat.WithNoInput(cfg.NoInputChat))
	}
	if len(cfg.AllowedOrigin) > 0 {
		opts = append(opts, chat.WithOriginPatterns(cfg.AllowedOrigin...))
	}
	b.Chat = chat.Register(srv.API(), b.Deps, opts...)
	chat.RegisterUI(srv.Router())
	log.Info("chat mounted", "articles", len(arts), "ws", "/api/v1/chat/ws", "widget", "/chat/")
	return b, nil
}

func chatConfigFrom(cfg *config.Config) chatConfig {
	return chatConfig{
		AnswerThreshold:  cfg.Bot.AnswerThreshold,
		ClarifyThreshold: cfg.Bot.ClarifyThreshold,
		HumanOnly:        cfg.Bot.HumanOnly,
		NoInputVoice:     cfg.Bot.NoInputVoice,
		NoInputChat:      cfg.Chat.NoInput,
		MaxMessage:       cfg.Chat.MaxMessageBytes,
		Rate:             cfg.Chat.Rate,
		Burst:            cfg.Chat.Burst,
		MaxSessions:      cfg.Chat.MaxSessions,
		AllowedOrigin:    cfg.Chat.Origins,
		LLM:              llmConfig(cfg),
	}
}
