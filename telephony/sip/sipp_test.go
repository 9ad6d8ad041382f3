package sip

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// SIPp scenarios (testdata/sipp) against the in-process server: SIPp is a
// real, independent SIP implementation, so these catch what two sipgo
// peers agreeing with each other would not.

func needSIPp(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("SIPp scenarios are skipped under -short")
	}
	p, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("sipp not installed (Debian package sip-tester; scripts/setup.sh installs it)")
	}
	for _, f := range []string{"g711a.pcap", "dtmf_2833_1.pcap", "dtmf_2833_pound.pcap"} {
		if _, err := os.Stat(filepath.Join("/usr/share/sip-tester", f)); err != nil {
			t.Skipf("SIPp audio pcaps missing (%v)", err)
		}
	}
	return p
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// runSIPp runs one call of a scenario and fails the test on a non-zero
// exit (a failed call, an unexpected message, the global timeout).
func runSIPp(t *testing.T, bin string, srv *Server, scenario, transport string) {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	target := srv.Addr("udp").String()
	args := []string{"-sf", abs, "-s", "hotline", "-m", "1", "-l", "1",
		"-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)),
		"-timeout", "30s", "-timeout_error", "-nostdin", "-trace_err", "-error_file", filepath.Join(dir, "errors.log")}
	if transport == "tcp" {
		target = srv.Addr("tcp").String()
		args = append(args, "-t", "t1")
	}
	args = append(args, target)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if err != nil {
		errLog, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		t.Fatalf("sipp %s (%s): %v\n--- errors.log\n%s\n--- output (tail)\n%s", scenario, transport, err, errLog, tail(out.Bytes(), 3000))
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func waitEnded(t *testing.T, rec *recorder) {
	t.Helper()
	select {
	case <-rec.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not return")
	}
}

func TestSIPpCallAndHangupMidReply(t *testing.T) {
	bin := needSIPp(t)
	for _, tp := range []string{"udp", "tcp"} {
		t.Run(tp, func(t *testing.T) {
			checkGoroutines(t)
			rec := newRecorder()
			srv, _ := startServer(t, rec)
			runSIPp(t, bin, srv, "call_bye.xml", tp)
			waitEnded(t, rec)
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if !errors.Is(rec.cause, ErrRemoteHangup) {
				t.Fatalf("cause %v, want caller hangup", rec.cause)
			}
			if rec.stats.PacketsReceived < 30 || rec.stats.PacketsSent < 30 {
				t.Fatalf("media stats %+v", rec.stats)
			}
		})
	}
}

func TestSIPpDTMF(t *testing.T) {
	bin := needSIPp(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec)
	runSIPp(t, bin, srv, "dtmf.xml", "udp")
	waitEnded(t, rec)
	if _, digits, _ := rec.snapshot(); digits != "1#5" {
		t.Fatalf("digits %q, want \"1#5\" (RFC 4733 1, #, INFO 5)", digits)
	}
}

func TestSIPpCancel(t *testing.T) {
	bin := needSIPp(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec, WithRingTime(3*time.Second))
	runSIPp(t, bin, srv, "cancel.xml", "udp")
	waitFor(t, "cleanup", 5*time.Second, func() bool { return srv.ActiveCalls() == 0 && srv.PortsInUse() == 0 })
	if rec.calls != 0 {
		t.Fatal("handler ran for a cancelled call")
	}
}

func TestSIPpReInvite(t *testing.T) {
	bin := needSIPp(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec)
	runSIPp(t, bin, srv, "reinvite.xml", "udp")
	waitEnded(t, rec)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.held) != 2 || !rec.held[0] || rec.held[1] {
		t.Fatalf("hold events %v, want [true false]", rec.held)
	}
}

func TestSIPpSilentCaller(t *testing.T) {
	bin := needSIPp(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec, WithNoRTPTimeout(time.Second))
	runSIPp(t, bin, srv, "silent.xml", "udp")
	waitEnded(t, rec)
	if _, _, cause := rec.snapshot(); !errors.Is(cause, ErrRTPTimeout) {
		t.Fatalf("cause %v, want RTP timeout", cause)
	}
}

func TestSIPpMalformed(t *testing.T) {
	bin := needSIPp(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec)
	// Raw garbage first: binary noise, a half message, a huge line.
	c, err := net.Dial("udp", srv.Addr("udp").String())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][]byte{
		{0x80, 0x08, 0x00, 0x01, 0xff},
		[]byte("INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP\r\n"),
		[]byte("SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n"),
		bytes.Repeat([]byte("A"), 60000),
		[]byte("\r\n\r\n"),
	} {
		_, _ = c.Write(p)
	}
	c.Close()
	runSIPp(t, bin, srv, "bad_sdp.xml", "udp")
	runSIPp(t, bin, srv, "bad_sip.xml", "udp")
	// Still alive and answering calls.
	runSIPp(t, bin, srv, "call_bye.xml", "udp")
	waitEnded(t, rec)
	if rec.calls != 1 {
		t.Fatalf("%d calls reached the handler, want 1", rec.calls)
	}
}

func TestSIPpRecordRoute(t *testing.T) {
	bin := needSIPp(t)
	checkGoroutines(t)
	rec := newRecorder()
	rec.act = func(ctx context.Context, c *Call) error {
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return nil
		}
		hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return c.Hangup(hctx)
	}
	srv, _ := startServer(t, rec)
	runSIPp(t, bin, srv, "record_route.xml", "udp")
	waitEnded(t, rec)
}

// Late offer with SIPp: INVITE without SDP, our offer in the 200, the
// answer (PCMA) in the ACK, caller audio, BYE; a bare ACK, which the
// server must answer with a BYE whose Reason says why; a re-INVITE sent
// before the ACK, which gets 491 without spoiling the call.
func TestSIPpLateOffer(t *testing.T) {
	bin := needSIPp(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec)
	runSIPp(t, bin, srv, "late_offer.xml", "udp")
	waitEnded(t, rec)
	rec.mu.Lock()
	cause, st, calls := rec.cause, rec.stats, rec.calls
	rec.mu.Unlock()
	if !errors.Is(cause, ErrRemoteHangup) || st.PacketsReceived < 30 || st.PacketsSent < 30 {
		t.Fatalf("cause %v, media stats %+v", cause, st)
	}
	runSIPp(t, bin, srv, "late_offer_no_answer.xml", "udp")
	waitFor(t, "cleanup", 5*time.Second, func() bool { return srv.ActiveCalls() == 0 && srv.PortsInUse() == 0 })
	rec.mu.Lock()
	if rec.calls != calls {
		rec.mu.Unlock()
		t.Fatal("handler ran for a late offer without an answer")
	}
	rec.mu.Unlock()
	// A re-INVITE before the ACK: 491, and the call still starts.
	runSIPp(t, bin, srv, "late_offer_reinvite.xml", "udp")
	waitEnded(t, rec)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.calls != calls+1 || !errors.Is(rec.cause, ErrRemoteHangup) || rec.stats.PacketsReceived < 20 {
		t.Fatalf("calls %d, cause %v, stats %+v", rec.calls, rec.cause, rec.stats)
	}
}

// Session timer with SIPp: Session-Expires: 90;refresher=uac comes back in
// the 200 with Require: timer, an UPDATE refresh is answered with it, the
// caller hangs up; 60 s is refused with 422 and Min-SE: 90.
func TestSIPpSessionTimer(t *testing.T) {
	bin := needSIPp(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec)
	runSIPp(t, bin, srv, "session_timer.xml", "udp")
	waitEnded(t, rec)
	if _, _, cause := rec.snapshot(); !errors.Is(cause, ErrRemoteHangup) {
		t.Fatalf("cause %v, want caller hangup", cause)
	}
	runSIPp(t, bin, srv, "session_timer_422.xml", "udp")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.calls != 1 {
		t.Fatalf("%d calls reached the handler, want 1", rec.calls)
	}
}

// Codec change with SIPp: a PCMU call re-INVITEd with only PCMA is
// answered PCMA, and the caller's PCMA audio then reaches the bot.
func TestSIPpReInviteCodecChange(t *testing.T) {
	bin := needSIPp(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec)
	runSIPp(t, bin, srv, "reinvite_codec.xml", "udp")
	waitEnded(t, rec)
	call := <-rec.started
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if call.Codec() != "PCMA" || call.SampleRate() != 8000 || rec.stats.PacketsReceived < 30 {
		t.Fatalf("codec %s at %d Hz, stats %+v", call.Codec(), call.SampleRate(), rec.stats)
	}
}
