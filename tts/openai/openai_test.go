package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/tts/internal/ttstest"
)

// speechServer answers /v1/audio/speech like an OpenAI-compatible server
// with a 24 kHz WAV tone, 60 ms per input character, in the given mode.
func speechServer(t *testing.T, mode string) *httptest.Server {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/audio/speech" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Model, Input, Voice string
			ResponseFormat      string `json:"response_format"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.ResponseFormat != "wav" || req.Model != "tts-test" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		switch mode {
		case "hang":
			select {
			case <-r.Context().Done():
			case <-done:
			}
			return
		case "garbage":
			w.Write([]byte("this is not audio at all"))
			return
		case "error":
			http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusServiceUnavailable)
			return
		}
		if req.Voice == "nosuch" {
			http.Error(w, `{"error":{"message":"unknown voice"}}`, http.StatusBadRequest)
			return
		}
		n := 24000 * 60 / 1000 * len([]rune(req.Input))
		s := make([]int16, n)
		for i := range s {
			s[i] = int16(6000 * math.Sin(2*math.Pi*300*float64(i)/24000))
		}
		var buf bytes.Buffer
		audio.WriteWAV(&buf, s, 24000)
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(buf.Bytes())
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv
}

func newEngine(t *testing.T, srv *httptest.Server, timeout time.Duration) *Engine {
	e, err := New(WithBaseURL(srv.URL+"/v1"), WithModel("tts-test"), WithVoice("alloy"), WithAPIKey("k"), WithTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestSpeech(t *testing.T) {
	e := newEngine(t, speechServer(t, "ok"), time.Second)
	for _, rate := range []int{8000, 16000, 48000} {
		text := "Здравствуйте. Ваше обращение принято."
		s := ttstest.Render(t, e, tts.Request{Text: text, Lang: "ru", Rate: rate})
		sec := float64(len(s)) / float64(rate)
		if sec < 1.5 || sec > 3 {
			t.Errorf("%d Hz: %.2f s", rate, sec)
		}
	}
	_, err := ttstest.Drain(must(e.Synthesize(context.Background(), tts.Request{Text: "Hi there.", Lang: "en", Voice: "nosuch"})))
	if !errors.Is(err, tts.ErrEngine) {
		t.Errorf("unknown voice: %v", err)
	}
}

func must(s tts.Stream, err error) tts.Stream {
	if err != nil {
		panic(err)
	}
	return s
}

// TestFallback: with the remote engine hanging, broken or answering
// garbage, the embedded engine speaks instead, within the timeout.
func TestFallback(t *testing.T) {
	secondary, err := New(WithBaseURL(speechServer(t, "ok").URL+"/v1"), WithModel("tts-test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"hang", "garbage", "error"} {
		e := newEngine(t, speechServer(t, mode), 300*time.Millisecond)
		f := tts.NewFallback(e, secondary, time.Second, nil)
		start := time.Now()
		st, err := f.Synthesize(context.Background(), tts.Request{Text: "Hello there, caller.", Lang: "en"})
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		n, err := ttstest.Drain(st)
		if err != nil || n == 0 {
			t.Errorf("%s: %d frames, %v", mode, n, err)
		}
		if d := time.Since(start); d > 900*time.Millisecond {
			t.Errorf("%s: fallback took %v", mode, d)
		}
		// Without fallback the error is clear.
		_, err = ttstest.Drain(must(e.Synthesize(context.Background(), tts.Request{Text: "Hello.", Lang: "en"})))
		want := tts.ErrEngine
		if mode == "hang" {
			want = tts.ErrTimeout
		}
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", mode, err, want)
		}
	}
}

func TestCancel(t *testing.T) {
	// No idle keep-alive connections, whose goroutines the leak check
	// would count.
	srv := speechServer(t, "ok")
	e, err := New(WithBaseURL(srv.URL+"/v1"), WithModel("tts-test"),
		WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}))
	if err != nil {
		t.Fatal(err)
	}
	ttstest.CheckCancel(t, e, "en")
}

func TestConfig(t *testing.T) {
	if _, err := New(); err == nil {
		t.Error("no base URL accepted")
	}
}
