package audio

import (
	"math"
	"math/rand/v2"
)

// Signal generators shared by the tests. Amplitudes are relative to full
// scale.

func sine(freq float64, rate, n int, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return out
}

// sweep is a linear chirp from f0 to f1 Hz over n samples at rate. The same
// chirp sampled at another rate (same duration) is the ideal resampler
// output.
func sweep(f0, f1 float64, rate int, dur float64, amp float64) []int16 {
	n := int(math.Round(dur * float64(rate)))
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / float64(rate)
		phase := 2 * math.Pi * (f0*t + (f1-f0)*t*t/(2*dur))
		out[i] = int16(math.Round(amp * 32767 * math.Sin(phase)))
	}
	return out
}

// sweepFreq is the instantaneous frequency of sweep at time t.
func sweepFreq(f0, f1, dur, t float64) float64 { return f0 + (f1-f0)*t/dur }

func whiteNoise(n int, amp float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * 32767 * (2*rng.Float64() - 1)))
	}
	return out
}

// tonePower is the power of samples at freq (Goertzel), normalised so that a
// sine of amplitude a gives a²/4 regardless of length.
func tonePower(samples []int16, freq float64, rate int) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s1, s2 = float64(x)/32768+c*s1-s2, s1
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	n := float64(len(samples))
	return p / (n * n)
}

func db(ratio float64) float64 { return 10 * math.Log10(ratio) }

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
