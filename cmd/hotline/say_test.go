package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotline-ivr/hotline/audio"
)

func TestSay(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args  []string
		stdin string
		rate  int
	}{
		{[]string{"--lang", "ru", "--engine", "espeak", "Здравствуйте! Звоните 8-800-555-35-35."}, "", 8000},
		{[]string{"--lang", "en", "--rate", "16000", "--engine", "festival", "Hello", "there."}, "", 16000},
		{[]string{"--lang", "en", "--rate", "48000"}, "Your appeal is accepted.", 48000},
	} {
		out := filepath.Join(dir, "out.wav")
		var stderr bytes.Buffer
		cl := &cli{stdin: strings.NewReader(c.stdin), stdout: &bytes.Buffer{}, stderr: &stderr}
		if err := runSay(context.Background(), cl, append([]string{"-o", out}, c.args...)); err != nil {
			t.Fatalf("%v: %v\n%s", c.args, err, stderr.String())
		}
		samples, info, err := audio.ReadWAVFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if info.Rate != c.rate || len(samples) < c.rate/2 {
			t.Errorf("%v: %d samples at %d Hz", c.args, len(samples), info.Rate)
		}
	}
}

func TestSayBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{},                           // no text
		{"--lang", "de", "Hallo"},    // language
		{"--rate", "44100", "Hello"}, // rate
		{"--engine", "sapi", "Hello"},
	} {
		cl := &cli{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
		err := runSay(context.Background(), cl, append([]string{"-o", filepath.Join(dir, "x.wav")}, args...))
		if !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

func TestSayTakesEnginesFromConfig(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "hotline.yaml")
	if err := os.WriteFile(conf, []byte("tts:\n  engine:\n    en: espeak\n  espeak:\n    voice:\n      en: en-gb\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.wav")
	for _, c := range []struct {
		args    []string
		environ []string
		want    string
	}{
		{[]string{"--config", conf, "--lang", "en", "Hello."}, nil, "with espeak"},
		{[]string{"--lang", "en", "Hello."}, []string{"HOTLINE_TTS_ENGINE_EN=espeak"}, "with espeak"},
		{[]string{"--config", conf, "--lang", "en", "--engine", "festival", "Hello."}, nil, "with festival"}, // the flag wins
	} {
		var stderr bytes.Buffer
		cl := &cli{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &stderr, environ: c.environ}
		if err := runSay(context.Background(), cl, append([]string{"-o", out}, c.args...)); err != nil {
			t.Fatalf("%v: %v\n%s", c.args, err, stderr.String())
		}
		if !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: %q, want %q", c.args, stderr.String(), c.want)
		}
	}
	var stderr bytes.Buffer
	cl := &cli{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &stderr,
		environ: []string{"HOTLINE_TTS_ESPEAK_VOICE_EN=no-such-voice"}}
	if err := runSay(context.Background(), cl, []string{"-o", out, "--engine", "espeak", "--lang", "en", "Hello."}); err == nil {
		t.Error("an unknown configured voice was accepted")
	}
}
