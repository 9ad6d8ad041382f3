package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer collects a command's log output while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `hotline serve` in-process and waits until it answers.
func startServe(t *testing.T, args ...string) (base string, logs *syncBuffer) {
	t.Helper()
	return startServeEnv(t, nil, args...)
}

// startServeEnv is startServe with more environment (later entries win).
func startServeEnv(t *testing.T, env []string, args ...string) (base string, logs *syncBuffer) {
	t.Helper()
	addr := freeAddr(t)
	logs = &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	// eSpeak speaks: starting Festival and prerendering the prompts with it
	// costs a core for half a minute (TestServeSpeaksWithFestival covers it).
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: logs,
		environ: []string{"HOTLINE_LOG_FORMAT=json", "HOTLINE_TTS_ENGINE_RU=espeak", "HOTLINE_TTS_ENGINE_EN=espeak"}}
	c.environ = append(c.environ, env...)
	if !slices.Contains(args, "--sip") {
		// Phone calls off unless the test asks: parallel tests (and a
		// developer's running hotline) cannot all bind :5060.
		args = append(args, "--sip", "")
	}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, c, append([]string{"serve", "--http", addr, "--data", t.TempDir()}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop after cancel")
		}
	})
	base = "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\n%s", err, logs)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return base, logs
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("serve did not answer on %s\n%s", addr, logs)
	return "", nil
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s: body is not JSON: %v", url, err)
	}
	return resp.StatusCode, body
}

func TestServeAnswersProbesAndMetrics(t *testing.T) {
	base, logs := startServe(t)

	if code, body := getJSON(t, base+"/healthz"); code != 200 || body["status"] != "ok" {
		t.Errorf("/healthz = %d %v", code, body)
	}
	if code, body := getJSON(t, base+"/readyz"); code != 200 || body["status"] != "ready" {
		t.Errorf("/readyz = %d %v", code, body)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"hotline_http_requests_total", "go_goroutines", "process_resident_memory_bytes"} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if code, body := getJSON(t, base+"/no/such/page"); code != 404 || body["title"] != "Not found" {
		t.Errorf("unknown route = %d %v", code, body)
	}
	if !strings.Contains(logs.String(), `"msg":"hotline started"`) {
		t.Errorf("no structured start line in logs:\n%s", logs)
	}
}

func TestServeRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("http:\n  addr: :8080\n  port: 80\n"), 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown key", []string{"serve", "--config", bad}, `unknown key "port"`},
		{"missing file", []string{"serve", "--config", filepath.Join(dir, "none.yaml")}, "no such file"},
		{"bad flag value", []string{"serve", "--http", "nohost"}, "http.addr"},
		{"unknown flag", []string{"serve", "--htp", ":1"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), &cli{stdout: io.Discard, stderr: &stderr}, tt.args)
			if err == nil {
				t.Fatal("serve accepted a bad configuration")
			}
			if !strings.Contains(err.Error()+stderr.String(), tt.want) {
				t.Errorf("error %q (stderr %q) does not say %q", err, stderr.String(), tt.want)
			}
		})
	}
}

func TestUnknownCommandIsAUsageError(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), &cli{stdout: io.Discard, stderr: &stderr}, []string{"frobnicate"})
	if !errors.Is(err, errUsage) || exitCode(err) != 2 {
		t.Errorf("err = %v (exit %d), want usage error with exit 2", err, exitCode(err))
	}
	if !strings.Contains(stderr.String(), "transcribe") {
		t.Errorf("usage does not list the commands: %s", stderr.String())
	}
}
