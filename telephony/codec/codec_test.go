package codec

import (
	"math"
	"testing"

	"github.com/hotline-ivr/hotline/audio"
)

func tone(rate, hz int, n int, phase *float64) audio.Frame {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(8000 * math.Sin(*phase))
		*phase += 2 * math.Pi * float64(hz) / float64(rate)
	}
	return audio.Frame{Rate: rate, Samples: s}
}

func TestRoundTrip(t *testing.T) {
	for _, name := range Preferred {
		t.Run(name, func(t *testing.T) {
			c, err := New(name)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			info, _ := Lookup(name)
			if c.PayloadType() != info.PayloadType || c.SampleRate() != info.SampleRate || c.ClockRate() != 8000 {
				t.Fatalf("info mismatch: %+v", info)
			}
			n := audio.SamplesPerFrame(c.SampleRate())
			var ph float64
			var in, out []int16
			for range 25 {
				f := tone(c.SampleRate(), 1000, n, &ph)
				p := c.Encode(nil, f)
				if want := 160; len(p) != want {
					t.Fatalf("payload %d bytes, want %d", len(p), want)
				}
				d := c.Decode(nil, p)
				if d.Rate != c.SampleRate() || len(d.Samples) != n {
					t.Fatalf("decoded %v", d)
				}
				in = append(in, f.Samples...)
				out = append(out, d.Samples...)
			}
			// Compare energy after the codec's warm-up; G.722's QMF
			// filters delay the signal so a sample-wise diff is wrong.
			e := func(s []int16) float64 {
				var sum float64
				for _, v := range s[len(s)/2:] {
					sum += float64(v) * float64(v)
				}
				return math.Sqrt(sum / float64(len(s)/2))
			}
			if r := e(out) / e(in); r < 0.8 || r > 1.2 {
				t.Fatalf("energy ratio %.2f", r)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := New("opus"); err == nil {
		t.Fatal("opus should be unsupported")
	}
}

func BenchmarkG722Encode(b *testing.B) {
	c, _ := New("G722")
	defer c.Close()
	var ph float64
	f := tone(16000, 440, 320, &ph)
	buf := make([]byte, 0, 200)
	for b.Loop() {
		buf = c.Encode(buf[:0], f)
	}
}

// A restored encoder state encodes exactly as the saved one did.
func TestEncoderSnapshot(t *testing.T) {
	for _, name := range Preferred {
		c, err := New(name)
		if err != nil {
			t.Fatal(err)
		}
		snap, ok := c.(EncoderSnapshotter)
		if !ok {
			t.Fatalf("%s: no EncoderSnapshotter", name)
		}
		var ph float64
		for range 5 {
			c.Encode(nil, tone(c.SampleRate(), 440, c.SampleRate()/50, &ph))
		}
		state := snap.SaveEncoder(nil)
		f := tone(c.SampleRate(), 700, c.SampleRate()/50, &ph)
		a := c.Encode(nil, f)
		c.Encode(nil, tone(c.SampleRate(), 300, c.SampleRate()/50, &ph))
		snap.RestoreEncoder(state)
		if b := c.Encode(nil, f); string(a) != string(b) {
			t.Fatalf("%s: encoding after restore differs", name)
		}
		c.Close()
		snap.RestoreEncoder(state) // after Close: a no-op, not a crash
	}
}
