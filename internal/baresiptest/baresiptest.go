// Package baresiptest runs baresip, a real softphone (Debian package
// baresip), in tests: a fresh config folder per run, a WAV file as the
// microphone, what the phone hears recorded as WAV (the sndfile module),
// one call dialled at start. The SIP and serve tests share it.
package baresiptest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ModuleDir is where Debian installs baresip's modules.
const ModuleDir = "/usr/lib/baresip/modules"

// Need returns the baresip binary, or skips the test (under -short, when
// baresip is not installed, or when one of the modules, e.g. "g722.so",
// is missing).
func Need(t testing.TB, modules ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("baresip test: skipped with -short")
	}
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Skip("baresip not installed (Debian package baresip; scripts/setup.sh installs it)")
	}
	for _, m := range append([]string{"aufile.so", "sndfile.so", "account.so", "menu.so", "stdio.so"}, modules...) {
		if _, err := os.Stat(filepath.Join(ModuleDir, m)); err != nil {
			t.Skipf("baresip module %s missing: %v", m, err)
		}
	}
	return bin
}

// Call is one baresip run.
type Call struct {
	// Dial is the SIP URI dialled at start, e.g. "sip:en@127.0.0.1:5060".
	Dial string
	// Source is the WAV played as the microphone (16 kHz mono); it
	// should be longer than the call.
	Source string
	// Codecs are the account's audio codecs (e.g. "G722"), in order.
	Codecs []string
	// MediaEnc is the account's media encryption: "" (none), "srtp"
	// (best effort: RTP/AVP with a=crypto), "srtp-mand" (RTP/SAVP) or
	// "srtp-mandf" (RTP/SAVPF). The srtp module is loaded for it.
	MediaEnc string
	// Modules are extra modules to load, e.g. "g722.so".
	Modules []string
	// Seconds is how long baresip runs before it quits (-t).
	Seconds int
	// SIPTrace logs every SIP message (-s) into Result.Log.
	SIPTrace bool
}

// Result is what a run left behind.
type Result struct {
	// Log is baresip's output without the repeating status line.
	Log string
	// Heard are the WAV recordings of the decoded audio the phone
	// played (sndfile's *dec*.wav), usually one per call.
	Heard []string
	// Err is the process's exit error, if any.
	Err error
}

// Run runs baresip once for c and waits for it to quit; t fails only when
// baresip cannot be started.
func Run(t testing.TB, bin string, c Call) Result {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "conf")
	rec := filepath.Join(dir, "rec")
	for _, d := range []string{conf, rec} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Codecs and media encryption load before account.so, which looks
	// up the account's audio_codecs and mediaenc when it loads.
	modules := append([]string{"stdio.so"}, c.Modules...)
	if c.MediaEnc != "" {
		modules = append(modules, "srtp.so")
	}
	modules = append(modules, "aufile.so", "sndfile.so", "account.so", "menu.so")
	var cfg strings.Builder
	fmt.Fprintf(&cfg, `poll_method epoll
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
`, freeUDPPort(t), c.Source, rec, ModuleDir)
	for _, m := range modules {
		fmt.Fprintf(&cfg, "module %s\n", m)
	}
	if err := os.WriteFile(filepath.Join(conf, "config"), []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	account := "<sip:tester@127.0.0.1>;regint=0"
	if len(c.Codecs) > 0 {
		account += ";audio_codecs=" + strings.Join(c.Codecs, ",")
	}
	if c.MediaEnc != "" {
		account += ";mediaenc=" + c.MediaEnc
	}
	if err := os.WriteFile(filepath.Join(conf, "accounts"), []byte(account+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	secs := c.Seconds
	if secs <= 0 {
		secs = 10
	}
	args := []string{"-f", conf, "-t", fmt.Sprint(secs), "-e", "/dial " + c.Dial}
	if c.SIPTrace {
		args = append(args, "-s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+30)*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	res := Result{Err: cmd.Run()}
	// stdio's status line repeats every 100 ms: only the messages.
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(out.String(), "\r", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.Contains(l, "audio=") {
			lines = append(lines, l)
		}
	}
	res.Log = strings.Join(lines, "\n")
	res.Heard, _ = filepath.Glob(filepath.Join(rec, "*dec*.wav"))
	return res
}

// Tail is the end of s, for failure messages.
func Tail(s string, n int) string { return s[max(0, len(s)-n):] }

func freeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}
