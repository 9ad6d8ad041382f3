package webrtc

import (
	"math"
	"testing"

	"github.com/hotline-ivr/hotline/audio"
)

func toneFrame(hz float64, ph *float64) audio.Frame {
	s := make([]int16, audio.SamplesPerFrame(audio.Rate48k))
	for i := range s {
		s[i] = int16(8000 * math.Sin(*ph))
		*ph += 2 * math.Pi * hz / audio.Rate48k
	}
	return audio.Frame{Rate: audio.Rate48k, Samples: s}
}

func TestOpusRoundTrip(t *testing.T) {
	o, err := NewOpus()
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	var ph float64
	var out []int16
	for range 50 {
		p := o.Encode(nil, toneFrame(600, &ph))
		if len(p) == 0 || len(p) > 200 {
			t.Fatalf("packet of %d bytes", len(p))
		}
		f := o.Decode(nil, p)
		if f.Rate != audio.Rate48k || len(f.Samples) != 960 {
			t.Fatalf("decoded %v", f)
		}
		out = append(out, f.Samples...)
	}
	if hz := dominantHz(out[len(out)/2:], audio.Rate48k); math.Abs(hz-600) > 10 {
		t.Errorf("round trip %.0f Hz", hz)
	}
	// A lost packet and a corrupt one both conceal 20 ms, never panic.
	if f := o.Decode(nil, nil); len(f.Samples) != 960 {
		t.Errorf("PLC %v", f)
	}
	if f := o.Decode(nil, []byte{0xff, 0xff, 0xff}); len(f.Samples) != 960 {
		t.Errorf("corrupt %v", f)
	}
	// Short frames (the tail of a reply) are padded, not refused.
	if p := o.Encode(nil, audio.Frame{Rate: audio.Rate48k, Samples: make([]int16, 100)}); len(p) == 0 {
		t.Error("short frame not encoded")
	}
}

func BenchmarkOpusEncode(b *testing.B) {
	o, _ := NewOpus()
	var ph float64
	f := toneFrame(440, &ph)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = o.Encode(buf[:0], f)
	}
}

func BenchmarkOpusDecode(b *testing.B) {
	o, _ := NewOpus()
	var ph float64
	p := o.Encode(nil, toneFrame(440, &ph))
	dst := make([]int16, 960)
	b.ReportAllocs()
	for b.Loop() {
		o.Decode(dst, p)
	}
}
