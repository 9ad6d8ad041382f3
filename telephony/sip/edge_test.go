package sip

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotline-ivr/hotline/telephony/media"
)

func serverURI(srv *Server, network string) sip.Uri {
	ap := netip.MustParseAddrPort(srv.Addr(network).String())
	return sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: int(ap.Port())}
}

func TestOptionsKeepAlive(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	srv, _ := startServer(t, newRecorder())
	c := newCaller(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.client.Do(ctx, sip.NewRequest(sip.OPTIONS, serverURI(srv, "udp")))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.GetHeader("Allow") == nil {
		t.Fatalf("OPTIONS: %s", res.StartLine())
	}
	if !strings.Contains(hdrVal(res, "Allow"), "UPDATE") || hdrVal(res, "Supported") != "timer" {
		t.Fatalf("OPTIONS does not show session timer support:\n%s", res)
	}
}

// inviteStatus places a call expected to be refused and returns the final
// response.
func inviteStatus(t *testing.T, c *caller, srv *Server, body []byte, opts sipgo.AnswerOptions) *sip.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	d, err := c.invite(ctx, srv, "udp", body)
	if err != nil {
		t.Fatal(err)
	}
	err = d.WaitAnswer(ctx, opts)
	var de *sipgo.ErrDialogResponse
	if !errors.As(err, &de) {
		if err == nil {
			d.Ack(ctx)
			return d.InviteResponse
		}
		t.Fatalf("WaitAnswer: %v", err)
	}
	return de.Res
}

func TestMalformedSDPRefused(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec)
	c := newCaller(t)
	for name, body := range map[string][]byte{
		"garbage": []byte("this is not SDP at all\r\n"),
		"opus":    []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n"),
		"srtp":    []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n"),
	} {
		res := inviteStatus(t, c, srv, body, sipgo.AnswerOptions{})
		if res.StatusCode != 488 {
			t.Fatalf("%s: got %s, want 488", name, res.StartLine())
		}
		if w := res.GetHeader("Warning"); w == nil || !strings.HasPrefix(w.Value(), "304 ") {
			t.Fatalf("%s: no Warning header: %v", name, res)
		}
	}
	if rec.calls != 0 || srv.PortsInUse() != 0 {
		t.Fatal("refused call reached the handler or kept ports")
	}
}

func TestAllowListRefuses(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	srv, _ := startServer(t, newRecorder(), WithAllowList("10.0.0.0/8"))
	c := newCaller(t)
	_, body := c.media("PCMU", 0, media.SendRecv)
	if res := inviteStatus(t, c, srv, body, sipgo.AnswerOptions{}); res.StatusCode != 403 {
		t.Fatalf("got %s, want 403", res.StartLine())
	}
}

func TestDigestAuth(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec, WithDigestAuth("hotline", map[string]string{"trunk": "s3cret"}))
	c := newCaller(t)
	_, body := c.media("PCMU", 0, media.SendRecv)
	if res := inviteStatus(t, c, srv, body, sipgo.AnswerOptions{}); res.StatusCode != 401 || res.GetHeader("WWW-Authenticate") == nil {
		t.Fatalf("no credentials: got %s, want 401 with a challenge", res.StartLine())
	}
	if res := inviteStatus(t, c, srv, body, sipgo.AnswerOptions{Username: "trunk", Password: "wrong"}); res.StatusCode != 403 {
		t.Fatalf("wrong password: got %s, want 403", res.StartLine())
	}
	res := inviteStatus(t, c, srv, body, sipgo.AnswerOptions{Username: "trunk", Password: "s3cret"})
	if res.StatusCode != 200 {
		t.Fatalf("right password: got %s", res.StartLine())
	}
	call := <-rec.started
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	<-rec.ended
	select {
	case <-c.byes:
	case <-time.After(3 * time.Second):
		t.Fatal("caller got no BYE")
	}
}

// A caller that stops sending RTP (network gone, crashed phone) is hung
// up after the no-RTP timeout: BYE sent, handler's ctx cancelled.
func TestRTPTimeout(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec, WithNoRTPTimeout(time.Second))
	c := newCaller(t)
	sess, body := c.media("PCMU", 0, media.SendRecv)
	sess.SetDirection(media.RecvOnly) // the caller sends nothing
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := c.invite(ctx, srv, "udp", body)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	d.Ack(ctx)
	<-rec.started
	select {
	case <-c.byes:
	case <-time.After(5 * time.Second):
		t.Fatal("server sent no BYE to a silent caller")
	}
	<-rec.ended
	if _, _, cause := rec.snapshot(); !errors.Is(cause, ErrRTPTimeout) {
		t.Fatalf("cause %v", cause)
	}
}

// Graceful shutdown: the call in progress sees Draining, new INVITEs get
// 503, and after the grace period the call is hung up with BYE.
func TestGracefulShutdown(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, stop := startServer(t, rec, WithShutdownGrace(700*time.Millisecond))
	c := newCaller(t)
	_, body := c.media("PCMU", 0, media.SendRecv)
	if res := inviteStatus(t, c, srv, body, sipgo.AnswerOptions{}); res.StatusCode != 200 {
		t.Fatal(res.StartLine())
	}
	call := <-rec.started
	stop()
	select {
	case <-call.Draining():
	case <-time.After(2 * time.Second):
		t.Fatal("no drain signal")
	}
	_, body2 := c.media("PCMU", 0, media.SendRecv)
	if res := inviteStatus(t, c, srv, body2, sipgo.AnswerOptions{}); res.StatusCode != 503 {
		t.Fatalf("INVITE while draining: %s, want 503", res.StartLine())
	}
	select {
	case <-c.byes:
	case <-time.After(5 * time.Second):
		t.Fatal("call not hung up after the grace period")
	}
	<-rec.ended
	if _, _, cause := rec.snapshot(); !errors.Is(cause, ErrShuttingDown) {
		t.Fatalf("cause %v", cause)
	}
}

// Transfer: REFER with the appeal number, NOTIFY sipfrag 200 → success.
func TestTransfer(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	rec := newRecorder()
	result := make(chan error, 1)
	rec.act = func(ctx context.Context, call *Call) error {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		err := call.Transfer(tctx, "sip:operators@127.0.0.1", map[string]string{"X-Appeal-Id": "A-1234"})
		result <- err
		return err
	}
	srv, _ := startServer(t, rec)
	c := newCaller(t)
	var dlg *sipgo.DialogClientSession
	c.onRefer = func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 202, "Accepted", nil))
		go func() {
			n := sip.NewRequest(sip.NOTIFY, dlg.InviteResponse.Contact().Address)
			n.AppendHeader(sip.NewHeader("Event", "refer"))
			n.AppendHeader(sip.NewHeader("Subscription-State", "terminated;reason=noresource"))
			n.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag"))
			n.SetBody([]byte("SIP/2.0 200 OK\r\n"))
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			_, _ = dlg.Do(ctx, n)
		}()
	}
	_, body := c.media("PCMU", 0, media.SendRecv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := c.invite(ctx, srv, "udp", body)
	if err != nil {
		t.Fatal(err)
	}
	dlg = d
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	d.Ack(ctx)
	select {
	case err := <-result:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("transfer did not finish")
	}
	req := <-c.refers
	if rt := req.GetHeader("Refer-To"); rt == nil || !strings.Contains(rt.Value(), "X-Appeal-Id=A-1234") {
		t.Fatalf("Refer-To %v", rt)
	}
	if h := req.GetHeader("X-Appeal-Id"); h == nil || h.Value() != "A-1234" {
		t.Fatal("appeal header missing on REFER")
	}
	d.Bye(ctx)
	<-rec.ended
}

func itoa(n int) string { return strconv.Itoa(n) }
