package webrtc

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4/pkg/media"
)

func mediaSample(b []byte) media.Sample {
	return media.Sample{Data: b, Duration: 20 * time.Millisecond}
}

func TestTokens(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s, err := New(HandlerFunc(nil), WithTokenSecret([]byte("0123456789abcdef")), WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := New(HandlerFunc(nil), WithTokenSecret([]byte("fedcba9876543210")))
	tok, err := s.IssueToken("app-42")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := s.parseToken(tok.Token, false)
	if err != nil || cl.Subject != "app-42" || cl.CallID != tok.CallID {
		t.Fatalf("parse: %+v %v", cl, err)
	}
	if _, err := other.parseToken(tok.Token, false); !errors.Is(err, ErrBadToken) {
		t.Errorf("other key: %v", err)
	}
	body, sig, _ := cutLast(tok.Token, ".")
	for _, bad := range []string{"", "x", "hct1.", body, body + ".", "hct1.e30." + sig, strings.Replace(tok.Token, "hct1", "hct2", 1)} {
		if _, err := s.parseToken(bad, false); !errors.Is(err, ErrBadToken) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	now = now.Add(5 * time.Minute)
	if _, err := s.parseToken(tok.Token, false); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("expired: %v", err)
	}
	if _, err := s.parseToken(tok.Token, true); err != nil {
		t.Errorf("expired but allowed: %v", err)
	}
	if _, err := s.IssueToken(""); err == nil {
		t.Error("empty subject accepted")
	}
}

func TestTURNCredentials(t *testing.T) {
	s, _ := New(HandlerFunc(nil), WithTURNSecret("coturn-secret", "turn:turn.example.org:3478"),
		WithICEServers(ICEServer{URLs: []string{"stun:stun.example.org:3478"}}))
	tok, _ := s.IssueToken("u1")
	if len(tok.ICEServers) != 2 || tok.ICEServers[1].Credential == "" || !strings.HasSuffix(tok.ICEServers[1].Username, ":u1") {
		t.Fatalf("%+v", tok.ICEServers)
	}
}

func TestChooseCodec(t *testing.T) {
	head := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	for _, tc := range []struct {
		sdp, want string
		err       error
	}{
		{head + "m=audio 9 UDP/TLS/RTP/SAVPF 0 111\r\na=rtpmap:111 opus/48000/2\r\n", "opus", nil},
		{head + "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n", "PCMU", nil},
		{head + "m=audio 9 UDP/TLS/RTP/SAVPF 9\r\na=rtpmap:9 G722/8000\r\n", "", ErrNoAudio},
		{head + "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n", "", ErrNoAudio},
		{head + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n", "", ErrNoAudio},
		{"garbage", "", ErrMalformedSDP},
	} {
		got, err := chooseCodec(tc.sdp)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%q: %q %v", tc.sdp, got, err)
		}
	}
}

func TestBucket(t *testing.T) {
	b := bucket{rate: 10, burst: 5}
	now := time.Unix(0, 0)
	n := 0
	for range 100 {
		if b.allow(now) {
			n++
		}
	}
	if n != 5 {
		t.Fatalf("burst allowed %d", n)
	}
	if !b.allow(now.Add(100 * time.Millisecond)) {
		t.Fatal("refill")
	}
}

func TestStatus(t *testing.T) {
	for err, want := range map[error]int{ErrBadToken: 401, ErrTokenExpired: 401, ErrTokenReused: 409,
		ErrMalformedSDP: 400, ErrNoAudio: 422, ErrTooManyCalls: 503, ErrUnknownCall: 404, errors.New("x"): 500} {
		if got, _ := Status(err); got != want {
			t.Errorf("%v: %d", err, got)
		}
	}
}
