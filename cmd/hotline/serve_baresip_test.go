package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/asr/sphinx"
	"github.com/hotline-ivr/hotline/audio"
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
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Skip("baresip not installed (Debian package baresip; scripts/setup.sh installs it)")
	}
	modDir := "/usr/lib/baresip/modules"
	for _, m := range []string{"g722.so", "aufile.so", "sndfile.so", "account.so", "menu.so"} {
		if _, err := os.Stat(filepath.Join(modDir, m)); err != nil {
			t.Skipf("baresip module %s missing: %v", m, err)
		}
	}
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

	conf := filepath.Join(dir, "conf")
	rec := filepath.Join(dir, "rec")
	for _, d := range []string{conf, rec} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
audio_source aufile,%s
audio_player aufile,/dev/null
audio_alert aufile,/dev/null
ausrc_srate 16000
auplay_srate 16000
ausrc_channels 1
auplay_channels 1
rtp_ports 35000-35999
snd_path %s
module_path %s
module stdio.so
module g722.so
module aufile.so
module sndfile.so
module account.so
module menu.so
`, freeUDP(t), filepath.Join(dir, "question.wav"), rec, modDir)
	if err := os.WriteFile(filepath.Join(conf, "config"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(conf, "accounts"),
		[]byte("<sip:tester@127.0.0.1>;regint=0;audio_codecs=G722\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-f", conf, "-t", "30", "-e", "/dial sip:en@"+sipAddr)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Stdin = nil
	err = cmd.Run()
	// stdio's status line repeats every 100 ms: only the messages.
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(out.String(), "\r", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.Contains(l, "audio=") {
			lines = append(lines, l)
		}
	}
	t.Logf("baresip: %v\n%s", err, tailString(strings.Join(lines, "\n"), 2000))
	files, _ := filepath.Glob(filepath.Join(rec, "*dec*.wav"))
	if len(files) == 0 {
		all, _ := filepath.Glob(filepath.Join(rec, "*"))
		t.Fatalf("baresip recorded nothing (files %v)", all)
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

func tailString(s string, n int) string { return s[max(0, len(s)-n):] }
