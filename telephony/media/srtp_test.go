package media

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/telephony/codec"
)

func TestParseCrypto(t *testing.T) {
	key30 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 30))
	key28 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 28)) // padded: ends in "="
	key46 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 46))
	cases := []struct {
		name  string
		line  string
		tag   int
		suite Suite
		err   error // nil: accepted
		why   string
	}{
		{"80", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30, 1, AES_CM_128_HMAC_SHA1_80, nil, ""},
		{"32", "2 AES_CM_128_HMAC_SHA1_32 inline:" + key30, 2, AES_CM_128_HMAC_SHA1_32, nil, ""},
		{"gcm padded", "3 AEAD_AES_128_GCM inline:" + key28, 3, AEAD_AES_128_GCM, nil, ""},
		{"gcm unpadded", "3 AEAD_AES_128_GCM inline:" + strings.TrimRight(key28, "="), 3, AEAD_AES_128_GCM, nil, ""},
		{"256", "4 AES_256_CM_HMAC_SHA1_80 inline:" + key46, 4, AES_256_CM_HMAC_SHA1_80, nil, ""},
		{"lifetime power", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^31", 1, AES_CM_128_HMAC_SHA1_80, nil, ""},
		{"lifetime decimal", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1048576", 1, AES_CM_128_HMAC_SHA1_80, nil, ""},
		{"window hint", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " WSH=64", 1, AES_CM_128_HMAC_SHA1_80, nil, ""},
		{"big tag", "123456789 AES_CM_128_HMAC_SHA1_80 inline:" + key30, 123456789, AES_CM_128_HMAC_SHA1_80, nil, ""},

		{"bad base64", "1 AES_CM_128_HMAC_SHA1_80 inline:not*base64!!", 0, "", ErrBadCrypto, "base64"},
		{"base64 url alphabet", "1 AES_CM_128_HMAC_SHA1_80 inline:" + strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 30))), 0, "", ErrBadCrypto, "base64"},
		{"short key", "1 AES_CM_128_HMAC_SHA1_80 inline:" + base64.StdEncoding.EncodeToString(make([]byte, 16)), 0, "", ErrBadCrypto, "16 bytes"},
		{"gcm key for cm suite", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key28, 0, "", ErrBadCrypto, "needs 30"},
		{"unknown suite", "1 F8_128_HMAC_SHA1_80 inline:" + key30, 0, "", ErrUnsupportedCrypto, "unknown suite"},
		{"mki", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20|1:4", 0, "", ErrUnsupportedCrypto, "MKI"},
		{"mki without lifetime", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:4", 0, "", ErrUnsupportedCrypto, "MKI"},
		{"short lifetime", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^10", 0, "", ErrUnsupportedCrypto, "lifetime"},
		{"bad lifetime", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^x", 0, "", ErrBadCrypto, "lifetime"},
		{"zero lifetime", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|0", 0, "", ErrBadCrypto, "lifetime"},
		{"two keys", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + ";inline:" + key30, 0, "", ErrUnsupportedCrypto, "several"},
		{"unencrypted", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " UNENCRYPTED_SRTP", 0, "", ErrUnsupportedCrypto, "weaken"},
		{"kdr", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " KDR=1", 0, "", ErrUnsupportedCrypto, "KDR"},
		{"no inline", "1 AES_CM_128_HMAC_SHA1_80 uri:" + key30, 0, "", ErrBadCrypto, "inline"},
		{"bad tag", "x AES_CM_128_HMAC_SHA1_80 inline:" + key30, 0, "", ErrBadCrypto, "tag"},
		{"long tag", "1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + key30, 0, "", ErrBadCrypto, "tag"},
		{"too few fields", "1 AES_CM_128_HMAC_SHA1_80", 0, "", ErrBadCrypto, "want"},
		{"empty", "", 0, "", ErrBadCrypto, "want"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseCrypto(c.line)
			if c.err != nil {
				if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.why) {
					t.Fatalf("ParseCrypto(%q) = %v, want %v mentioning %q", c.line, err, c.err, c.why)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Tag != c.tag || got.Suite != c.suite || len(got.Key) != suites[c.suite].keyLen {
				t.Fatalf("got %+v", got)
			}
		})
	}
}

func TestCryptoRoundTrip(t *testing.T) {
	for _, s := range SRTPSuites {
		a, err := NewCrypto(5, s)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := NewCrypto(5, s)
		if a.SameKey(b) {
			t.Fatalf("%s: two fresh keys are equal", s)
		}
		got, err := ParseCrypto(a.String())
		if err != nil {
			t.Fatalf("%s: %q: %v", s, a.String(), err)
		}
		if got.Tag != 5 || !got.SameKey(a) {
			t.Fatalf("%s: round trip %+v != %+v", s, got, a)
		}
	}
	if _, err := NewCrypto(1, "NULL_HMAC_SHA1_80"); !errors.Is(err, ErrUnsupportedCrypto) {
		t.Fatal(err)
	}
}

func FuzzParseCrypto(f *testing.F) {
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + base64.StdEncoding.EncodeToString(make([]byte, 30)) + "|2^20|1:4 WSH=1")
	f.Fuzz(func(t *testing.T, s string) { _, _ = ParseCrypto(s) })
}

// srtpPair is pair with SRTP keys: a sends with ka, b with kb; each
// decrypts with the other's key unless bRemote overrides what b expects.
func srtpPair(t *testing.T, suite Suite, bRemote *Crypto) (*Session, *Session) {
	t.Helper()
	ka, _ := NewCrypto(1, suite)
	kb, _ := NewCrypto(1, suite)
	alloc, err := NewPortAllocator(31100, 31199)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(k SRTP) *Session {
		c, _ := codec.New("PCMU")
		r, rc, err := alloc.Listen("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewSession(Config{Codec: c, RTP: r, RTCP: rc, RTCPInterval: 100 * time.Millisecond, SRTP: &k})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	remote := ka
	if bRemote != nil {
		remote = *bRemote
	}
	a, b := mk(SRTP{Local: ka, Remote: kb}), mk(SRTP{Local: kb, Remote: remote})
	lo := netip.MustParseAddr("127.0.0.1")
	a.SetRemote(netip.AddrPortFrom(lo, uint16(b.LocalPort())))
	b.SetRemote(netip.AddrPortFrom(lo, uint16(a.LocalPort())))
	t.Cleanup(func() {
		a.Close()
		b.Close()
		alloc.Release(a.LocalPort())
		alloc.Release(b.LocalPort())
	})
	return a, b
}

func playTone(s *Session, frames int) {
	for i := range frames {
		f := make([]int16, 160)
		for j := range f {
			f[j] = int16(8000 * math.Sin(2*math.Pi*440*float64(i*160+j)/8000))
		}
		if s.WriteFrame(audio.Frame{Rate: 8000, Samples: f}) != nil {
			return
		}
	}
}

// loudFrames reads n frames (20 ms each, real time) and counts loud ones.
func loudFrames(t *testing.T, s *Session, n int) int {
	t.Helper()
	loud := 0
	for range n {
		f, err := s.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if audio.RMSdBFS(f.Samples) > -25 {
			loud++
		}
	}
	return loud
}

// Two sessions talking SRTP over loopback: audio gets through both ways,
// RTCP too (the sender report's counts arrive), nothing is dropped.
func TestSessionSRTP(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time media test")
	}
	checkGoroutines(t)
	for _, suite := range []Suite{AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM} {
		t.Run(string(suite), func(t *testing.T) {
			a, b := srtpPair(t, suite, nil)
			if a.SRTPSuite() != suite {
				t.Fatalf("suite %q", a.SRTPSuite())
			}
			go playTone(a, 50)
			go playTone(b, 50)
			if loud := loudFrames(t, b, 60); loud < 30 {
				t.Fatalf("b heard %d loud frames, stats %+v", loud, b.Stats())
			}
			if loud := loudFrames(t, a, 10); loud < 5 {
				t.Fatalf("a heard %d loud frames, stats %+v", loud, a.Stats())
			}
			time.Sleep(250 * time.Millisecond) // an SRTCP report each way
			for _, s := range []*Session{a, b} {
				st := s.Stats()
				if st.SRTPDropped != 0 || st.PacketsReceived < 40 {
					t.Fatalf("stats %+v", st)
				}
			}
			if st := b.Stats(); st.RemoteJitter == 0 && st.RemoteFractionLost == 0 {
				// The receiver report from a reached b only if SRTCP
				// decrypted: its jitter is rarely exactly zero, but
				// check the report arrived through lastSR instead.
				b.mu.Lock()
				gotSR := !b.lastSRAt.IsZero()
				b.mu.Unlock()
				if !gotSR {
					t.Fatal("no SRTCP sender report decrypted")
				}
			}
		})
	}
}

// A receiver with the wrong key decodes nothing: every packet fails
// authentication and is counted, none reaches the jitter buffer.
func TestSessionSRTPWrongKey(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time media test")
	}
	checkGoroutines(t)
	wrong, _ := NewCrypto(1, AES_CM_128_HMAC_SHA1_80)
	a, b := srtpPair(t, AES_CM_128_HMAC_SHA1_80, &wrong)
	go playTone(a, 25)
	if loud := loudFrames(t, b, 40); loud != 0 {
		t.Fatalf("wrong key: %d loud frames decoded", loud)
	}
	st := b.Stats()
	if st.PacketsReceived != 0 || st.SRTPDropped < 20 {
		t.Fatalf("stats %+v", st)
	}
}

// A raw sender with the right key gets through; the same packets with a
// flipped bit, or sent a second time, are dropped and counted.
func TestSessionSRTPTamperAndReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time media test")
	}
	checkGoroutines(t)
	peerKey, _ := NewCrypto(1, AES_CM_128_HMAC_SHA1_80)
	ourKey, _ := NewCrypto(1, AES_CM_128_HMAC_SHA1_80)
	alloc, _ := NewPortAllocator(31200, 31299)
	r, rc, err := alloc.Listen("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cd, _ := codec.New("PCMU")
	sess, err := NewSession(Config{Codec: cd, RTP: r, RTCP: rc, SRTP: &SRTP{Local: ourKey, Remote: peerKey}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { sess.Close(); alloc.Release(sess.LocalPort()) }()
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	// The peer encrypts with its key, as its own session would.
	tx, err := newSRTPState(SRTP{Local: peerKey, Remote: ourKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sess.LocalPort()}
	pcmu, _ := codec.New("PCMU")
	defer pcmu.Close()
	packet := func(i int) []byte {
		f := make([]int16, 160)
		for j := range f {
			f[j] = int16(8000 * math.Sin(2*math.Pi*440*float64(i*160+j)/8000))
		}
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(1000 + i),
			Timestamp: uint32(i * 160), SSRC: 0xdecafbad}, Payload: pcmu.Encode(nil, audio.Frame{Rate: 8000, Samples: f})}
		b, _ := p.Marshal()
		out, err := tx.encryptRTP(b)
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte(nil), out...)
	}
	var sent [][]byte
	for i := range 40 {
		sent = append(sent, packet(i))
	}
	go func() {
		for _, p := range sent {
			_, _ = peer.WriteToUDP(p, dst)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	if loud := loudFrames(t, sess, 50); loud < 20 {
		t.Fatalf("right key: %d loud frames, stats %+v", loud, sess.Stats())
	}
	waitStats := func(what string, ok func(Stats) bool) Stats {
		t.Helper()
		deadline := time.Now().Add(2 * time.Second)
		for {
			st := sess.Stats()
			if ok(st) {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: stats %+v", what, st)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	base := waitStats("all received", func(s Stats) bool { return s.PacketsReceived == 40 })
	if base.SRTPDropped != 0 {
		t.Fatalf("dropped %d good packets", base.SRTPDropped)
	}
	// Tampered: a flipped payload bit, a flipped header bit, a cut tag.
	next := packet(41)
	flipPayload := append([]byte(nil), next...)
	flipPayload[20] ^= 1
	flipHeader := append([]byte(nil), next...)
	flipHeader[1] ^= 0x7f // payload type
	cut := next[:len(next)-3]
	for _, p := range [][]byte{flipPayload, flipHeader, cut, {0x80}, sent[5]} { // last: a replay
		_, _ = peer.WriteToUDP(p, dst)
	}
	st := waitStats("tampered and replayed dropped", func(s Stats) bool { return s.SRTPDropped == 5 })
	if st.PacketsReceived != base.PacketsReceived {
		t.Fatalf("a tampered or replayed packet got through: %+v", st)
	}
	// The untouched packet still passes: nothing was poisoned.
	_, _ = peer.WriteToUDP(next, dst)
	waitStats("good packet after tampering", func(s Stats) bool { return s.PacketsReceived == base.PacketsReceived+1 })
}

// Re-keying: new keys both ways and the audio goes on; a direction whose
// key did not change keeps its context (and its rollover counter).
func TestSessionSRTPRekey(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time media test")
	}
	checkGoroutines(t)
	a, b := srtpPair(t, AES_CM_128_HMAC_SHA1_80, nil)
	go playTone(a, 150)
	if loud := loudFrames(t, b, 30); loud < 10 {
		t.Fatalf("before re-key: %d", loud)
	}
	ka, kb := a.srtp.Load().keys, b.srtp.Load().keys
	newA, _ := NewCrypto(2, AES_CM_128_HMAC_SHA1_80)
	if err := b.SetSRTP(SRTP{Local: kb.Local, Remote: newA}); err != nil {
		t.Fatal(err)
	}
	if err := a.SetSRTP(SRTP{Local: newA, Remote: ka.Remote}); err != nil {
		t.Fatal(err)
	}
	if st := b.srtp.Load(); st.txRTP == nil || st.keys.Local.Tag != 1 {
		t.Fatal("b's send context changed")
	}
	b.ClearPlayback()
	if loud := loudFrames(t, b, 50); loud < 30 {
		t.Fatalf("after re-key: %d loud frames, stats %+v", loud, b.Stats())
	}
	// A suite mismatch is refused and leaves the session as it was.
	k32, _ := NewCrypto(1, AES_CM_128_HMAC_SHA1_32)
	if err := a.SetSRTP(SRTP{Local: newA, Remote: k32}); err == nil {
		t.Fatal("mixed suites accepted")
	}
}

// The per-packet transform reuses the packet buffer and the scratch
// headers.
func TestSRTPAllocations(t *testing.T) {
	k1, _ := NewCrypto(1, AES_CM_128_HMAC_SHA1_80)
	k2, _ := NewCrypto(1, AES_CM_128_HMAC_SHA1_80)
	tx, _ := newSRTPState(SRTP{Local: k1, Remote: k2}, nil)
	rx, _ := newSRTPState(SRTP{Local: k2, Remote: k1}, nil)
	buf := make([]byte, 1500)
	p := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1}, Payload: make([]byte, 160)}
	seq := uint16(0)
	allocs := testing.AllocsPerRun(200, func() {
		seq++
		p.SequenceNumber = seq
		n, _ := p.MarshalTo(buf)
		out, err := tx.encryptRTP(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rx.decryptRTP(out); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocations per packet (encrypt + decrypt): %.1f", allocs)
	if allocs > 4 {
		t.Fatalf("%.1f allocations per packet", allocs)
	}
}
