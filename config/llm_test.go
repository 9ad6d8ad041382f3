package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLLMOffByDefault(t *testing.T) {
	c := Default()
	l := c.LLM
	if l.Enabled || l.PhraseAnswers || l.BaseURL != "" || l.Model != "" || l.APIKey != "" {
		t.Errorf("llm defaults = %+v, want off and unconfigured", l)
	}
	if l.Timeout != 1500*time.Millisecond || l.MinConfidence != 0.5 || l.BreakerFailures != 3 || l.BreakerCooldown != 30*time.Second {
		t.Errorf("llm defaults = %+v", l)
	}
}

func TestLLMFileAndEnv(t *testing.T) {
	p := writeFile(t, "llm:\n  enabled: true\n  base_url: http://127.0.0.1:11434/v1\n  model: qwen2.5:3b\n  phrase_answers: true\n")
	c, err := Load(p, []string{"HOTLINE_LLM_API_KEY=sk-local", "HOTLINE_LLM_TIMEOUT=800ms", "HOTLINE_LLM_MIN_CONFIDENCE=0.7"})
	if err != nil {
		t.Fatal(err)
	}
	l := c.LLM
	if !l.Enabled || !l.PhraseAnswers || l.BaseURL != "http://127.0.0.1:11434/v1" || l.Model != "qwen2.5:3b" {
		t.Errorf("file not applied: %+v", l)
	}
	if l.APIKey != "sk-local" || l.Timeout != 800*time.Millisecond || l.MinConfidence != 0.7 {
		t.Errorf("env not applied: %+v", l)
	}
	// Switched off, the endpoint need not be valid.
	if _, err := Load(writeFile(t, "llm:\n  base_url: nonsense\n"), nil); err != nil {
		t.Errorf("disabled llm with a bad url: %v", err)
	}
}

func TestLLMInvalid(t *testing.T) {
	tests := []struct {
		name, file string
		env        []string
		want       []string
	}{
		{"enabled without endpoint", "llm:\n  enabled: true\n", nil,
			[]string{"llm.base_url: must be set when llm.enabled is true", "llm.model: must be set"}},
		{"not http", "llm:\n  enabled: true\n  base_url: ftp://host/v1\n  model: m\n", nil, []string{`llm.base_url: "ftp://host/v1" is not an http(s) URL`}},
		{"no host", "llm:\n  enabled: true\n  base_url: localhost:11434\n  model: m\n", nil, []string{"llm.base_url", "is not an http(s) URL"}},
		{"credentials in url", "llm:\n  enabled: true\n  base_url: http://u:p@host/v1\n  model: m\n", nil, []string{"llm.base_url: must not carry credentials"}},
		{"env enables", "", []string{"HOTLINE_LLM_ENABLED=true", "HOTLINE_LLM_BASE_URL=http://h/v1"}, []string{"llm.model"}},
		{"timeout", "llm:\n  timeout: 10ms\n", nil, []string{"llm.timeout: must be between 100ms and 1m"}},
		{"confidence", "llm:\n  min_confidence: 1.5\n", nil, []string{"llm.min_confidence"}},
		{"breaker", "llm:\n  breaker_failures: 0\n  breaker_cooldown: 0s\n", nil, []string{"llm.breaker_failures", "llm.breaker_cooldown"}},
		{"unknown key", "llm:\n  url: http://h/v1\n", nil, []string{`unknown key "url" in section LLM`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tt.file), tt.env)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not mention %q", err, w)
				}
			}
		})
	}
}
