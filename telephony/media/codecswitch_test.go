package media

import (
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/telephony/codec"
)

func newCodec(t *testing.T, name string) codec.Codec {
	t.Helper()
	c, err := codec.New(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The switch as the peer sees it, tick by tick: the packet after SetCodec
// is the new codec's (payload type, payload size), marked, with sequence
// number and timestamp running on; an RFC 4733 event that is playing ends
// on its own payload type before the switch; later events use the new
// telephone-event payload type; the silence recording starts over.
func TestSetCodecAtFrameBoundary(t *testing.T) {
	rx, addr := sink(t)
	s := newTestSession(t, "G722", addr, false)
	tick := func(n int) {
		for range n {
			s.tick(time.Now(), 1)
		}
	}
	speak := func(rate, n int) {
		for i := range n {
			if err := s.WriteFrame(toneFrame(rate, i)); err != nil {
				t.Fatal(err)
			}
		}
		tick(n)
	}
	speak(16000, 3)
	tick(30) // long enough to replay recorded G.722 silence
	if !s.tx.useCached {
		t.Fatal("no cached silence before the switch")
	}
	if err := s.SendDTMF('4', 40*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	tick(1) // the event starts
	if err := s.SetCodec(newCodec(t, "PCMU"), 96); err != nil {
		t.Fatal(err)
	}
	if s.Codec().Name() != "G722" {
		t.Fatal("switched before the next frame")
	}
	tick(4) // the rest of the event (3 packets: its end is sent three times), then PCMU
	if s.Codec().Name() != "PCMU" {
		t.Fatalf("codec %s after the event", s.Codec().Name())
	}
	// Queued at 16 kHz, sent as PCMU: the session converts.
	speak(16000, 2)
	speak(8000, 2)
	tick(2)
	if err := s.SendDTMF('9', 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	tick(4)
	const total = 3 + 30 + 1 + 4 + 2 + 2 + 2 + 4
	pk := readPackets(t, rx, total)
	step := uint32(s.clock / 50)
	for i, p := range pk {
		if p.SequenceNumber != pk[0].SequenceNumber+uint16(i) || p.SSRC != pk[0].SSRC {
			t.Fatalf("packet %d: seq %d after %d", i, p.SequenceNumber, pk[0].SequenceNumber)
		}
		var wantPT uint8
		switch {
		case i < 33:
			wantPT = codec.PayloadG722
		case i < 33+4:
			wantPT = 101 // the old event, to its end
		case i >= total-4 && i < total-1: // a 20 ms event: one packet, two more ends
			wantPT = 96
		default:
			wantPT = codec.PayloadPCMU
		}
		if p.PayloadType != wantPT {
			t.Fatalf("packet %d: payload type %d, want %d", i, p.PayloadType, wantPT)
		}
		if wantPT == codec.PayloadG722 || wantPT == codec.PayloadPCMU {
			if p.Timestamp != pk[0].Timestamp+uint32(i)*step || len(p.Payload) != 160 {
				t.Fatalf("packet %d: ts %d (want %d), %d bytes", i, p.Timestamp, pk[0].Timestamp+uint32(i)*step, len(p.Payload))
			}
		}
		if i == 33+4 && !p.Marker {
			t.Fatal("no marker on the first packet of the new codec")
		}
	}
	// Silence is recorded anew: one frame of μ-law silence, not sixteen
	// of the G.722 encoder's.
	if len(s.tx.recPays) != 1 || len(s.tx.recPays[0]) != 160 || s.tx.recPays[0][0] != 0xff {
		t.Fatalf("silence recording after the switch: %d frames", len(s.tx.recPays))
	}
	// The playout stays at 16 kHz.
	tick(1)
	for {
		select {
		case f := <-s.in:
			if f.Rate != 16000 || len(f.Samples) != 320 {
				t.Fatalf("playout frame %d Hz × %d", f.Rate, len(f.Samples))
			}
			continue
		default:
		}
		break
	}
}

// SetCodec replacing a switch not yet made, a DTMF-only change, and Close
// with a switch pending: every codec handed over is closed, none twice.
func TestSetCodecPendingClosed(t *testing.T) {
	_, addr := sink(t)
	s := newTestSession(t, "PCMU", addr, false)
	a, b := &closeCount{Codec: newCodec(t, "PCMA")}, &closeCount{Codec: newCodec(t, "G722")}
	if err := s.SetCodec(a, 101); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCodec(b, 101); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCodec(nil, 100); err != nil { // keeps b pending
		t.Fatal(err)
	}
	if a.n.Load() != 1 || b.n.Load() != 0 {
		t.Fatalf("closed: replaced %d, pending %d", a.n.Load(), b.n.Load())
	}
	s.Close()
	if b.n.Load() != 1 {
		t.Fatalf("pending codec closed %d times by Close", b.n.Load())
	}
	c := &closeCount{Codec: newCodec(t, "PCMA")}
	if err := s.SetCodec(c, 0); err != ErrClosed || c.n.Load() != 1 {
		t.Fatalf("SetCodec after Close: %v, closed %d", err, c.n.Load())
	}
}

type closeCount struct {
	codec.Codec
	n atomic.Int32
}

func (c *closeCount) Close() error { c.n.Add(1); return c.Codec.Close() }

// Two paced sessions talking through G.722 → PCMU → PCMA, both switching
// as a re-INVITE would make them: audio keeps flowing both ways, frames stay
// at 16 kHz, DTMF follows the new payload type.
func TestSessionCodecSwitchMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time media test")
	}
	checkGoroutines(t)
	a, b, _ := pair(t, "G722")
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := make(chan struct{})
	defer close(stop)
	var loud [2]atomic.Int64
	var bad atomic.Value
	for i, s := range []*Session{a, b} {
		wg.Add(2)
		go func() { // 440 Hz at 16 kHz for as long as the test runs
			defer wg.Done()
			var ph float64
			for {
				select {
				case <-stop:
					return
				default:
				}
				f := audio.Frame{Rate: 16000, Samples: make([]int16, 320)}
				for j := range f.Samples {
					f.Samples[j] = int16(8000 * math.Sin(ph))
					ph += 2 * math.Pi * 440 / 16000
				}
				if s.WriteFrame(f) != nil {
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				f, err := s.ReadFrame()
				if err != nil {
					return
				}
				if f.Rate != 16000 || len(f.Samples) != 320 {
					bad.Store(f.String())
				}
				if audio.RMSdBFS(f.Samples) > -25 {
					loud[i].Add(1)
				}
			}
		}()
	}
	waitLoud := func(what string) {
		t.Helper()
		from := [2]int64{loud[0].Load(), loud[1].Load()}
		deadline := time.Now().Add(3 * time.Second)
		for loud[0].Load()-from[0] < 25 || loud[1].Load()-from[1] < 25 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: loud frames a %d b %d; stats a %+v b %+v", what,
					loud[0].Load()-from[0], loud[1].Load()-from[1], a.Stats(), b.Stats())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitLoud("G722")
	for _, name := range []string{"PCMU", "PCMA"} {
		pt := uint8(100)
		if name == "PCMA" {
			pt = 101
		}
		for _, s := range []*Session{a, b} {
			if err := s.SetCodec(newCodec(t, name), pt); err != nil {
				t.Fatal(err)
			}
		}
		waitLoud(name)
		if a.Codec().Name() != name || b.Codec().Name() != name || a.SampleRate() != 16000 {
			t.Fatalf("codecs %s/%s rate %d", a.Codec().Name(), b.Codec().Name(), a.SampleRate())
		}
		if err := a.SendDTMF('6', 60*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		select {
		case d := <-b.DTMF():
			if d.Key != '6' {
				t.Fatalf("digit %q", d.Key)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("%s: no DTMF on payload type %d", name, pt)
		}
	}
	if v := bad.Load(); v != nil {
		t.Fatalf("frame at another rate: %v", v)
	}
}
