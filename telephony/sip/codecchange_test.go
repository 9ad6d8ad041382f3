package sip

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/telephony/codec"
	"github.com/hotline-ivr/hotline/telephony/media"
)

// A re-offer keeps the call's codec while it is offered (our preference
// applies to new calls only) and otherwise moves to our best codec of the
// offer.
func TestParseReOffer(t *testing.T) {
	for _, c := range []struct {
		name, keep string
		body       []byte
		want       string
		dtmf       uint8
	}{
		{"current still offered", "PCMU", sdpOffer("RTP/AVP", "9 0 101", "a=rtpmap:101 telephone-event/8000"), "PCMU", 101},
		{"current gone", "G722", sdpOffer("RTP/AVP", "8 0"), "PCMU", 0},
		{"only pcma", "G722", sdpOffer("RTP/AVP", "8 96", "a=rtpmap:96 telephone-event/8000"), "PCMA", 96},
	} {
		o, err := parseOffer(c.body, codec.Preferred, c.keep)
		if err != nil || o.codec.Name != c.want || o.dtmfPT != c.dtmf {
			t.Errorf("%s: %+v %v, want %s dtmf %d", c.name, o, err, c.want, c.dtmf)
		}
	}
	if _, err := parseOffer(sdpOffer("RTP/AVP", "111", "a=rtpmap:111 opus/48000/2"), codec.Preferred, "G722"); !errors.Is(err, ErrNotAcceptable) {
		t.Errorf("no codec of ours: %v", err)
	}
	if _, err := parseOffer(sdpOffer("RTP/AVP", "8"), []string{"G722", "PCMU"}, "G722"); !errors.Is(err, ErrNotAcceptable) {
		t.Errorf("a codec we do not have configured: %v", err)
	}
}

// A PBX re-anchors a G.722 call on PCMU: the re-INVITE offering only
// PCMU is answered with PCMU, the caller switches its own session, and the
// tone goes on both ways while the call's PCM rate stays 16 kHz.
func TestReInviteCodecChange(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	rec := newRecorder()
	play := make(chan struct{})
	rec.act = func(ctx context.Context, c *Call) error {
		select {
		case <-play:
		case <-ctx.Done():
			return nil
		}
		var ph float64
		for range 100 { // 2 s of 440 Hz at the call's rate
			s := make([]int16, 320)
			for i := range s {
				s[i] = int16(8000 * math.Sin(ph))
				ph += 2 * math.Pi * 440 / 16000
			}
			if c.WriteFrame(audio.Frame{Rate: 16000, Samples: s}) != nil {
				return nil
			}
		}
		return nil
	}
	srv, _ := startServer(t, rec)
	c := newCaller(t)
	sess, body := c.media("G722", 101, media.SendRecv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, d := timerInvite(ctx, t, c, srv, body)
	if a := remoteMedia(t, sess, res.Body()); a.codec.Name != "G722" {
		t.Fatalf("answered %s", a.codec.Name)
	}
	call := <-rec.started
	if call.Codec() != "G722" || call.SampleRate() != 16000 {
		t.Fatalf("call %s at %d Hz", call.Codec(), call.SampleRate())
	}
	hearTone(t, sess, 20, 4*time.Second) // the recorder's opening second

	pcmu, _ := codec.Lookup("PCMU")
	r := callerRequest(ctx, t, d, "INVITE", buildAnswer("127.0.0.1", sess.LocalPort(), 42, 2, pcmu, 101, media.SendRecv))
	if r.StatusCode != 200 {
		t.Fatalf("re-INVITE: %s", r.StartLine())
	}
	a, err := parseOffer(r.Body(), nil, "PCMU")
	if err != nil || a.codec.Name != "PCMU" || a.dtmfPT != 101 {
		t.Fatalf("answer %+v %v:\n%s", a, err, r.Body())
	}
	cd, _ := codec.New("PCMU")
	if err := sess.SetCodec(cd, 101); err != nil {
		t.Fatal(err)
	}
	if call.Codec() != "PCMU" || call.SampleRate() != 16000 {
		t.Fatalf("after the re-INVITE: %s at %d Hz", call.Codec(), call.SampleRate())
	}
	// The opening tone is over: what the caller hears now is the bot
	// playing through PCMU.
	waitQuiet(t, sess)
	close(play)
	hearTone(t, sess, 30, 4*time.Second)

	loud0, _, _ := rec.snapshot()
	go func() {
		for _, f := range tone16k(60) {
			if sess.WriteFrame(f) != nil {
				return
			}
		}
	}()
	waitFor(t, "bot hears the caller through PCMU", 5*time.Second, func() bool {
		loud, _, _ := rec.snapshot()
		return loud-loud0 >= 30
	})
	if err := sess.SendDTMF('8', 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "digit", 3*time.Second, func() bool { _, digits, _ := rec.snapshot(); return digits == "8" })
	if st := call.Stats(); st.PacketsReceived < 50 {
		t.Fatalf("stats %+v", st)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitEnded(t, rec)
}

// waitQuiet reads the caller's audio until ten frames in a row are quiet.
func waitQuiet(t *testing.T, s *media.Session) {
	t.Helper()
	deadline := time.Now().Add(4 * time.Second)
	for quiet := 0; quiet < 10; {
		if time.Now().After(deadline) {
			t.Fatal("the bot's audio did not stop")
		}
		f, err := s.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if audio.RMSdBFS(f.Samples) > -30 {
			quiet = 0
		} else {
			quiet++
		}
	}
}
