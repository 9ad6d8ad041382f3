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

// benchSignal is 50 frames of speech-like audio at 16 kHz: a few partials
// with a syllable-rate envelope over low noise, so both bands and the whole
// quantiser range get exercised (spandsp's quantiser search costs more on
// loud input).
func benchSignal() [][]int16 {
	const n = 50 * 320
	s := make([]int16, n)
	seed := uint32(1)
	for i := range s {
		t := float64(i) / 16000
		env := 0.5 + 0.5*math.Sin(2*math.Pi*4*t)
		v := env * (6000*math.Sin(2*math.Pi*220*t) + 3000*math.Sin(2*math.Pi*1100*t) + 1500*math.Sin(2*math.Pi*5200*t))
		seed = seed*1664525 + 1013904223
		v += float64(int32(seed)>>20) / 4 // about ±500 of noise
		s[i] = int16(v)
	}
	fs := make([][]int16, 0, 50)
	for len(s) > 0 {
		fs = append(fs, s[:320])
		s = s[320:]
	}
	return fs
}

// benchInputs are the synthetic signal and, when recordings are found,
// up to 10 s of real speech, in 20 ms frames.
func benchInputs(b *testing.B) []struct {
	name string
	fs   [][]int16
} {
	ins := []struct {
		name string
		fs   [][]int16
	}{{"synthetic", benchSignal()}}
	var speech [][]int16
	for _, in := range speechInputs(b) {
		speech = append(speech, frames(in.pcm)...)
		if len(speech) >= 500 {
			speech = speech[:500]
			break
		}
	}
	if len(speech) > 0 {
		ins = append(ins, struct {
			name string
			fs   [][]int16
		}{"speech", speech})
	}
	return ins
}

// benchG722 is the Go codec and spandsp's, for side-by-side numbers.
var benchG722 = []struct {
	name string
	mk   func(b *testing.B) Codec
}{
	{"go", func(b *testing.B) Codec { c, _ := New("G722"); return c }},
	{"spandsp", func(b *testing.B) Codec { return newRef(b) }},
}

// One op is one 20 ms frame (320 samples, 160 bytes).
func BenchmarkG722Encode(b *testing.B) {
	for _, in := range benchInputs(b) {
		for _, impl := range benchG722 {
			b.Run(in.name+"/"+impl.name, func(b *testing.B) {
				c := impl.mk(b)
				defer c.Close()
				buf := make([]byte, 0, 160)
				i := 0
				for b.Loop() {
					buf = c.Encode(buf[:0], audio.Frame{Rate: 16000, Samples: in.fs[i]})
					i = (i + 1) % len(in.fs)
				}
			})
		}
	}
}

func BenchmarkG722Decode(b *testing.B) {
	for _, in := range benchInputs(b) {
		enc, _ := New("G722")
		var pays [][]byte
		for _, f := range in.fs {
			pays = append(pays, enc.Encode(nil, audio.Frame{Rate: 16000, Samples: f}))
		}
		enc.Close()
		for _, impl := range benchG722 {
			b.Run(in.name+"/"+impl.name, func(b *testing.B) {
				c := impl.mk(b)
				defer c.Close()
				pcm := make([]int16, 320)
				i := 0
				for b.Loop() {
					c.Decode(pcm, pays[i])
					i = (i + 1) % len(pays)
				}
			})
		}
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
