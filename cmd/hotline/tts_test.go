package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/config"
	"github.com/hotline-ivr/hotline/knowledge"
	"github.com/hotline-ivr/hotline/store"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/web"
)

// espeakConfig is the tts config with eSpeak for both languages: the
// fastest engine, for tests that are not about the engine.
func espeakConfig() config.TTS {
	c := config.Default().TTS
	c.Engine = config.PerLang{RU: "espeak", EN: "espeak"}
	return c
}

func TestOpenSpeechFallsBackToESpeak(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default().TTS
	cfg.Festival.Binary = filepath.Join(t.TempDir(), "no-festival")
	sp, err := openSpeech(cfg, speechOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	for _, lang := range []string{"ru", "en"} {
		if e := sp.Engines[lang]; !strings.HasPrefix(e, "espeak (festival: ") {
			t.Errorf("%s speaks with %q, want eSpeak because Festival is missing", lang, e)
		}
	}
	if err := sp.Check(ctx); err != nil {
		t.Errorf("readiness: %v", err)
	}
	st, err := sp.Cache.Synthesize(ctx, tts.Request{Text: "Здравствуйте.", Lang: "ru"})
	if err != nil {
		t.Fatal(err)
	}
	if s, _, err := tts.ReadAll(st); err != nil || len(s) < audio.Rate8k/2 {
		t.Errorf("%d samples, %v", len(s), err)
	}

	// Asked for by name, Festival must start.
	if _, err := openSpeech(cfg, speechOptions{Engine: "festival"}, nil); err == nil {
		t.Error("--engine festival without Festival succeeded")
	}
	if _, err := openSpeech(cfg, speechOptions{Engine: "sapi"}, nil); !errors.Is(err, errUsage) {
		t.Errorf("unknown engine: %v, want a usage error", err)
	}
}

// TestOpenSpeechEndpointFallsBack: with an endpoint that does not answer,
// eSpeak speaks after tts.openai.fallback_timeout.
func TestOpenSpeechEndpointFallsBack(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := espeakConfig()
	cfg.Engine.EN = "openai"
	cfg.OpenAI.BaseURL = "http://" + ln.Addr().String() + "/v1"
	cfg.OpenAI.FallbackTimeout = 200 * time.Millisecond
	sp, err := openSpeech(cfg, speechOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if sp.Engines["en"] != "openai, espeak stands in" || sp.Engines["ru"] != "espeak" {
		t.Errorf("engines = %v", sp.Engines)
	}
	start := time.Now()
	st, err := sp.Synth.Synthesize(context.Background(), tts.Request{Text: "Hello there.", Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := tts.ReadAll(st)
	if err != nil || len(s) < audio.Rate8k/2 {
		t.Errorf("%d samples, %v", len(s), err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the stand-in took %v", d)
	}
	if err := sp.Check(context.Background()); err != nil {
		t.Errorf("readiness with a dead endpoint: %v", err)
	}
}

// TestArticleChangeDropsItsSpeech wires the knowledge base as serve does
// and checks that editing an article drops its cached render.
func TestArticleChangeDropsItsSpeech(t *testing.T) {
	ctx := context.Background()
	sp, err := openSpeech(espeakConfig(), speechOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "hotline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := config.Default()
	cfg.DataDir = dir
	kb, _, err := mountKnowledge(ctx, cfg, db, web.New(), sp.Cache, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer kb.Close()
	items, _, err := kb.List(ctx, knowledge.ListFilter{Lang: "ru", Status: knowledge.StatusPublished, Limit: 2})
	if err != nil || len(items) < 2 {
		t.Fatalf("seeded articles: %v %v", items, err)
	}
	speak := func(a knowledge.Article) {
		t.Helper()
		st, err := sp.Cache.Synthesize(ctx, tts.Request{Text: a.Spoken, Lang: a.Lang, Source: a.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := tts.ReadAll(st); err != nil {
			t.Fatal(err)
		}
	}
	a, other := items[0], items[1]
	speak(a)
	speak(other)
	speak(a)
	if s := sp.Cache.Stats(); s.Hits != 1 || s.Misses != 2 || s.Entries != 2 {
		t.Fatalf("cache before the edit: %+v", s)
	}
	a.Title += " (изменено)"
	if _, err := kb.Update(ctx, a, a.Version, "editor"); err != nil {
		t.Fatal(err)
	}
	if s := sp.Cache.Stats(); s.Entries != 1 {
		t.Errorf("after editing %s the cache holds %d renders, want only the other article's", a.ID, s.Entries)
	}
	speak(a)
	speak(other)
	if s := sp.Cache.Stats(); s.Misses != 3 || s.Hits != 2 {
		t.Errorf("after the edit: %+v, want a miss for the edited article and a hit for the other", s)
	}
}

// TestServeSpeaks: the served service is ready to speak, prerenders the
// prompts and speaks for the editor's play button.
func TestServeSpeaks(t *testing.T) {
	dir := t.TempDir()
	base, logs := startServe(t, "--data", dir) // eSpeak: see startServe
	code, body := getJSON(t, base+"/readyz")
	if checks, _ := body["checks"].(map[string]any); code != 200 || checks["tts"] != "ok" {
		t.Errorf("/readyz = %d %v", code, body)
	}
	waitForLog(t, logs, `"msg":"prompts prerendered"`)
	if !strings.Contains(logs.String(), `"msg":"speech synthesis ready","component":"tts","ru":"espeak","en":"espeak"`) {
		t.Errorf("the log does not say which engine speaks each language:\n%s", logs)
	}

	c := loginAdmin(t, base, dir)
	resp := c.post(t, "/api/v1/kb/speak", `{"text":"Линия работает круглосуточно.","lang":"ru"}`)
	wav, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	samples, info, err := audio.ReadWAV(bytes.NewReader(wav))
	if resp.StatusCode != 200 || err != nil || info.Rate != audio.Rate16k || len(samples) < info.Rate {
		t.Errorf("speak = %d, %d samples at %d Hz, %v", resp.StatusCode, len(samples), info.Rate, err)
	}
}

// TestServeSpeaksWithFestival: with the default config the service starts
// Festival, reports it, and stops it on shutdown, also in the middle of
// the prerender.
func TestServeSpeaksWithFestival(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Festival")
	}
	addr := freeAddr(t)
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: logs, environ: []string{"HOTLINE_LOG_FORMAT=json"}}
	done := make(chan error, 1)
	go func() { done <- run(ctx, c, []string{"serve", "--http", addr, "--data", t.TempDir()}) }()
	waitForLog(t, logs, `"msg":"hotline started"`)
	if !strings.Contains(logs.String(), `"ru":"festival, espeak stands in","en":"festival, espeak stands in"`) {
		t.Fatalf("Festival is not speaking (make setup installs it):\n%s", logs)
	}
	code, body := getJSON(t, "http://"+addr+"/readyz")
	if checks, _ := body["checks"].(map[string]any); code != 200 || checks["tts"] != "ok" {
		t.Errorf("/readyz = %d %v", code, body)
	}
	m := regexp.MustCompile(`"msg":"festival server started".*?"pid":(\d+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no festival pid in the log:\n%s", logs)
	}
	pid, _ := strconv.Atoi(m[1])
	cancel() // the prerender takes tens of seconds: this stops it midway
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("the festival server (pid %d) outlived serve: %v", pid, err)
	}
}

func waitForLog(t *testing.T, logs *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s in the log:\n%s", want, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// session is a logged-in browser: cookie and CSRF token.
type session struct {
	base string
	hc   *http.Client
	csrf string
}

func loginAdmin(t *testing.T, base, dataDir string) *session {
	t.Helper()
	pw, err := os.ReadFile(filepath.Join(dataDir, "initial-admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	s := &session{base: base, hc: &http.Client{Jar: jar}}
	body, _ := json.Marshal(map[string]string{"username": "admin", "password": strings.TrimSpace(string(pw))})
	resp := s.post(t, "/api/v1/auth/login", string(body))
	defer resp.Body.Close()
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.CSRF == "" {
		t.Fatalf("login: %d %v", resp.StatusCode, err)
	}
	s.csrf = out.CSRF
	return s
}

func (s *session) post(t *testing.T, path, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", s.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if s.csrf != "" {
		req.Header.Set("X-Hotline-CSRF", s.csrf)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
