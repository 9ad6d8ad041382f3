package sip

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/telephony/codec"
	"github.com/hotline-ivr/hotline/telephony/media"
)

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("SIP loopback test with real-time media")
	}
}

// basicCall: INVITE → 100/180/200 → ACK → RTP both ways + DTMF → BYE.
func basicCall(t *testing.T, transport string) {
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec)
	c := newCaller(t)
	sess, body := c.media("G722", 101, media.SendRecv)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := c.invite(ctx, srv, transport, body)
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
		codes = append(codes, r.StatusCode)
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	// 100 and 180 are on the wire (SIPp's uac scenario checks them);
	// sipgo's client transaction does not hand every provisional up.
	if len(codes) == 0 || codes[len(codes)-1] != 200 {
		t.Fatalf("responses %v, want ... 200", codes)
	}
	ans := remoteMedia(t, sess, d.InviteResponse.Body())
	if ans.codec.Name != "G722" || ans.dtmfPT != 101 {
		t.Fatalf("answer %+v, want G722 + telephone-event 101", ans)
	}
	call := <-rec.started
	if call.Codec() != "G722" || call.SampleRate() != 16000 || call.From != "test-caller" || call.To != "+79161234567" {
		t.Fatalf("call %s/%d from %q to %q", call.Codec(), call.SampleRate(), call.From, call.To)
	}

	go func() {
		for _, f := range tone16k(50) {
			if sess.WriteFrame(f) != nil {
				return
			}
		}
	}()
	if err := sess.SendDTMF('5', 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	heard := 0
	deadline := time.Now().Add(4 * time.Second)
	for heard < 20 && time.Now().Before(deadline) {
		f, err := sess.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if audio.RMSdBFS(f.Samples) > -30 {
			heard++
		}
	}
	if heard < 20 {
		t.Fatalf("caller heard %d loud frames of the bot's tone", heard)
	}
	waitFor(t, "bot hears caller and digit", 4*time.Second, func() bool {
		loud, digits, _ := rec.snapshot()
		return loud >= 20 && digits == "5"
	})
	// DTMF from the bot to the caller.
	if err := call.SendDTMF('#'); err != nil {
		t.Fatal(err)
	}
	select {
	case dg := <-sess.DTMF():
		if dg.Key != '#' {
			t.Fatalf("caller got digit %q", dg.Key)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("caller got no DTMF")
	}
	if st := call.Stats(); st.PacketsReceived < 20 || st.PacketsSent < 20 {
		t.Fatalf("stats %+v", st)
	}

	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rec.ended:
	case <-time.After(3 * time.Second):
		t.Fatal("handler did not return after BYE")
	}
	if _, _, cause := rec.snapshot(); !errors.Is(cause, ErrRemoteHangup) {
		t.Fatalf("cause %v, want ErrRemoteHangup", cause)
	}
	waitFor(t, "call cleanup", 3*time.Second, func() bool { return srv.ActiveCalls() == 0 && srv.PortsInUse() == 0 })
}

func TestBasicCallUDP(t *testing.T) { skipShort(t); basicCall(t, "udp") }
func TestBasicCallTCP(t *testing.T) { skipShort(t); basicCall(t, "tcp") }

func TestPCMUOnlyOffer(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec)
	c := newCaller(t)
	sess, body := c.media("PCMU", 0, media.SendRecv)
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
	if a := remoteMedia(t, sess, d.InviteResponse.Body()); a.codec.Name != "PCMU" || a.dtmfPT != 0 {
		t.Fatalf("answer %+v", a)
	}
	call := <-rec.started
	if call.SampleRate() != 8000 {
		t.Fatal(call.SampleRate())
	}
	d.Bye(ctx)
	<-rec.ended
}

func TestCancelBeforeAnswer(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec, WithRingTime(3*time.Second))
	c := newCaller(t)
	_, body := c.media("PCMU", 0, media.SendRecv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := c.invite(ctx, srv, "udp", body)
	if err != nil {
		t.Fatal(err)
	}
	ringing := make(chan struct{})
	waitCtx, stop := context.WithCancel(ctx)
	var final int
	errC := make(chan error, 1)
	go func() {
		errC <- d.WaitAnswer(waitCtx, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
			if r.StatusCode == 180 {
				close(ringing)
			}
			final = r.StatusCode
			return nil
		}})
	}()
	select {
	case <-ringing:
	case <-time.After(3 * time.Second):
		t.Fatal("no 180")
	}
	stop() // sends CANCEL
	if err := <-errC; err == nil {
		t.Fatal("call answered despite CANCEL")
	}
	waitFor(t, "cancelled call cleanup", 5*time.Second, func() bool { return srv.ActiveCalls() == 0 && srv.PortsInUse() == 0 })
	if rec.calls != 0 {
		t.Fatal("handler ran for a cancelled call")
	}
	_ = final
}

func TestReInviteHold(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec)
	c := newCaller(t)
	sess, body := c.media("PCMU", 101, media.SendRecv)
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
	remoteMedia(t, sess, d.InviteResponse.Body())
	call := <-rec.started

	reinvite := func(dir media.Direction) offer {
		t.Helper()
		info, _ := codec.Lookup(call.Codec())
		b := buildAnswer("127.0.0.1", sess.LocalPort(), 42, 2, info, 101, dir)
		req := sip.NewRequest(sip.INVITE, d.InviteResponse.Contact().Address)
		req.SetBody(b)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res, err := d.Do(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 {
			t.Fatalf("re-INVITE answered %d", res.StatusCode)
		}
		ack := sip.NewRequest(sip.ACK, d.InviteResponse.Contact().Address)
		if err := d.WriteRequest(ack); err != nil {
			t.Fatal(err)
		}
		o, err := parseOffer(res.Body(), nil, "PCMU")
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	if a := reinvite(media.SendOnly); a.dir != media.RecvOnly {
		t.Fatalf("hold answered %s, want recvonly", a.dir)
	}
	waitFor(t, "hold", 2*time.Second, func() bool { return call.Held() })
	if a := reinvite(media.SendRecv); a.dir != media.SendRecv {
		t.Fatalf("unhold answered %s", a.dir)
	}
	waitFor(t, "unhold", 2*time.Second, func() bool { return !call.Held() })
	var held []bool
	waitFor(t, "hold events", 2*time.Second, func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		held = append(held[:0], rec.held...)
		return len(held) >= 2
	})
	if len(held) != 2 || !held[0] || held[1] {
		t.Fatalf("hold events %v", held)
	}
	d.Bye(ctx)
	<-rec.ended
}
