package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotline-ivr/hotline/appeal"
)

func TestKeyFileIsCreatedOnceAndReused(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	path := filepath.Join(t.TempDir(), "appeals.key")
	key, err := keyFile(path, "test key", log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := appeal.ParseKey(key); err != nil {
		t.Fatalf("generated key does not parse: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(logs.String(), path) || strings.Contains(logs.String(), key) {
		t.Errorf("the log must name the file and never the key: %s", logs.String())
	}
	again, err := keyFile(path, "test key", log)
	if err != nil || again != key {
		t.Errorf("second start: key changed or failed (%v)", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".key-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	if err := os.WriteFile(path, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := keyFile(path, "test key", log); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a damaged key file must fail naming the file, got %v", err)
	}
}

func TestServeStartsAppealsWithGeneratedKeys(t *testing.T) {
	dir := t.TempDir()
	base, logs := startServe(t, "--data", dir)
	for _, name := range []string{encryptionKeyFile, lookupKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s not created: %v", name, err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", name, fi.Mode().Perm())
		}
		key, _ := os.ReadFile(filepath.Join(dir, name))
		if strings.Contains(logs.String(), strings.TrimSpace(string(key))) {
			t.Errorf("the log shows the key of %s", name)
		}
	}
	if !strings.Contains(logs.String(), filepath.Join(dir, encryptionKeyFile)) {
		t.Errorf("the log does not say where the key is:\n%s", logs)
	}
	code, body := getJSON(t, base+"/readyz")
	if checks, _ := body["checks"].(map[string]any); code != 200 || checks["appeals"] != "ok" {
		t.Errorf("/readyz = %d %v", code, body)
	}
	resp, err := http.Get(base + "/desk/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("/desk/ = %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	// The desk API is behind a login.
	resp, err = http.Get(base + "/api/v1/queues")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/queues without a session = %d, want 401", resp.StatusCode)
	}
}
