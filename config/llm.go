package config

import (
	"net/url"
	"strings"
	"time"
)

// LLM is the optional language model: any OpenAI-compatible chat endpoint
// (vLLM, llama.cpp server, Ollama). Off by default; when on, utterances
// the classifier is unsure of are labelled by the model and, with
// PhraseAnswers, FAQ answers are phrased by it from the retrieved article
// alone, falling back to the article's text on timeout, error or an
// answer that is not grounded in the article.
type LLM struct {
	Enabled bool   `yaml:"enabled"`
	BaseURL string `yaml:"base_url"` // e.g. http://localhost:11434/v1
	Model   string `yaml:"model"`
	APIKey  string `yaml:"api_key"` // optional for local servers; env HOTLINE_LLM_API_KEY
	// Timeout bounds one call; a late model is not waited for.
	Timeout time.Duration `yaml:"timeout"`
	// MinConfidence: utterances the classifier is less sure of are sent
	// to the model.
	MinConfidence float64 `yaml:"min_confidence"`
	PhraseAnswers bool    `yaml:"phrase_answers"`
	// BreakerFailures failed calls in a row stop calls for BreakerCooldown.
	BreakerFailures int           `yaml:"breaker_failures"`
	BreakerCooldown time.Duration `yaml:"breaker_cooldown"`
}

func (c *Config) validateLLM(bad func(key, format string, args ...any)) {
	l := c.LLM
	if l.Timeout < 100*time.Millisecond || l.Timeout > time.Minute {
		bad("llm.timeout", "must be between 100ms and 1m, got %s", l.Timeout)
	}
	if l.MinConfidence <= 0 || l.MinConfidence > 1 {
		bad("llm.min_confidence", "must be in (0, 1], got %g", l.MinConfidence)
	}
	if l.BreakerFailures < 1 {
		bad("llm.breaker_failures", "must be at least 1, got %d", l.BreakerFailures)
	}
	if l.BreakerCooldown < time.Second {
		bad("llm.breaker_cooldown", "must be at least 1s, got %s", l.BreakerCooldown)
	}
	if !l.Enabled {
		return
	}
	u, err := url.Parse(l.BaseURL)
	switch {
	case strings.TrimSpace(l.BaseURL) == "":
		bad("llm.base_url", "must be set when llm.enabled is true (e.g. http://localhost:11434/v1)")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		bad("llm.base_url", "%q is not an http(s) URL (e.g. http://localhost:8000/v1)", l.BaseURL)
	case u.User != nil:
		bad("llm.base_url", "must not carry credentials; use llm.api_key")
	}
	if strings.TrimSpace(l.Model) == "" {
		bad("llm.model", "must be set when llm.enabled is true (the model name the server knows)")
	}
}
