package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/speechdata"
)

func runCLI(t *testing.T, environ []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, environ: environ}
	err = run(context.Background(), c, args)
	return out.String(), errOut.String(), err
}

func TestTranscribeSphinx(t *testing.T) {
	us, _, err := speechdata.Corpus("en")
	if err != nil {
		t.Skip(err)
	}
	us = us[:3]
	dir := t.TempDir()
	// Bad files among good ones: each reported, the rest still done.
	notWAV := filepath.Join(dir, "notes.wav")
	os.WriteFile(notWAV, []byte("this is not audio"), 0o644)
	empty := filepath.Join(dir, "empty.wav")
	os.WriteFile(empty, nil, 0o644)
	odd := filepath.Join(dir, "cd.wav")
	if err := audio.WriteWAVFile(odd, make([]int16, 22050), 22050); err != nil {
		t.Fatal(err)
	}
	silent := filepath.Join(dir, "silent.wav")
	audio.WriteWAVFile(silent, make([]int16, 8000*3), 8000)

	args := []string{"transcribe", "--engine", "sphinx"}
	for _, u := range us {
		args = append(args, u.Path)
	}
	args = append(args, notWAV, empty, odd, silent, filepath.Join(dir, "missing.wav"))
	stdout, stderr, err := runCLI(t, nil, args...)
	if err == nil || !strings.Contains(err.Error(), "4 of 8 files failed") {
		t.Errorf("err %v, want 4 of 8 failed", err)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("stdout:\n%s", stdout)
	}
	for i, u := range us {
		path, text, ok := strings.Cut(lines[i], "\t")
		if !ok || path != u.Path || text == "" {
			t.Errorf("line %q for %s", lines[i], u.Path)
		}
	}
	if lines[3] != silent+"\t" {
		t.Errorf("silent file: %q, want an empty text", lines[3])
	}
	for _, want := range []string{notWAV + ": audio: not a WAV", empty, "22050 Hz", "missing.wav"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestTranscribeJSON(t *testing.T) {
	us, _, err := speechdata.Corpus("en")
	if err != nil {
		t.Skip(err)
	}
	stdout, _, err := runCLI(t, nil, "transcribe", "--engine", "sphinx", "--lang", "en", "--json", "--alternatives", "2", us[2].Path)
	if err != nil {
		t.Fatal(err)
	}
	var got fileResult
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if got.File != us[2].Path || got.Text == "" || got.Rate != 16000 || got.Duration <= 0 || len(got.Segments) == 0 || len(got.Partials) == 0 {
		t.Fatalf("json %+v", got)
	}
	s := got.Segments[0]
	if len(s.Words) == 0 || s.Confidence == nil || s.Words[0].Start < s.Start || s.End > got.Duration+0.05 {
		t.Errorf("segment %+v", s)
	}
	t.Logf("%s", stdout)
}

func TestTranscribeEngineErrors(t *testing.T) {
	dataDir := t.TempDir()
	env := []string{"HOTLINE_DATA_DIR=" + dataDir}
	_, _, err := runCLI(t, env, "transcribe", "--engine", "vosk", "--lang", "en", "x.wav")
	if err == nil || !strings.Contains(err.Error(), "models pull en") || !strings.Contains(err.Error(), "--engine sphinx") {
		t.Errorf("vosk without a model: %v", err)
	}
	_, _, err = runCLI(t, env, "transcribe", "--engine", "sphinx", "--lang", "ru", "x.wav")
	if err == nil || !strings.Contains(err.Error(), "English only") {
		t.Errorf("sphinx ru: %v", err)
	}
	_, _, err = runCLI(t, env, "transcribe", "--engine", "sphinx")
	if exitCode(err) != 2 {
		t.Errorf("no files: %v", err)
	}
}
