package config

import "time"

// Bot tunes the conversation manager, shared by calls and chat.
type Bot struct {
	// AnswerThreshold is the FAQ confidence at which the bot answers at once;
	// below ClarifyThreshold it says it did not understand, and between the
	// two it offers the two best topics.
	AnswerThreshold  float64 `yaml:"answer_threshold"`
	ClarifyThreshold float64 `yaml:"clarify_threshold"`
	// HumanOnly lists article ids or queue names that always go to a person.
	HumanOnly []string `yaml:"human_only"`
	// NoInputVoice is the silence on a call before the bot re-prompts.
	NoInputVoice time.Duration `yaml:"no_input_voice"`
}

// Chat configures the web chat endpoint and widget.
type Chat struct {
	NoInput         time.Duration `yaml:"no_input"`
	MaxMessageBytes int           `yaml:"max_message_bytes"`
	Rate            float64       `yaml:"rate"` // messages per second per connection
	Burst           int           `yaml:"burst"`
	MaxSessions     int           `yaml:"max_sessions"`
	Origins         []string      `yaml:"origins"` // other sites allowed to embed the chat
}

func (c *Config) validateBot(bad func(key, format string, args ...any)) {
	b := c.Bot
	if b.ClarifyThreshold < 0 || b.AnswerThreshold > 1 || b.ClarifyThreshold > b.AnswerThreshold {
		bad("bot", "thresholds must satisfy 0 <= clarify_threshold <= answer_threshold <= 1, got %g and %g",
			b.ClarifyThreshold, b.AnswerThreshold)
	}
	if b.NoInputVoice < time.Second || b.NoInputVoice > 2*time.Minute {
		bad("bot.no_input_voice", "must be between 1s and 2m, got %s", b.NoInputVoice)
	}
	ch := c.Chat
	if ch.NoInput < 10*time.Second {
		bad("chat.no_input", "must be at least 10s, got %s", ch.NoInput)
	}
	if ch.MaxMessageBytes < 64 || ch.MaxMessageBytes > 1<<20 {
		bad("chat.max_message_bytes", "must be between 64 and 1048576, got %d", ch.MaxMessageBytes)
	}
	if ch.Rate <= 0 || ch.Burst < 1 {
		bad("chat.rate", "rate must be positive and burst at least 1, got %g and %d", ch.Rate, ch.Burst)
	}
	if ch.MaxSessions < 1 {
		bad("chat.max_sessions", "must be at least 1, got %d", ch.MaxSessions)
	}
}
