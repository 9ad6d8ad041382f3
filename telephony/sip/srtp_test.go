package sip

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/telephony/codec"
	"github.com/hotline-ivr/hotline/telephony/media"
)

func cryptoLine(tag int, suite media.Suite) string {
	c, err := media.NewCrypto(tag, suite)
	if err != nil {
		panic(err)
	}
	return "a=crypto:" + c.String()
}

func TestNegotiateSRTP(t *testing.T) {
	k80 := cryptoLine(3, media.AES_CM_128_HMAC_SHA1_80)
	k32 := cryptoLine(2, media.AES_CM_128_HMAC_SHA1_32)
	gcm := cryptoLine(4, media.AEAD_AES_128_GCM)
	badB64 := "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%%%notbase64%%%"
	short := "a=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:" + base64.StdEncoding.EncodeToString([]byte("0123456789"))
	mki := "a=crypto:6 AES_CM_128_HMAC_SHA1_80 inline:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 30)) + "|2^20|1:4"
	cases := []struct {
		name   string
		policy SRTPPolicy
		offer  []byte
		suite  media.Suite // "": plain RTP
		tag    int
		errHas string // non-empty: 488 whose message has this
	}{
		{"optional plain", SRTPOptional, sdpOffer("RTP/AVP", "0"), "", 0, ""},
		{"optional savp", SRTPOptional, sdpOffer("RTP/SAVP", "0", k80), media.AES_CM_128_HMAC_SHA1_80, 3, ""},
		{"optional savpf", SRTPOptional, sdpOffer("RTP/SAVPF", "0", k80), media.AES_CM_128_HMAC_SHA1_80, 3, ""},
		{"bad lines skipped", SRTPOptional, sdpOffer("RTP/SAVP", "0", badB64, k32, k80), media.AES_CM_128_HMAC_SHA1_80, 3, ""},
		{"our preference", SRTPOptional, sdpOffer("RTP/SAVP", "0", k32, gcm), media.AEAD_AES_128_GCM, 4, ""},
		{"only 32", SRTPOptional, sdpOffer("RTP/SAVP", "0", k32), media.AES_CM_128_HMAC_SHA1_32, 2, ""},
		{"savp without crypto", SRTPOptional, sdpOffer("RTP/SAVP", "0"), "", 0, "without a=crypto"},
		{"savp bad lines", SRTPOptional, sdpOffer("RTP/SAVP", "0", badB64, short, mki), "", 0, "no acceptable a=crypto line"},
		{"best effort avp", SRTPOptional, sdpOffer("RTP/AVP", "0", k80), media.AES_CM_128_HMAC_SHA1_80, 3, ""},
		{"best effort unusable", SRTPOptional, sdpOffer("RTP/AVP", "0", mki), "", 0, ""},
		{"required plain", SRTPRequired, sdpOffer("RTP/AVP", "0"), "", 0, "required"},
		{"required unusable", SRTPRequired, sdpOffer("RTP/AVP", "0", mki), "", 0, "MKI"},
		{"required savp", SRTPRequired, sdpOffer("RTP/SAVP", "0", k80), media.AES_CM_128_HMAC_SHA1_80, 3, ""},
		{"off savp", SRTPOff, sdpOffer("RTP/SAVP", "0", k80), "", 0, "SRTP is off"},
		{"off best effort", SRTPOff, sdpOffer("RTP/AVP", "0", k80), "", 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := parseOffer(c.offer, codec.Preferred, "")
			if err != nil {
				t.Fatal(err)
			}
			k, err := negotiateSRTP(o, c.policy, false, nil)
			if c.errHas != "" {
				if code, _ := Status(err); code != 488 || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("err %v (status %d), want 488 with %q", err, code, c.errHas)
				}
				// Keys never reach a log line or a Warning header.
				for _, line := range strings.Split(string(c.offer), "\r\n") {
					if _, key, ok := strings.Cut(line, "inline:"); ok && len(key) > 8 && strings.Contains(err.Error(), key[:8]) {
						t.Fatalf("error quotes a key: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.suite == "" {
				if k != nil {
					t.Fatalf("want plain RTP, got %+v", k)
				}
				return
			}
			if k == nil || k.local.Suite != c.suite || k.remote.Suite != c.suite || k.local.Tag != c.tag || k.local.SameKey(k.remote) {
				t.Fatalf("got %+v", k)
			}
			// The answer carries the proto offered, our line and no other.
			ans := buildSDP("127.0.0.1", 20000, 1, 1, sdpMedia{proto: o.proto, codecs: []codec.Info{o.codec}, dir: media.SendRecv,
				crypto: []media.Crypto{k.local}})
			a, err := parseOffer(ans, codec.Preferred, "")
			if err != nil || a.proto != o.proto || len(a.cryptos) != 1 {
				t.Fatalf("answer %v %+v\n%s", err, a, ans)
			}
			got, err := media.ParseCrypto(a.cryptos[0])
			if err != nil || !got.SameKey(k.local) || got.Tag != c.tag {
				t.Fatalf("answer's crypto %v %+v", err, got)
			}
		})
	}
}

func TestNegotiateSRTPReInvite(t *testing.T) {
	line := cryptoLine(1, media.AES_CM_128_HMAC_SHA1_80)
	o, _ := parseOffer(sdpOffer("RTP/SAVP", "0", line), codec.Preferred, "")
	first, err := negotiateSRTP(o, SRTPOptional, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Same key under another tag: both keys stay, the answer takes the tag.
	same, _ := parseOffer(sdpOffer("RTP/SAVP", "0", strings.Replace(line, "crypto:1 ", "crypto:7 ", 1)), codec.Preferred, "")
	k, err := negotiateSRTP(same, SRTPOptional, true, first)
	if err != nil || !k.local.SameKey(first.local) || k.local.Tag != 7 {
		t.Fatalf("unchanged key: %v %+v", err, k)
	}
	// A new key from the caller: ours is new too.
	rekey, _ := parseOffer(sdpOffer("RTP/SAVP", "0", cryptoLine(1, media.AES_CM_128_HMAC_SHA1_80)), codec.Preferred, "")
	k, err = negotiateSRTP(rekey, SRTPOptional, true, first)
	if err != nil || k.local.SameKey(first.local) || k.remote.SameKey(first.remote) {
		t.Fatalf("re-key: %v %+v", err, k)
	}
	// SRTP may not be switched off or on mid-call.
	plain, _ := parseOffer(sdpOffer("RTP/AVP", "0"), codec.Preferred, "")
	if _, err := negotiateSRTP(plain, SRTPOptional, true, first); err == nil || !strings.Contains(err.Error(), "off") {
		t.Fatalf("SRTP off mid-call: %v", err)
	}
	if _, err := negotiateSRTP(o, SRTPOptional, true, nil); err == nil || !strings.Contains(err.Error(), "on") {
		t.Fatalf("SRTP on mid-call: %v", err)
	}
}

func TestAnswerSRTP(t *testing.T) {
	offered, err := offerCrypto()
	if err != nil {
		t.Fatal(err)
	}
	if len(offered) != len(media.SRTPSuites) || offered[0].Suite != media.AES_CM_128_HMAC_SHA1_80 {
		t.Fatalf("offered %+v", offered)
	}
	peer, _ := media.NewCrypto(offered[1].Tag, offered[1].Suite)
	wrongSuite, _ := media.NewCrypto(offered[0].Tag, media.AES_CM_128_HMAC_SHA1_32)
	unknownTag, _ := media.NewCrypto(99, media.AES_CM_128_HMAC_SHA1_80)
	cases := []struct {
		name    string
		answer  []byte
		offered []media.Crypto
		errHas  string
	}{
		{"good", sdpOffer("RTP/SAVP", "9", "a=crypto:"+peer.String()), offered, ""},
		{"plain to plain", sdpOffer("RTP/AVP", "9"), nil, ""},
		{"savp to plain", sdpOffer("RTP/SAVP", "9", "a=crypto:"+peer.String()), nil, "plain RTP/AVP offer"},
		{"plain to savp", sdpOffer("RTP/AVP", "9"), offered, "RTP/SAVP offer"},
		{"no crypto", sdpOffer("RTP/SAVP", "9"), offered, "0 a=crypto"},
		{"two cryptos", sdpOffer("RTP/SAVP", "9", "a=crypto:"+peer.String(), "a=crypto:"+peer.String()), offered, "2 a=crypto"},
		{"wrong suite", sdpOffer("RTP/SAVP", "9", "a=crypto:"+wrongSuite.String()), offered, "we offered"},
		{"unknown tag", sdpOffer("RTP/SAVP", "9", "a=crypto:"+unknownTag.String()), offered, "not offered"},
		{"bad key", sdpOffer("RTP/SAVP", "9", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA"), offered, "needs 30"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := parseOffer(c.answer, codec.Preferred, "")
			if err != nil {
				t.Fatal(err)
			}
			k, err := answerSRTP(a, c.offered)
			if c.errHas != "" {
				if code, _ := Status(err); code != 488 || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("err %v, want 488 with %q", err, c.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.offered == nil {
				if k != nil {
					t.Fatalf("plain answer gave keys %+v", k)
				}
				return
			}
			if !k.local.SameKey(offered[1]) || !k.remote.SameKey(peer) {
				t.Fatalf("keys %+v", k)
			}
		})
	}
}

// srtpMedia is caller.media with SDES: the offer carries the caller's
// crypto lines (proto RTP/SAVP), and the session encrypts with the first
// line's key. Its receive key is set from the answer (useAnswer).
func (c *caller) srtpMedia(codecName, proto string, suites ...media.Suite) (*media.Session, []byte, []media.Crypto) {
	c.t.Helper()
	var cr []media.Crypto
	for i, s := range suites {
		k, err := media.NewCrypto(i+1, s)
		if err != nil {
			c.t.Fatal(err)
		}
		cr = append(cr, k)
	}
	cd, err := codec.New(codecName)
	if err != nil {
		c.t.Fatal(err)
	}
	r, rc, err := c.ports.Listen("127.0.0.1")
	if err != nil {
		c.t.Fatal(err)
	}
	// Until the answer names the server's key, receive with our own:
	// nothing the server sends authenticates yet.
	s, err := media.NewSession(media.Config{Codec: cd, DTMFPayloadType: 101, RTP: r, RTCP: rc,
		SRTP: &media.SRTP{Local: cr[0], Remote: cr[0]}})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { s.Close() })
	info, _ := codec.Lookup(codecName)
	body := buildSDP("127.0.0.1", s.LocalPort(), 42, 1, sdpMedia{proto: proto, codecs: []codec.Info{info}, dtmfPT: 101,
		dir: media.SendRecv, crypto: cr})
	return s, body, cr
}

// useAnswer points the caller's session at the server's answer and keys
// it with the server's crypto line; it returns the chosen keys.
func useAnswer(t *testing.T, s *media.Session, answer []byte, offered []media.Crypto) *sdes {
	t.Helper()
	a := remoteMedia(t, s, answer)
	k, err := answerSRTP(a, offered)
	if err != nil || k == nil {
		t.Fatalf("answer: %v\n%s", err, answer)
	}
	if err := s.SetSRTP(media.SRTP{Local: k.local, Remote: k.remote}); err != nil {
		t.Fatal(err)
	}
	return k
}

// hearTone waits until the caller's session has heard n loud frames.
func hearTone(t *testing.T, s *media.Session, n int, within time.Duration) {
	t.Helper()
	heard := 0
	deadline := time.Now().Add(within)
	for heard < n && time.Now().Before(deadline) {
		f, err := s.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if audio.RMSdBFS(f.Samples) > -30 {
			heard++
		}
	}
	if heard < n {
		t.Fatalf("caller heard %d loud frames, want %d (stats %+v)", heard, n, s.Stats())
	}
}

// An SRTP call: the caller offers RTP/SAVP with two suites, the server
// answers the preferred one with its own key, audio flows both ways
// encrypted; a re-INVITE with the same key keeps it, one with a new key
// re-keys both directions and the audio goes on.
func TestSRTPCall(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	rec := newRecorder()
	srv, _ := startServer(t, rec)
	c := newCaller(t)
	// The caller lists the 32-bit tag first; the server still picks
	// the suite it prefers (80, tag 2), and useAnswer keys the caller's
	// session with that line.
	sess, body, offered := c.srtpMedia("G722", "RTP/SAVP", media.AES_CM_128_HMAC_SHA1_32, media.AES_CM_128_HMAC_SHA1_80)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	d, err := c.invite(ctx, srv, "udp", body)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	ans := d.InviteResponse.Body()
	if !bytes.Contains(ans, []byte("RTP/SAVP 9 101")) || bytes.Count(ans, []byte("a=crypto:")) != 1 ||
		!bytes.Contains(ans, []byte("a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:")) {
		t.Fatalf("answer:\n%s", ans)
	}
	k := useAnswer(t, sess, ans, offered)
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	call := <-rec.started
	if call.SRTP() != string(media.AES_CM_128_HMAC_SHA1_80) {
		t.Fatalf("call SRTP %q", call.SRTP())
	}
	go func() {
		for _, f := range tone16k(150) {
			if sess.WriteFrame(f) != nil {
				return
			}
		}
	}()
	hearTone(t, sess, 20, 4*time.Second)
	waitFor(t, "bot hears the caller", 4*time.Second, func() bool { loud, _, _ := rec.snapshot(); return loud >= 20 })

	reinvite := func(cr media.Crypto) []byte {
		t.Helper()
		info, _ := codec.Lookup("G722")
		b := buildSDP("127.0.0.1", sess.LocalPort(), 42, 2, sdpMedia{proto: "RTP/SAVP", codecs: []codec.Info{info}, dtmfPT: 101,
			dir: media.SendRecv, crypto: []media.Crypto{cr}})
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
		if err := d.WriteRequest(sip.NewRequest(sip.ACK, d.InviteResponse.Contact().Address)); err != nil {
			t.Fatal(err)
		}
		return res.Body()
	}
	// Same key: the server keeps its key too.
	a2 := reinvite(k.local)
	k2 := useAnswer(t, sess, a2, []media.Crypto{k.local})
	if !k2.remote.SameKey(k.remote) {
		t.Fatal("server re-keyed on an unchanged offer")
	}
	// New key: the server answers with a new one of its own.
	fresh, _ := media.NewCrypto(5, media.AES_CM_128_HMAC_SHA1_80)
	if err := sess.SetSRTP(media.SRTP{Local: fresh, Remote: k.remote}); err != nil {
		t.Fatal(err)
	}
	a3 := reinvite(fresh)
	k3 := useAnswer(t, sess, a3, []media.Crypto{fresh})
	if k3.remote.SameKey(k.remote) || k3.local.Tag != 5 {
		t.Fatalf("server did not re-key: %+v", k3)
	}
	// Audio still authenticates both ways under the new keys.
	before, _, _ := rec.snapshot()
	rx := sess.Stats().PacketsReceived
	waitFor(t, "bot hears the caller after re-key", 4*time.Second, func() bool { loud, _, _ := rec.snapshot(); return loud >= before+10 })
	waitFor(t, "caller receives after re-key", 4*time.Second, func() bool { return sess.Stats().PacketsReceived >= rx+20 })
	st := call.Stats()
	if st.SRTPDropped > 5 { // a few packets in flight across the re-key
		t.Fatalf("server dropped %d SRTP packets", st.SRTPDropped)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	<-rec.ended
}

// The policy at the INVITE: required refuses plain offers, off refuses
// RTP/SAVP, both with 488 and a Warning saying why.
func TestSRTPPolicyRefusals(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	for _, tc := range []struct {
		policy SRTPPolicy
		savp   bool
		want   string
	}{
		{SRTPRequired, false, "sip.srtp: required"},
		{SRTPOff, true, "sip.srtp: off"},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			rec := newRecorder()
			srv, _ := startServer(t, rec, WithSRTP(tc.policy))
			c := newCaller(t)
			var body []byte
			if tc.savp {
				_, body, _ = c.srtpMedia("PCMU", "RTP/SAVP", media.AES_CM_128_HMAC_SHA1_80)
			} else {
				_, body = c.media("PCMU", 0, media.SendRecv)
			}
			res := inviteStatus(t, c, srv, body, sipgo.AnswerOptions{})
			if res.StatusCode != 488 {
				t.Fatalf("got %s, want 488", res.StartLine())
			}
			if w := res.GetHeader("Warning"); w == nil || !strings.Contains(w.Value(), tc.want) {
				t.Fatalf("Warning %v, want it to mention %q", w, tc.want)
			}
			if rec.calls != 0 || srv.PortsInUse() != 0 {
				t.Fatal("refused call reached the handler or kept ports")
			}
		})
	}
	if _, err := NewServer(newRecorder(), WithSRTP("sometimes")); err == nil {
		t.Fatal("bad policy accepted")
	}
}
