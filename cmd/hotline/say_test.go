package main

import (
	"bytes"
	"context"
	"errors"
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
