package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTTSDefaults(t *testing.T) {
	tt := Default().TTS
	want := TTS{
		Engine: PerLang{RU: "festival", EN: "festival"},
		Espeak: TTSEspeak{Rate: 165, Pitch: 50, Voice: PerLang{RU: "ru", EN: "en-us"}},
		Festival: TTSFestival{Binary: "festival", Voice: PerLang{RU: "msu_ru_nsh_clunits", EN: "cmu_us_slt_arctic_hts"},
			StartTimeout: 30 * time.Second},
		OpenAI:  TTSOpenAI{Model: "tts-1", Voice: "alloy", Timeout: 5 * time.Second, FallbackTimeout: 2 * time.Second},
		CacheMB: 64,
	}
	if tt != want {
		t.Errorf("tts defaults = %+v\nwant %+v", tt, want)
	}
	if tt.Engine.For("en") != "festival" || tt.Espeak.Voice.For("en") != "en-us" || tt.Engine.For("de") != "" {
		t.Error("PerLang.For")
	}
}

func TestTTSFileAndEnv(t *testing.T) {
	p := writeFile(t, "tts:\n  engine:\n    en: openai\n  openai:\n    base_url: http://127.0.0.1:8000/v1\n  festival:\n    voice:\n      en: kal_diphone\n")
	c, err := Load(p, []string{"HOTLINE_TTS_ENGINE_RU=espeak", "HOTLINE_TTS_ESPEAK_RATE=180",
		"HOTLINE_TTS_ESPEAK_VOICE_EN=en-gb+f3", "HOTLINE_TTS_OPENAI_API_KEY=sk-test", "HOTLINE_TTS_CACHE_MB=0"})
	if err != nil {
		t.Fatal(err)
	}
	tt := c.TTS
	if tt.Engine != (PerLang{RU: "espeak", EN: "openai"}) || tt.Espeak.Rate != 180 || tt.Espeak.Voice.EN != "en-gb+f3" ||
		tt.Festival.Voice.EN != "kal_diphone" || tt.Festival.Voice.RU != "msu_ru_nsh_clunits" ||
		tt.OpenAI.APIKey != "sk-test" || tt.OpenAI.BaseURL != "http://127.0.0.1:8000/v1" || tt.CacheMB != 0 {
		t.Errorf("tts = %+v", tt)
	}
}

func TestTTSInvalid(t *testing.T) {
	tests := []struct {
		name, file string
		env        []string
		wantMsg    string
	}{
		{"engine", "", []string{"HOTLINE_TTS_ENGINE_RU=sapi"}, `tts.engine.ru: "sapi" is not one of festival, espeak, openai`},
		{"openai without url", "", []string{"HOTLINE_TTS_ENGINE_EN=openai"}, "tts.openai.base_url"},
		{"openai bad url", "", []string{"HOTLINE_TTS_OPENAI_BASE_URL=api.openai.com"}, `tts.openai.base_url: "api.openai.com" is not an http(s) URL`},
		{"openai no model", "tts:\n  engine:\n    ru: openai\n  openai:\n    base_url: https://api.example/v1\n    model: \"\"\n", nil, "tts.openai: model and voice"},
		{"fallback over timeout", "tts:\n  openai:\n    timeout: 1s\n    fallback_timeout: 3s\n", nil, "tts.openai.fallback_timeout"},
		{"timeout", "", []string{"HOTLINE_TTS_OPENAI_TIMEOUT=0s"}, "tts.openai.timeout"},
		{"rate", "", []string{"HOTLINE_TTS_ESPEAK_RATE=20"}, "tts.espeak.rate: must be between 80 and 450"},
		{"pitch", "tts:\n  espeak:\n    pitch: 101\n", nil, "tts.espeak.pitch"},
		{"espeak voice", "", []string{"HOTLINE_TTS_ESPEAK_VOICE_RU=ru ru"}, "tts.espeak.voice.ru"},
		{"festival voice", "", []string{"HOTLINE_TTS_FESTIVAL_VOICE_EN=(voice_x)"}, "tts.festival.voice.en"},
		{"festival binary", "tts:\n  festival:\n    binary: \"\"\n", nil, "tts.festival.binary"},
		{"festival port", "", []string{"HOTLINE_TTS_FESTIVAL_PORT=70000"}, "tts.festival.port"},
		{"start timeout", "", []string{"HOTLINE_TTS_FESTIVAL_START_TIMEOUT=10ms"}, "tts.festival.start_timeout: must be between 1s and 5m"},
		{"cache", "", []string{"HOTLINE_TTS_CACHE_MB=-1"}, "tts.cache_mb"},
		{"unknown key", "tts:\n  engine:\n    de: espeak\n", nil, `unknown key "de"`},
		{"unknown env", "", []string{"HOTLINE_TTS_ENGINE_DE=espeak"}, "HOTLINE_TTS_ENGINE_DE does not name a setting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tt.file), tt.env)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("message %q does not mention %q", err, tt.wantMsg)
			}
		})
	}
}
