package kbapi

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/tts/espeak"
)

// newSpeaker is a real synthesizer: eSpeak, the fastest engine, cached as
// the service caches.
func newSpeaker(t *testing.T) *tts.Cache {
	t.Helper()
	e, err := espeak.New()
	if err != nil {
		t.Skipf("eSpeak NG is not available: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return tts.NewCache(e, tts.WithCacheName("espeak"))
}

func TestSpeakNeedsASpeaker(t *testing.T) {
	e := newEnv(t)
	c := e.login("olga")
	c.do("GET", "/api/v1/kb/speak", nil).must(t, http.StatusNotFound)
	c.do("POST", "/api/v1/kb/speak", map[string]any{"text": "Hello.", "lang": "en"}).must(t, http.StatusNotFound)
}

func TestSpeakReturnsWAV(t *testing.T) {
	speaker := newSpeaker(t)
	e := newEnvWith(t, []Option{WithSpeaker(speaker)})
	c := e.login("olga")
	info := c.do("GET", "/api/v1/kb/speak", nil).must(t, http.StatusOK)
	if info.json["available"] != true || info.num("max_chars") != tts.MaxTextLen || info.num("rate") != 16000 {
		t.Errorf("speak info = %s", info.raw)
	}

	for _, tc := range []struct {
		body     map[string]any
		rate     int
		min, max time.Duration
	}{
		{map[string]any{"text": "Паспорт меняют в МФЦ за 10 дней.", "lang": "ru", "id": "passport"}, 16000, time.Second, 8 * time.Second},
		{map[string]any{"text": "Call 8-800-555-35-35 any time.", "lang": "en", "rate": 8000}, 8000, 2 * time.Second, 12 * time.Second},
	} {
		start := time.Now()
		r := c.do("POST", "/api/v1/kb/speak", tc.body).must(t, http.StatusOK)
		first := time.Since(start)
		if ct := r.header.Get("Content-Type"); ct != "audio/wav" {
			t.Errorf("content type %q", ct)
		}
		samples, wav, err := audio.ReadWAV(bytes.NewReader(r.raw))
		if err != nil {
			t.Fatalf("%v: not a WAV file: %v", tc.body, err)
		}
		d := time.Duration(len(samples)) * time.Second / time.Duration(wav.Rate)
		if wav.Rate != tc.rate || d < tc.min || d > tc.max {
			t.Errorf("%v: %v at %d Hz, want %v..%v at %d Hz", tc.body, d, wav.Rate, tc.min, tc.max, tc.rate)
		}
		if lvl := audio.RMSdBFS(samples); lvl < -35 {
			t.Errorf("%v: level %.1f dBFS, too quiet for speech", tc.body, lvl)
		}
		// Playing it again comes from the cache.
		hits := speaker.Stats().Hits
		start = time.Now()
		again := c.do("POST", "/api/v1/kb/speak", tc.body).must(t, http.StatusOK)
		if !bytes.Equal(again.raw, r.raw) || speaker.Stats().Hits != hits+1 {
			t.Errorf("%v: the second play was not the cached render", tc.body)
		}
		t.Logf("%v: %v of audio, first play %v, again %v", tc.body["lang"], d, first, time.Since(start))
	}
	if speaker.Stats().Entries != 2 {
		t.Errorf("cache entries = %d", speaker.Stats().Entries)
	}
	speaker.InvalidateSource("passport") // what an edit of the article does
	if speaker.Stats().Entries != 1 {
		t.Errorf("the article's render was not dropped: %d entries", speaker.Stats().Entries)
	}
}

func TestSpeakBadInput(t *testing.T) {
	e := newEnvWith(t, []Option{WithSpeaker(newSpeaker(t))})
	anon := e.client()
	anon.do("POST", "/api/v1/kb/speak", map[string]any{"text": "Hello.", "lang": "en"}).must(t, http.StatusUnauthorized)
	agent := e.login("anna")
	agent.do("POST", "/api/v1/kb/speak", map[string]any{"text": "Hello.", "lang": "en"}).must(t, http.StatusForbidden)

	c := e.login("olga")
	for _, tc := range []struct {
		name string
		body any
		want int
	}{
		{"unknown language", map[string]any{"text": "Hallo.", "lang": "de"}, http.StatusBadRequest},
		{"no language", map[string]any{"text": "Hallo."}, http.StatusBadRequest},
		{"empty text", map[string]any{"text": "  ", "lang": "ru"}, http.StatusBadRequest},
		{"nothing speakable", map[string]any{"text": "🙂🙂", "lang": "ru"}, http.StatusBadRequest},
		{"bad rate", map[string]any{"text": "Hello.", "lang": "en", "rate": 44100}, http.StatusBadRequest},
		{"text too long", map[string]any{"text": strings.Repeat("а", tts.MaxTextLen+1), "lang": "ru"}, http.StatusRequestEntityTooLarge},
		{"body too large", map[string]any{"text": strings.Repeat("a", maxSpeakBody), "lang": "en"}, http.StatusRequestEntityTooLarge},
		{"not JSON", []byte(`{"text": "Hello.", "lang": "en"}`), http.StatusUnsupportedMediaType}, // no JSON content type
		{"wrong type", map[string]any{"text": 5, "lang": "en"}, http.StatusBadRequest},
	} {
		r := c.do("POST", "/api/v1/kb/speak", tc.body)
		if r.code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, r.code, r.raw, tc.want)
		}
		if r.code >= 400 && r.str("title") == "" {
			t.Errorf("%s: no problem body: %s", tc.name, r.raw)
		}
	}
}
