package sip

import (
	"errors"
	"strings"
	"testing"

	"github.com/hotline-ivr/hotline/telephony/codec"
	"github.com/hotline-ivr/hotline/telephony/media"
)

func sdpOffer(proto, formats string, extra ...string) []byte {
	s := "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n" +
		"m=audio 4000 " + proto + " " + formats + "\r\n"
	for _, e := range extra {
		s += e + "\r\n"
	}
	return []byte(s)
}

func TestParseOffer(t *testing.T) {
	cases := []struct {
		name    string
		body    []byte
		codec   string
		dtmf    uint8
		dir     media.Direction
		wantErr bool
	}{
		{"g722 preferred", sdpOffer("RTP/AVP", "0 8 9 101", "a=rtpmap:101 telephone-event/8000", "a=rtpmap:9 G722/8000"), "G722", 101, media.SendRecv, false},
		{"pcmu static", sdpOffer("RTP/AVP", "8 0"), "PCMU", 0, media.SendRecv, false},
		{"pcma only", sdpOffer("RTP/AVP", "8 96", "a=rtpmap:96 telephone-event/8000", "a=sendonly"), "PCMA", 96, media.SendOnly, false},
		{"opus only", sdpOffer("RTP/AVP", "111", "a=rtpmap:111 opus/48000/2"), "", 0, "", true},
		{"dtls-srtp", sdpOffer("UDP/TLS/RTP/SAVP", "0"), "", 0, "", true},
		{"garbage", []byte("hello world"), "", 0, "", true},
		{"video only", []byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\n"), "", 0, "", true},
		{"hold 0.0.0.0", []byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"), "PCMU", 0, media.Inactive, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := parseOffer(c.body, codec.Preferred, "")
			if c.wantErr {
				if !errors.Is(err, ErrNotAcceptable) {
					t.Fatalf("err %v", err)
				}
				if code, _ := Status(err); code != 488 {
					t.Fatalf("status %d", code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.codec.Name != c.codec || o.dtmfPT != c.dtmf || o.dir != c.dir {
				t.Fatalf("got %+v", o)
			}
		})
	}
}

func TestBuildAnswerParses(t *testing.T) {
	g, _ := codec.Lookup("G722")
	b := buildAnswer("127.0.0.1", 20000, 1, 2, g, 101, media.RecvOnly)
	o, err := parseOffer(b, codec.Preferred, "")
	if err != nil {
		t.Fatal(err)
	}
	if o.codec.Name != "G722" || o.dtmfPT != 101 || o.remote.Port() != 20000 || o.dir != media.RecvOnly {
		t.Fatalf("%+v", o)
	}
	if !strings.Contains(string(b), "a=ptime:20") {
		t.Fatal(string(b))
	}
}

func FuzzParseOffer(f *testing.F) {
	f.Add(sdpOffer("RTP/AVP", "0 8 9 101", "a=rtpmap:101 telephone-event/8000"))
	f.Add([]byte("v=0\r\n"))
	f.Add(sdpOffer("RTP/SAVP", "9 101", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4"))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := parseOffer(b, codec.Preferred, "")
		if err != nil {
			return
		}
		for _, p := range []SRTPPolicy{SRTPOff, SRTPOptional, SRTPRequired} {
			k, _ := negotiateSRTP(o, p, false, nil)
			_, _ = negotiateSRTP(o, p, true, k)
		}
		offered, _ := offerCrypto()
		_, _ = answerSRTP(o, offered)
	})
}
