package sip

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotline-ivr/hotline/telephony/codec"
	"github.com/hotline-ivr/hotline/telephony/media"
)

// lateInvite places an INVITE without SDP and returns the dialog with the
// server's 200 (our offer) received but not yet acknowledged.
func lateInvite(ctx context.Context, t *testing.T, c *caller, srv *Server) *sipgo.DialogClientSession {
	t.Helper()
	d, err := c.invite(ctx, srv, "udp", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	return d
}

// ackSDP acknowledges the 200 with the caller's answer in the body (nil:
// a bare ACK).
func ackSDP(ctx context.Context, t *testing.T, d *sipgo.DialogClientSession, body []byte) {
	t.Helper()
	ack := sip.NewRequest(sip.ACK, d.InviteResponse.Contact().Address)
	if body != nil {
		ack.SetBody(body)
		ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	if err := d.WriteAck(ctx, ack); err != nil {
		t.Fatal(err)
	}
}

// Late offer, plain: the 200 offers all our codecs in preference order
// with telephone-event on RTP/AVP; the caller answers G.722 in the ACK and
// audio and DTMF flow both ways.
func TestLateOffer(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec)
	c := newCaller(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	d := lateInvite(ctx, t, c, srv)
	ours := d.InviteResponse.Body()
	if !bytes.Contains(ours, []byte(" RTP/AVP 9 0 8 101\r\n")) || !bytes.Contains(ours, []byte("a=rtpmap:101 telephone-event/8000")) ||
		bytes.Contains(ours, []byte("a=crypto")) || !bytes.Contains(ours, []byte("a=sendrecv")) {
		t.Fatalf("our offer:\n%s", ours)
	}
	select {
	case <-rec.started:
		t.Fatal("handler ran before the ACK brought the answer")
	case <-time.After(100 * time.Millisecond):
	}
	sess, _ := c.media("G722", 101, media.SendRecv)
	remoteMedia(t, sess, ours)
	g722, _ := codec.Lookup("G722")
	ackSDP(ctx, t, d, buildAnswer("127.0.0.1", sess.LocalPort(), 42, 1, g722, 101, media.SendRecv))
	call := <-rec.started
	if call.Codec() != "G722" || call.SRTP() != "" {
		t.Fatalf("call %s srtp %q", call.Codec(), call.SRTP())
	}
	go func() {
		for _, f := range tone16k(100) {
			if sess.WriteFrame(f) != nil {
				return
			}
		}
	}()
	if err := sess.SendDTMF('9', 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	hearTone(t, sess, 20, 4*time.Second)
	waitFor(t, "bot hears caller and digit", 4*time.Second, func() bool {
		loud, digits, _ := rec.snapshot()
		return loud >= 20 && digits == "9"
	})
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	<-rec.ended
}

// Late offer under SRTPRequired: the 200 offers RTP/SAVP with a crypto
// line per suite; the caller picks one in its answer and the media is
// SRTP both ways.
func TestLateOfferSRTPRequired(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec, WithSRTP(SRTPRequired))
	c := newCaller(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	d := lateInvite(ctx, t, c, srv)
	ours := d.InviteResponse.Body()
	o, err := parseOffer(ours, codec.Preferred, "")
	if err != nil {
		t.Fatal(err)
	}
	if o.proto != "RTP/SAVP" || len(o.cryptos) != len(media.SRTPSuites) {
		t.Fatalf("our offer:\n%s", ours)
	}
	// The caller takes the GCM line: not our first choice, still ours to
	// honour.
	var theirs media.Crypto
	for _, line := range o.cryptos {
		cr, err := media.ParseCrypto(line)
		if err != nil {
			t.Fatalf("our own line %q: %v", shortCrypto(line), err)
		}
		if cr.Suite == media.AEAD_AES_128_GCM {
			theirs = cr
		}
	}
	mine, _ := media.NewCrypto(theirs.Tag, theirs.Suite)
	cd, _ := codec.New("PCMU")
	r, rc, err := c.ports.Listen("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := media.NewSession(media.Config{Codec: cd, RTP: r, RTCP: rc, Remote: o.remote,
		SRTP: &media.SRTP{Local: mine, Remote: theirs}})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	pcmu, _ := codec.Lookup("PCMU")
	ackSDP(ctx, t, d, buildSDP("127.0.0.1", sess.LocalPort(), 42, 1, sdpMedia{proto: "RTP/SAVP",
		codecs: []codec.Info{pcmu}, dir: media.SendRecv, crypto: []media.Crypto{mine}}))
	call := <-rec.started
	if call.Codec() != "PCMU" || call.SRTP() != string(media.AEAD_AES_128_GCM) {
		t.Fatalf("call %s srtp %q", call.Codec(), call.SRTP())
	}
	go func() {
		for _, f := range tone16k(100) {
			if sess.WriteFrame(f) != nil {
				return
			}
		}
	}()
	hearTone(t, sess, 20, 4*time.Second)
	waitFor(t, "bot hears the caller", 4*time.Second, func() bool { loud, _, _ := rec.snapshot(); return loud >= 20 })
	if st := call.Stats(); st.SRTPDropped != 0 {
		t.Fatalf("stats %+v", st)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	<-rec.ended
}

// An ACK without an answer, or with one we cannot use, ends the call with
// a BYE whose Reason says why; the handler never runs and nothing leaks.
func TestLateOfferBadAnswer(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	pcmu, _ := codec.Lookup("PCMU")
	for _, tc := range []struct {
		name   string
		policy SRTPPolicy
		answer []byte
		reason []string
	}{
		{"no sdp", SRTPOptional, nil, []string{"cause=400", "no SDP answer"}},
		{"garbage", SRTPOptional, []byte("not sdp\r\n"), []string{"cause=488", "malformed SDP"}},
		{"opus", SRTPOptional, sdpOffer("RTP/AVP", "111", "a=rtpmap:111 opus/48000/2"), []string{"cause=488", "no common codec"}},
		{"plain answer to savp", SRTPRequired, buildAnswer("127.0.0.1", 40000, 1, 1, pcmu, 0, media.SendRecv), []string{"cause=488", "RTP/SAVP offer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			srv, _ := startServer(t, rec, WithSRTP(tc.policy))
			c := newCaller(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d := lateInvite(ctx, t, c, srv)
			ackSDP(ctx, t, d, tc.answer)
			select {
			case bye := <-c.byes:
				h := bye.GetHeader("Reason")
				if h == nil {
					t.Fatalf("BYE without Reason:\n%s", bye)
				}
				for _, want := range tc.reason {
					if !strings.Contains(h.Value(), want) {
						t.Fatalf("Reason %q, want %q in it", h.Value(), want)
					}
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no BYE after an unusable answer")
			}
			waitFor(t, "cleanup", 5*time.Second, func() bool { return srv.ActiveCalls() == 0 && srv.PortsInUse() == 0 })
			if rec.calls != 0 {
				t.Fatal("handler ran without media")
			}
		})
	}
}
