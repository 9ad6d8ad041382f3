package config

import (
	"net/url"
	"regexp"
	"strings"
	"time"
)

// TTS configures speech synthesis: the engine per language, each engine's
// settings and the cache of rendered replies.
type TTS struct {
	// Engine is festival, espeak or openai per language. Festival falls
	// back to eSpeak when it is not installed or does not start; openai
	// falls back to the embedded engine per reply.
	Engine   PerLang     `yaml:"engine"`
	Espeak   TTSEspeak   `yaml:"espeak"`
	Festival TTSFestival `yaml:"festival"`
	OpenAI   TTSOpenAI   `yaml:"openai"`
	// CacheMB is the memory for rendered replies; prompts prerendered at
	// start are kept on top of it. Zero keeps only those.
	CacheMB int `yaml:"cache_mb"`
}

// PerLang is one value per language.
type PerLang struct {
	RU string `yaml:"ru"`
	EN string `yaml:"en"`
}

// For returns the value for lang ("ru" or "en"), "" for another language.
func (p PerLang) For(lang string) string {
	switch lang {
	case "ru":
		return p.RU
	case "en":
		return p.EN
	}
	return ""
}

// TTSEspeak is the embedded eSpeak NG engine.
type TTSEspeak struct {
	Rate  int     `yaml:"rate"`  // words per minute, 80..450
	Pitch int     `yaml:"pitch"` // 0..100
	Voice PerLang `yaml:"voice"`
}

// TTSFestival is the Festival server the service starts as a child.
type TTSFestival struct {
	Binary       string        `yaml:"binary"`
	Port         int           `yaml:"port"` // on 127.0.0.1; 0 picks a free port
	Voice        PerLang       `yaml:"voice"`
	StartTimeout time.Duration `yaml:"start_timeout"`
}

// TTSOpenAI is an OpenAI-compatible speech endpoint.
type TTSOpenAI struct {
	BaseURL string        `yaml:"base_url"`
	Model   string        `yaml:"model"`
	Voice   string        `yaml:"voice"`
	APIKey  string        `yaml:"api_key"`
	Timeout time.Duration `yaml:"timeout"` // per sentence
	// FallbackTimeout is how long a reply waits for the endpoint's first
	// audio before the embedded engine speaks it instead.
	FallbackTimeout time.Duration `yaml:"fallback_timeout"`
}

// TTSEngines are the engine names tts.engine accepts.
var TTSEngines = []string{"festival", "espeak", "openai"}

var (
	festivalVoiceRe = regexp.MustCompile(`^[a-z0-9_]+$`)
	espeakVoiceRe   = regexp.MustCompile(`^[A-Za-z0-9_+/-]+$`)
)

func (c *Config) validateTTS(bad func(key, format string, args ...any)) {
	t := c.TTS
	usesOpenAI := false
	for _, lang := range []string{"ru", "en"} {
		switch e := t.Engine.For(lang); e {
		case "festival", "espeak":
		case "openai":
			usesOpenAI = true
		default:
			bad("tts.engine."+lang, "%q is not one of festival, espeak, openai", e)
		}
		if v := t.Espeak.Voice.For(lang); !espeakVoiceRe.MatchString(v) {
			bad("tts.espeak.voice."+lang, "%q is not an eSpeak voice name (for example ru, en-us, en-gb+f3)", v)
		}
		if v := t.Festival.Voice.For(lang); !festivalVoiceRe.MatchString(v) {
			bad("tts.festival.voice."+lang, "%q is not a Festival voice name (for example msu_ru_nsh_clunits)", v)
		}
	}
	if t.Espeak.Rate < 80 || t.Espeak.Rate > 450 {
		bad("tts.espeak.rate", "must be between 80 and 450 words per minute, got %d", t.Espeak.Rate)
	}
	if t.Espeak.Pitch < 0 || t.Espeak.Pitch > 100 {
		bad("tts.espeak.pitch", "must be between 0 and 100, got %d", t.Espeak.Pitch)
	}
	if strings.TrimSpace(t.Festival.Binary) == "" {
		bad("tts.festival.binary", "must name the festival program (festival, or a full path)")
	}
	if t.Festival.Port < 0 || t.Festival.Port > 65535 {
		bad("tts.festival.port", "must be between 0 (a free port) and 65535, got %d", t.Festival.Port)
	}
	if t.Festival.StartTimeout < time.Second || t.Festival.StartTimeout > 5*time.Minute {
		bad("tts.festival.start_timeout", "must be between 1s and 5m, got %s", t.Festival.StartTimeout)
	}
	o := t.OpenAI
	if o.BaseURL != "" || usesOpenAI {
		if u, err := url.Parse(o.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("tts.openai.base_url", "%q is not an http(s) URL (for example https://api.openai.com/v1); required when tts.engine names openai", o.BaseURL)
		}
	}
	if usesOpenAI && (strings.TrimSpace(o.Model) == "" || strings.TrimSpace(o.Voice) == "") {
		bad("tts.openai", "model and voice must be set when tts.engine names openai")
	}
	if o.Timeout <= 0 || o.Timeout > time.Minute {
		bad("tts.openai.timeout", "must be between 0 and 1m, got %s", o.Timeout)
	}
	if o.FallbackTimeout <= 0 || o.FallbackTimeout > o.Timeout {
		bad("tts.openai.fallback_timeout", "must be positive and at most tts.openai.timeout (%s), got %s", o.Timeout, o.FallbackTimeout)
	}
	if t.CacheMB < 0 || t.CacheMB > 4096 {
		bad("tts.cache_mb", "must be between 0 and 4096, got %d", t.CacheMB)
	}
}
