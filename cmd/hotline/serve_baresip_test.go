package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/asr/sphinx"
	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/baresiptest"
)

// TestBaresipAsksInEnglish: baresip, a real softphone, dials sip:en@
// (English preselected: baresip cannot press a key at a given moment
// when driven non-interactively) with G.722 only, plays a WAV question
// and records what it hears; the recording of the bot's reply is
// recognised by PocketSphinx and must be the answer.
func TestBaresipAsksInEnglish(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy: baresip call through speech recognition and synthesis")
	}
	bin := baresiptest.Need(t, "g722.so")
	question := festivalSpeech(t, "What are the operator hours?", 16000)
	dir := t.TempDir()
	// The recording notice plays first: the question waits for it.
	pcm := append(make([]int16, 16000*7), question...)
	pcm = append(pcm, make([]int16, 16000*20)...)
	if err := audio.WriteWAVFile(filepath.Join(dir, "question.wav"), pcm, 16000); err != nil {
		t.Fatal(err)
	}

	dataDir := t.TempDir()
	sipAddr := freeAddr(t)
	// The reply in Festival's SLT voice, which PocketSphinx recognises.
	startServeEnv(t, []string{"HOTLINE_TTS_ENGINE_EN=festival"}, "--data", dataDir, "--sip", sipAddr)

	call := baresiptest.Run(t, bin, baresiptest.Call{Dial: "sip:en@" + sipAddr, Source: filepath.Join(dir, "question.wav"),
		Codecs: []string{"G722"}, Modules: []string{"g722.so"}, Seconds: 30})
	t.Logf("baresip: %v\n%s", call.Err, baresiptest.Tail(call.Log, 2000))
	files := call.Heard
	if len(files) == 0 {
		t.Fatal("baresip recorded nothing")
	}
	heard, info, err := audio.ReadWAVFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %s: %.1fs at %d Hz", filepath.Base(files[0]), float64(len(heard))/float64(info.Rate), info.Rate)

	eng, err := sphinx.New()
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	res, err := asr.Transcribe(context.Background(), eng, asr.StreamConfig{Lang: "en", SampleRate: info.Rate}, heard)
	if err != nil {
		t.Fatal(err)
	}
	var text []string
	for _, r := range res {
		if r.Kind == asr.Final && r.Text != "" {
			text = append(text, r.Text)
		}
	}
	got := strings.ToLower(strings.Join(text, " | "))
	t.Logf("the bot's voice, as recognised: %s", got)
	if !strings.Contains(got, "monday") && !strings.Contains(got, "friday") {
		t.Errorf("the recorded reply is not the operator hours: %q", got)
	}
}
