package main

import (
	"archive/zip"
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotline-ivr/hotline/asr/vosk"
)

func TestModelsList(t *testing.T) {
	stdout, _, err := runCLI(t, []string{"HOTLINE_DATA_DIR=" + t.TempDir()}, "models", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"vosk   ru", "vosk   en", "NOT INSTALLED", "models pull ru", "sphinx en"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, stdout)
		}
	}
}

func TestModelsPull(t *testing.T) {
	name := vosk.Archives["ru"].Name
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range []string{"am/final.mdl", "conf/model.conf", "conf/mfcc.conf", "graph/HCLG.fst"} {
		w, _ := zw.Create(name + "/" + f)
		w.Write([]byte("x"))
	}
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/m/"+name+".zip" {
			w.Write(buf.Bytes())
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()

	data := t.TempDir()
	env := []string{"HOTLINE_DATA_DIR=" + data}
	stdout, _, err := runCLI(t, env, "models", "pull", "ru", "--base-url", srv.URL+"/m/")
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(data, "models", name)
	if !strings.Contains(stdout, "installed in "+want) || vosk.CheckModel(want) != nil {
		t.Errorf("pull output:\n%s", stdout)
	}
	stdout, _, _ = runCLI(t, env, "models", "list")
	if !strings.Contains(stdout, want+"  installed") {
		t.Errorf("list after pull:\n%s", stdout)
	}

	// Offline: a quick, plain error saying where to put the model.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	_, _, err = runCLI(t, env, "models", "pull", "en", "--dir", dir, "--base-url", "http://"+addr+"/")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, vosk.Archives["en"].Name, "am", "final.mdl")) ||
		!strings.Contains(err.Error(), vosk.Archives["en"].SHA256) {
		t.Errorf("offline pull: %v", err)
	}

	if _, _, err := runCLI(t, env, "models", "pull", "de"); exitCode(err) != 2 {
		t.Errorf("pull de: %v", err)
	}
	if _, _, err := runCLI(t, env, "models"); exitCode(err) != 2 {
		t.Errorf("models: %v", err)
	}
}
