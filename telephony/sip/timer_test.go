package sip

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotline-ivr/hotline/telephony/codec"
	"github.com/hotline-ivr/hotline/telephony/media"
)

func hdr(name, value string) sip.Header { return sip.NewHeader(name, value) }

// hdrVal is the first value of a header, "" without one.
func hdrVal(m headerGetter, name string) string {
	if hs := m.GetHeaders(name); len(hs) > 0 {
		return hs[0].Value()
	}
	return ""
}

// timerInvite places a call with extra headers and returns the final
// response; a 2xx is acknowledged and its dialog returned.
func timerInvite(ctx context.Context, t *testing.T, c *caller, srv *Server, body []byte, hdrs ...sip.Header) (*sip.Response, *sipgo.DialogClientSession) {
	t.Helper()
	d, err := c.invite(ctx, srv, "udp", body, hdrs...)
	if err != nil {
		t.Fatal(err)
	}
	err = d.WaitAnswer(ctx, sipgo.AnswerOptions{})
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) {
		return de.Res, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	return d.InviteResponse, d
}

// callerRequest sends an in-dialog request from the caller (and the ACK
// of a re-INVITE's 2xx).
func callerRequest(ctx context.Context, t *testing.T, d *sipgo.DialogClientSession, method sip.RequestMethod, body []byte, hdrs ...sip.Header) *sip.Response {
	t.Helper()
	req := sip.NewRequest(method, d.InviteResponse.Contact().Address)
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	if body != nil {
		req.SetBody(body)
		req.AppendHeader(hdr("Content-Type", "application/sdp"))
	}
	res, err := d.Do(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	if method == sip.INVITE && res.IsSuccess() {
		if err := d.WriteRequest(sip.NewRequest(sip.ACK, d.InviteResponse.Contact().Address)); err != nil {
			t.Fatal(err)
		}
	}
	return res
}

func noBye(t *testing.T, c *caller) {
	t.Helper()
	select {
	case bye := <-c.byes:
		t.Fatalf("server hung up: %s", bye)
	default:
	}
}

// A caller that refreshes (re-INVITE with the unchanged offer, UPDATE
// without a body, UPDATE with an offer) keeps the call up past its
// session interval; every 2xx carries the interval back with the caller
// as refresher.
func TestSessionTimerRefreshKeepsCall(t *testing.T) {
	skipShort(t)
	for _, how := range []string{"reinvite", "update", "update_sdp"} {
		t.Run(how, func(t *testing.T) {
			checkGoroutines(t)
			rec := newRecorder()
			srv, _ := startServer(t, rec, WithMinSE(time.Second))
			c := newCaller(t)
			sess, body := c.media("PCMU", 101, media.SendRecv)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, d := timerInvite(ctx, t, c, srv, body, hdr("Session-Expires", "3;refresher=uac"),
				hdr("Supported", "timer"), hdr("Allow", "INVITE, ACK, BYE, UPDATE"))
			if res.StatusCode != 200 || hdrVal(res, "Session-Expires") != "3;refresher=uac" ||
				hdrVal(res, "Require") != "timer" || hdrVal(res, "Supported") != "timer" ||
				!strings.Contains(hdrVal(res, "Allow"), "UPDATE") {
				t.Fatalf("200 to a session timer INVITE:\n%s", res)
			}
			remoteMedia(t, sess, res.Body())
			call := <-rec.started
			pcmu, _ := codec.Lookup("PCMU")
			start := time.Now()
			for v := uint64(2); time.Since(start) < 5*time.Second; v++ {
				time.Sleep(time.Second)
				var r *sip.Response
				se := hdr("Session-Expires", "3;refresher=uac")
				switch how {
				case "reinvite":
					r = callerRequest(ctx, t, d, sip.INVITE, buildAnswer("127.0.0.1", sess.LocalPort(), 42, 1, pcmu, 101, media.SendRecv), se, hdr("Supported", "timer"))
				case "update":
					r = callerRequest(ctx, t, d, sip.UPDATE, nil, se, hdr("Supported", "timer"))
				case "update_sdp":
					r = callerRequest(ctx, t, d, sip.UPDATE, buildAnswer("127.0.0.1", sess.LocalPort(), 42, v, pcmu, 101, media.SendRecv), se, hdr("Supported", "timer"))
				}
				if r.StatusCode != 200 || hdrVal(r, "Session-Expires") != "3;refresher=uac" {
					t.Fatalf("refresh answered:\n%s", r)
				}
				if how != "update" {
					// The session did not change: neither does our SDP,
					// version included (RFC 3264 §8).
					if !bytes.Equal(r.Body(), res.Body()) {
						t.Fatalf("answer to an unchanged offer changed:\n%s\nwas\n%s", r.Body(), res.Body())
					}
				} else if len(r.Body()) != 0 {
					t.Fatalf("SDP in the answer to an UPDATE without one:\n%s", r.Body())
				}
			}
			noBye(t, c)
			if err := call.Err(); err != nil {
				t.Fatalf("call ended: %v", err)
			}
			if err := d.Bye(ctx); err != nil {
				t.Fatal(err)
			}
			waitEnded(t, rec)
			if _, _, cause := rec.snapshot(); !errors.Is(cause, ErrRemoteHangup) {
				t.Fatalf("cause %v", cause)
			}
		})
	}
}

// A caller that stops refreshing while it holds the call (no RTP, so the
// RTP timeout cannot tell) is hung up when the session expires: BYE with
// a Reason, and the call's cause says why.
func TestSessionTimerExpiresOnHold(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec, WithMinSE(time.Second))
	c := newCaller(t)
	sess, body := c.media("PCMU", 101, media.SendRecv)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	res, d := timerInvite(ctx, t, c, srv, body, hdr("Session-Expires", "3"), hdr("Supported", "timer"))
	if hdrVal(res, "Session-Expires") != "3;refresher=uac" {
		t.Fatalf("200:\n%s", res)
	}
	remoteMedia(t, sess, res.Body())
	<-rec.started
	pcmu, _ := codec.Lookup("PCMU")
	sess.SetDirection(media.RecvOnly)
	held := time.Now()
	if r := callerRequest(ctx, t, d, sip.INVITE, buildAnswer("127.0.0.1", sess.LocalPort(), 42, 2, pcmu, 101, media.SendOnly),
		hdr("Session-Expires", "3;refresher=uac"), hdr("Supported", "timer")); r.StatusCode != 200 {
		t.Fatalf("hold: %s", r.StartLine())
	}
	select {
	case bye := <-c.byes:
		after := time.Since(held)
		reason := hdrVal(bye, "Reason")
		if !strings.Contains(reason, "cause=408") || !strings.Contains(reason, "Session expired") {
			t.Fatalf("BYE Reason %q", reason)
		}
		// 3 s less a third: 2 s after the last refresh.
		if after < 1800*time.Millisecond || after > 3500*time.Millisecond {
			t.Fatalf("BYE %s after the last refresh, want about 2 s", after)
		}
	case <-time.After(6 * time.Second):
		t.Fatal("no BYE when the session expired")
	}
	waitEnded(t, rec)
	if _, _, cause := rec.snapshot(); !errors.Is(cause, ErrSessionExpired) {
		t.Fatalf("cause %v, want ErrSessionExpired", cause)
	}
}

// Intervals below our Min-SE: 422 with Min-SE to a caller that supports
// timers (INVITE, and a refresh, which leaves the call up), raised for
// one that does not; a malformed header is 400; with our own interval
// off a caller without Session-Expires gets none.
func TestSessionTimerNegotiation(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec, WithMinSE(2*time.Second), WithSessionExpires(0))
	c := newCaller(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, body := c.media("PCMU", 0, media.SendRecv)

	res, _ := timerInvite(ctx, t, c, srv, body, hdr("Session-Expires", "1;refresher=uac"), hdr("Supported", "timer"))
	if res.StatusCode != 422 || hdrVal(res, "Min-SE") != "2" {
		t.Fatalf("too small: %s Min-SE %q", res.StartLine(), hdrVal(res, "Min-SE"))
	}
	for _, bad := range []string{"soon", "-5", "99999999999999", ""} {
		res, _ = timerInvite(ctx, t, c, srv, body, hdr("Session-Expires", bad))
		if res.StatusCode != 400 {
			t.Fatalf("Session-Expires %q: %s", bad, res.StartLine())
		}
	}
	rec.mu.Lock()
	calls := rec.calls
	rec.mu.Unlock()
	if calls != 0 {
		t.Fatal("a refused INVITE reached the handler")
	}

	// No timer support: raised, and we refresh (compact form x).
	res, d := timerInvite(ctx, t, c, srv, body, hdr("x", "1"))
	if res.StatusCode != 200 || hdrVal(res, "Session-Expires") != "2;refresher=uas" || hdrVal(res, "Require") != "" {
		t.Fatalf("raised:\n%s", res)
	}
	<-rec.started
	// A refresh asking too little is refused; the call goes on.
	if r := callerRequest(ctx, t, d, sip.UPDATE, nil, hdr("Session-Expires", "1"), hdr("k", "timer")); r.StatusCode != 422 || hdrVal(r, "Min-SE") != "2" {
		t.Fatalf("refresh too small: %s", r.StartLine())
	}
	noBye(t, c)
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitEnded(t, rec)

	// Our own interval off: none asked for.
	res, d = timerInvite(ctx, t, c, srv, body, hdr("Supported", "timer"))
	if res.StatusCode != 200 || hdrVal(res, "Session-Expires") != "" || hdrVal(res, "Supported") != "timer" {
		t.Fatalf("without timers:\n%s", res)
	}
	<-rec.started
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitEnded(t, rec)
}

// We are the refresher when the caller asks (refresher=uas) or does not
// support timers at all: an UPDATE when its INVITE allows UPDATE, else a
// re-INVITE offering the unchanged session (the very SDP of our 200),
// each before the session would expire. A refresh answered 481 ends the
// call at once.
func TestSessionTimerWeRefresh(t *testing.T) {
	skipShort(t)
	for _, tc := range []struct {
		name    string
		hdrs    []sip.Header
		want200 string
		method  sip.RequestMethod
		answer  int
	}{
		{"uas asked, UPDATE", []sip.Header{hdr("Session-Expires", "3;refresher=uas"), hdr("Supported", "timer"),
			hdr("Allow", "INVITE, ACK, BYE, CANCEL, UPDATE")}, "3;refresher=uas", sip.UPDATE, 200},
		{"no timer support, re-INVITE", nil, "3;refresher=uas", sip.INVITE, 200},
		{"refresh answered 481", []sip.Header{hdr("Session-Expires", "3;refresher=uas"), hdr("Supported", "timer"),
			hdr("Allow", "UPDATE")}, "3;refresher=uas", sip.UPDATE, 481},
		// Allow says UPDATE, the UA refuses it: re-INVITE at once and on.
		{"UPDATE refused 405", []sip.Header{hdr("Session-Expires", "3;refresher=uas"), hdr("Supported", "timer"),
			hdr("Allow", "INVITE, UPDATE")}, "3;refresher=uas", sip.INVITE, 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			rec := newRecorder()
			srv, _ := startServer(t, rec, WithMinSE(time.Second), WithSessionExpires(3*time.Second))
			c := newCaller(t)
			sess, body := c.media("PCMU", 101, media.SendRecv)
			refreshes := make(chan *sip.Request, 16)
			answer := func(req *sip.Request, tx sip.ServerTransaction) {
				refreshes <- req
				var res *sip.Response
				if tc.answer == 481 {
					res = sip.NewResponseFromRequest(req, tc.answer, "Call Leg Does Not Exist", nil)
				} else if tc.answer == 405 && req.Method == sip.UPDATE {
					res = sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
				} else if req.Method == sip.INVITE {
					pcmu, _ := codec.Lookup("PCMU")
					res = sip.NewSDPResponseFromRequest(req, buildAnswer("127.0.0.1", sess.LocalPort(), 42, 1, pcmu, 101, media.SendRecv))
				} else {
					res = sip.NewResponseFromRequest(req, 200, "OK", nil)
					res.AppendHeader(hdr("Session-Expires", "3;refresher=uac"))
				}
				_ = tx.Respond(res)
			}
			c.onInvite, c.onUpdate = answer, answer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, d := timerInvite(ctx, t, c, srv, body, tc.hdrs...)
			if res.StatusCode != 200 || hdrVal(res, "Session-Expires") != tc.want200 {
				t.Fatalf("200:\n%s", res)
			}
			remoteMedia(t, sess, res.Body())
			call := <-rec.started
			if tc.answer == 405 {
				select {
				case req := <-refreshes:
					if req.Method != sip.UPDATE {
						t.Fatalf("first refresh %s, want UPDATE", req.Method)
					}
				case <-time.After(3 * time.Second):
					t.Fatal("no refresh")
				}
			}
			if tc.answer == 481 {
				select {
				case <-refreshes:
				case <-time.After(3 * time.Second):
					t.Fatal("no refresh")
				}
				select {
				case bye := <-c.byes:
					if !strings.Contains(hdrVal(bye, "Reason"), "481") {
						t.Fatalf("BYE Reason %q", hdrVal(bye, "Reason"))
					}
				case <-time.After(3 * time.Second):
					t.Fatal("no BYE after a refresh answered 481")
				}
				waitEnded(t, rec)
				if _, _, cause := rec.snapshot(); !errors.Is(cause, ErrSessionExpired) {
					t.Fatalf("cause %v", cause)
				}
				return
			}
			start := time.Now()
			var got []time.Duration
			for len(got) < 3 {
				select {
				case req := <-refreshes:
					got = append(got, time.Since(start))
					if req.Method != tc.method || hdrVal(req, "Session-Expires") != "3;refresher=uac" || hdrVal(req, "Supported") != "timer" {
						t.Fatalf("refresh:\n%s", req)
					}
					if tc.method == sip.INVITE && !bytes.Equal(req.Body(), res.Body()) {
						t.Fatalf("refresh offer is not our unchanged SDP:\n%s\nwas\n%s", req.Body(), res.Body())
					}
				case <-time.After(3 * time.Second):
					t.Fatalf("refreshes after %v, then none", got)
				}
			}
			// Every half interval: about 1.5 s apart.
			if gap := got[2] - got[1]; gap < time.Second || gap > 2*time.Second {
				t.Fatalf("refreshes at %v", got)
			}
			if tc.method == sip.INVITE {
				// The 2xx is acknowledged; and a message reaching a
				// closing sipgo UA would leave a connection behind.
				for range got {
					select {
					case <-c.acks:
					case <-time.After(2 * time.Second):
						t.Fatal("our 200 to a refresh re-INVITE was not acknowledged")
					}
				}
			}
			noBye(t, c)
			if err := call.Err(); err != nil {
				t.Fatalf("call ended: %v", err)
			}
			if err := d.Bye(ctx); err != nil {
				t.Fatal(err)
			}
			waitEnded(t, rec)
		})
	}
}

func TestReadTimer(t *testing.T) {
	for _, tc := range []struct {
		hdrs []sip.Header
		want timerRequest
		err  bool
	}{
		{nil, timerRequest{}, false},
		{[]sip.Header{hdr("Session-Expires", "1800;refresher=UAS"), hdr("Supported", "100rel, Timer")},
			timerRequest{supported: true, expires: 1800 * time.Second, refresher: "uas"}, false},
		{[]sip.Header{hdr("x", " 90 ; refresher = uac ;foo"), hdr("Min-SE", "120"), hdr("Require", "timer")},
			timerRequest{supported: true, expires: 90 * time.Second, refresher: "uac", minSE: 120 * time.Second}, false},
		{[]sip.Header{hdr("Session-Expires", "90;refresher=proxy")}, timerRequest{expires: 90 * time.Second}, false},
		{[]sip.Header{hdr("Session-Expires", "4294967295")}, timerRequest{expires: 4294967295 * time.Second}, false},
		{[]sip.Header{hdr("Session-Expires", "4294967296")}, timerRequest{}, true},
		{[]sip.Header{hdr("Session-Expires", "1e3")}, timerRequest{}, true},
		{[]sip.Header{hdr("Min-SE", "ninety")}, timerRequest{}, true},
	} {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Host: "x"})
		for _, h := range tc.hdrs {
			req.AppendHeader(h)
		}
		got, err := readTimer(req)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("%v: %+v %v, want %+v", tc.hdrs, got, err, tc.want)
		}
		if err != nil && !errors.Is(err, ErrBadRequest) {
			t.Errorf("%v: %v is not ErrBadRequest", tc.hdrs, err)
		}
	}
}

func TestNegotiateTimer(t *testing.T) {
	s := &Server{sessionExpires: 1800 * time.Second, minSE: 90 * time.Second}
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	for _, tc := range []struct {
		r    timerRequest
		cur  time.Duration
		want sessionTimer
		err  error
	}{
		{timerRequest{supported: true, expires: sec(600)}, 0, sessionTimer{interval: sec(600), peer: true}, nil},
		{timerRequest{supported: true, expires: sec(600), refresher: "uas"}, 0, sessionTimer{interval: sec(600), weRefresh: true, peer: true}, nil},
		{timerRequest{expires: sec(600), refresher: "uac"}, 0, sessionTimer{interval: sec(600), weRefresh: true}, nil},
		{timerRequest{supported: true, expires: sec(60)}, 0, sessionTimer{}, ErrIntervalTooSmall},
		{timerRequest{expires: sec(60), minSE: sec(120)}, 0, sessionTimer{interval: sec(120), weRefresh: true}, nil},
		{timerRequest{supported: true}, 0, sessionTimer{interval: sec(1800), peer: true}, nil},
		{timerRequest{}, 0, sessionTimer{interval: sec(1800), weRefresh: true}, nil},
		{timerRequest{supported: true, minSE: sec(3600)}, 0, sessionTimer{interval: sec(3600), peer: true}, nil},
		{timerRequest{supported: true}, sec(300), sessionTimer{interval: sec(300), peer: true}, nil},
	} {
		got, err := s.negotiateTimer(tc.r, tc.cur)
		if !errors.Is(err, tc.err) || (err == nil && got != tc.want) {
			t.Errorf("%+v cur %s: %+v %v, want %+v %v", tc.r, tc.cur, got, err, tc.want, tc.err)
		}
	}
	s.sessionExpires = 0
	if got, _ := s.negotiateTimer(timerRequest{supported: true}, 0); got.interval != 0 {
		t.Errorf("session expires off: %+v", got)
	}
	if got, _ := s.negotiateTimer(timerRequest{supported: true, expires: sec(100)}, 0); got.interval != sec(100) {
		t.Errorf("session expires off, the caller's honoured: %+v", got)
	}
}

// Whatever a peer puts in the timer headers, reading and negotiating them
// neither panics nor yields an interval below our Min-SE.
func FuzzReadTimer(f *testing.F) {
	f.Add("1800;refresher=uac", "90", "timer")
	f.Add(" 90 ; refresher ; =uas;;", "", "100rel, timer")
	f.Add("4294967295", "4294967295", "")
	f.Add("", "-1", ",,")
	f.Fuzz(func(t *testing.T, se, minSE, supported string) {
		req := sip.NewRequest(sip.UPDATE, sip.Uri{Host: "x"})
		req.AppendHeader(hdr("Session-Expires", se))
		req.AppendHeader(hdr("Min-SE", minSE))
		req.AppendHeader(hdr("Supported", supported))
		r, err := readTimer(req)
		if err != nil {
			return
		}
		s := &Server{sessionExpires: 1800 * time.Second, minSE: 90 * time.Second}
		for _, cur := range []time.Duration{0, 120 * time.Second} {
			tm, err := s.negotiateTimer(r, cur)
			if err == nil && tm.interval != 0 && tm.interval < s.minSE {
				t.Fatalf("%q %q %q: interval %s below Min-SE", se, minSE, supported, tm.interval)
			}
			_ = tm.headers()
		}
	})
}
