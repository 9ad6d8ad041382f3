package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/browsertest"
)

func post(t *testing.T, url, ctype, auth, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// TestServeWebRTCTokens: visitors get call tokens (anonymous subject),
// at most webrtc.anonymous_per_minute a minute; the page is served with
// the strict policy; a bad token cannot place a call; the token secret
// is generated into the data directory.
func TestServeWebRTCTokens(t *testing.T) {
	dir := t.TempDir()
	base, logs := startServeEnv(t, []string{"HOTLINE_WEBRTC_ANONYMOUS_PER_MINUTE=2"}, "--data", dir)
	for i := range 2 {
		resp, body := post(t, base+"/api/v1/calls/token", "", "", "")
		var tok struct {
			Token string `json:"token"`
		}
		if resp.StatusCode != http.StatusCreated || json.Unmarshal([]byte(body), &tok) != nil || tok.Token == "" {
			t.Fatalf("token %d: %s %s\n%s", i, resp.Status, body, logs)
		}
	}
	if resp, body := post(t, base+"/api/v1/calls/token", "", "", ""); resp.StatusCode != http.StatusTooManyRequests ||
		resp.Header.Get("Retry-After") == "" {
		t.Errorf("third token in a minute: %s %s, want 429 with Retry-After", resp.Status, body)
	}
	if resp, body := post(t, base+"/api/v1/calls", "application/sdp", "hct1.forged.token", "v=0\r\n"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("offer with a forged token: %s %s, want 401", resp.Status, body)
	}
	resp, err := http.Get(base + "/call/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "connect-src 'self'") ||
		!strings.Contains(string(page), "Start call") {
		t.Errorf("/call/: %s, CSP %q", resp.Status, resp.Header.Get("Content-Security-Policy"))
	}
	if fi, err := os.Stat(filepath.Join(dir, webrtcTokenKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token key file: %v %v", fi, err)
	}
}

// writeCallerWAV renders the caller's question with Festival (the voice
// PocketSphinx recognises best) at 48 kHz between pauses, as the fake
// microphone's file: Chromium loops it.
func writeCallerWAV(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	speech := filepath.Join(dir, "speech.wav")
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, environ: nil}
	if err := run(context.Background(), c, []string{"say", "--lang", "en", "--engine", "festival", "--rate", "48000", "-o", speech, text}); err != nil {
		t.Skipf("festival not available to render the caller: %v", err)
	}
	pcm, info, err := audio.ReadWAVFile(speech)
	if err != nil {
		t.Fatal(err)
	}
	rate := info.Rate
	pad := make([]int16, rate*4)
	out := append(append(append([]int16{}, pad...), pcm...), pad...)
	path := filepath.Join(dir, "question.wav")
	if err := audio.WriteWAVFile(path, out, rate); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCallPageInChromium places a call from the /call/ page in headless
// Chromium with a fake microphone playing an English question: English
// is chosen with the language button, the live transcript shows the
// question, the answer arrives as text and as audio. An expired call
// token shows a clear error.
func TestCallPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	wav := writeCallerWAV(t, "What are the operator hours?")
	browser := mediaBrowser(t, browsertest.WithFlag("use-file-for-fake-audio-capture", wav))
	base, logs := startServeEnv(t, []string{"HOTLINE_WEBRTC_TOKEN_TTL=10s"})
	ctx, _ := browser.NewProfile(t)
	// Chromium treats 127.0.0.1 as a secure context: getUserMedia works.
	until := func(name, cond string, timeout time.Duration) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+cond+")",
			chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('status').textContent + ' | ' +
				document.getElementById('error').textContent + ' | ' + document.getElementById('transcript').innerText`))
			t.Fatalf("%s: %v\npage: %s\nserver log:\n%s", name, err, state, logs)
		}
	}
	js := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/call/"), chromedp.WaitVisible(chromedp.ID("start"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("start"))); err != nil {
		t.Fatal(err)
	}
	until("the greeting arrives as text", `document.querySelector('#transcript li.bot')`, 30*time.Second)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#langs button[data-digit="2"]`))); err != nil {
		t.Fatal(err)
	}
	until("the question in the live transcript",
		`[...document.querySelectorAll('#transcript li.caller')].some(li => /operator|hours/i.test(li.textContent))`, 90*time.Second)
	until("the answer as text",
		`[...document.querySelectorAll('#transcript li.bot')].some(li => /operators work/i.test(li.textContent))`, 60*time.Second)
	until("the answer panel", `/operators work/i.test(document.getElementById('answer').textContent)`, 5*time.Second)
	until("the microphone level moves", `Number(document.getElementById('level').value) > 0`, 10*time.Second)
	// The bot's audio plays: the remote stream's element advances and
	// its level is above silence.
	got := js(remoteAudioJS("remote", 40))
	{
		var adv, peak float64
		if _, err := fmt.Sscan(got, &adv, &peak); err != nil || adv < 2 || peak <= 0.001 {
			t.Errorf("remote audio: currentTime advanced %v s, peak %v (%q): want playing audio", adv, peak, got)
		}
		t.Logf("remote audio: advanced %.2f s, peak %.4f", adv, peak)
	}
	t.Logf("transcript:\n%s", js(`document.getElementById('transcript').innerText`))
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("stop"))); err != nil {
		t.Fatal(err)
	}
	until("hung up", `document.getElementById('start').disabled === false`, 5*time.Second)

	// An expired token (the app's backend handed it over in the link).
	resp, body := post(t, base+"/api/v1/calls/token", "", "", "")
	var tok struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal([]byte(body), &tok) != nil {
		t.Fatalf("token: %s %s", resp.Status, body)
	}
	time.Sleep(11 * time.Second)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/call/#token="+tok.Token), chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("start")), chromedp.Click(chromedp.ID("start"))); err != nil {
		t.Fatal(err)
	}
	until("the expired token is explained", `/expired/i.test(document.getElementById('error').textContent) && !document.getElementById('error').hidden`, 15*time.Second)
	t.Logf("error shown: %s", js(`document.getElementById('error').textContent`))
}
