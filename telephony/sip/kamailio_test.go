package sip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/telephony/media"
)

// lockedBuffer collects a child process's output for the test's log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startKamailio runs Debian's Kamailio as a stateful proxy dispatching new
// calls round robin over backends (testdata/kamailio.cfg) and returns its
// UDP address.
func startKamailio(t *testing.T, backends ...string) proxyAddr {
	t.Helper()
	// scripts/setup.sh unpacks Debian's kamailio into .cache (no system
	// service); an installed one does as well.
	var bin, modules string
	if local, err := filepath.Abs("../../.cache/kamailio"); err == nil {
		if _, err := os.Stat(filepath.Join(local, "usr/sbin/kamailio")); err == nil {
			bin, modules = filepath.Join(local, "usr/sbin/kamailio"), filepath.Join(local, "usr/lib/x86_64-linux-gnu/kamailio/modules")
		}
	}
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("kamailio"); err != nil {
			t.Skip("kamailio is not installed: scripts/setup.sh (make test) unpacks it into .cache/kamailio")
		}
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()

	dir := t.TempDir()
	var list strings.Builder
	for _, b := range backends {
		fmt.Fprintf(&list, "1 sip:%s\n", b)
	}
	listFile := filepath.Join(dir, "dispatcher.list")
	if err := os.WriteFile(listFile, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile("testdata/kamailio.cfg")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer("{{LISTEN}}", addr, "{{LIST}}", listFile).Replace(string(tmpl))
	cfgFile := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out := &lockedBuffer{}
	args := []string{"-f", cfgFile, "-DD", "-E", "-m", "32", "-M", "8",
		"-Y", dir, "-P", filepath.Join(dir, "kamailio.pid"), "-w", dir}
	cmd := exec.Command(bin, args...)
	if modules != "" {
		// The unpacked modules find their shared libraries (libsrdb1, ...)
		// one folder up, where the package's rpath would look in /usr.
		cmd.Args = append(cmd.Args, "-L", modules)
		cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+filepath.Dir(modules))
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("kamailio output:\n%s", out)
		}
	})
	select {
	case <-exited:
		t.Fatalf("kamailio exited at start:\n%s", out)
	case <-time.After(300 * time.Millisecond):
	}
	return proxyAddr{addr}
}

// proxyAddr is the proxy's "host:port".
type proxyAddr struct{ hostPort string }

func (n proxyAddr) uri(user string) sip.Uri {
	host, port, _ := net.SplitHostPort(n.hostPort)
	var p int
	fmt.Sscan(port, &p)
	return sip.Uri{Scheme: "sip", User: user, Host: host, Port: p, UriParams: sip.NewParams()}
}

// Two Hotline instances behind a real Kamailio with the dispatcher:
// new calls are spread over both, audio flows, and in-dialog requests
// from either side (the caller's BYE, the bot's own BYE) follow the
// Record-Route path through the proxy to the instance that has the call.
func TestBehindKamailioDispatcher(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	recs := []*recorder{newRecorder(), newRecorder()}
	srvA, _ := startServer(t, recs[0], WithRTP("127.0.0.1", 34000, 34499))
	srvB, _ := startServer(t, recs[1], WithRTP("127.0.0.1", 34500, 34999))
	proxy := startKamailio(t, srvA.Addr("udp").String(), srvB.Addr("udp").String())
	c := newCaller(t)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitFor(t, "kamailio to relay OPTIONS to an instance", 10*time.Second, func() bool {
		req := sip.NewRequest(sip.OPTIONS, proxy.uri("+79161234567"))
		octx, ocancel := context.WithTimeout(ctx, time.Second)
		defer ocancel()
		res, err := c.client.Do(octx, req)
		return err == nil && res.StatusCode == 200
	})

	const calls = 4
	type placed struct {
		d     *sipgo.DialogClientSession
		sess  *media.Session
		call  *Call
		owner int // which instance answered
	}
	var all []placed
	for i := range calls {
		sess, body := c.media("G722", 101, media.SendRecv)
		d, err := c.dc.Invite(ctx, proxy.uri("+79161234567"), body, sip.NewHeader("Content-Type", "application/sdp"))
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if rr := d.InviteResponse.GetHeader("Record-Route"); rr == nil || !strings.Contains(rr.Value(), proxy.hostPort) {
			t.Fatalf("call %d: the 200 OK does not keep the proxy on the path: Record-Route %v", i, rr)
		}
		if err := d.Ack(ctx); err != nil {
			t.Fatalf("call %d: ACK: %v", i, err)
		}
		remoteMedia(t, sess, d.InviteResponse.Body())
		p := placed{d: d, sess: sess}
		select {
		case p.call = <-recs[0].started:
		case p.call = <-recs[1].started:
			p.owner = 1
		case <-ctx.Done():
			t.Fatalf("call %d answered but no instance runs it", i)
		}
		all = append(all, p)
	}
	if recs[0].calls != calls/2 || recs[1].calls != calls/2 {
		t.Errorf("the dispatcher gave %d and %d calls to the two instances, want %d each", recs[0].calls, recs[1].calls, calls/2)
	}

	// Media goes straight between the caller and the instance: the
	// caller hears the bot's tone.
	for i, p := range all {
		loud := 0
		for range 40 {
			f, err := p.sess.ReadFrameContext(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if audio.RMSdBFS(f.Samples) > -30 {
				loud++
			}
		}
		if loud < 10 {
			t.Errorf("call %d: %d loud frames of 40 from instance %d", i, loud, p.owner)
		}
	}

	// The caller hangs up the first two: the BYE finds the instance
	// through the proxy.
	for i, p := range all[:2] {
		if err := p.d.Bye(ctx); err != nil {
			t.Errorf("call %d: BYE through the proxy: %v", i, err)
		}
		select {
		case <-p.call.Done():
			if !errors.Is(p.call.Err(), ErrRemoteHangup) {
				t.Errorf("call %d ended with %v, want the caller's hang-up", i, p.call.Err())
			}
		case <-ctx.Done():
			t.Fatalf("call %d: the instance never got the BYE", i)
		}
	}
	// The bot hangs up the other two: its BYE carries the Route set and
	// reaches the caller through the proxy.
	for i, p := range all[2:] {
		if err := p.call.Hangup(ctx); err != nil {
			t.Errorf("call %d: the bot's BYE: %v", i+2, err)
		}
		select {
		case bye := <-c.byes:
			if via := bye.GetHeader("Via"); via == nil || !strings.Contains(via.Value(), proxy.hostPort) {
				t.Errorf("call %d: the bot's BYE did not come through the proxy: top Via %v", i+2, via)
			}
		case <-ctx.Done():
			t.Fatalf("call %d: the caller never got the bot's BYE", i+2)
		}
	}
	for _, r := range recs {
		for range calls / 2 {
			select {
			case <-r.ended:
			case <-ctx.Done():
				t.Fatal("a call's handler did not return")
			}
		}
	}
}
