package resample

import (
	"math"
	"testing"
)

func tone(freq float64, rate, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(10000 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return s
}

// TestToneSurvives checks length, alignment and gain on a 440 Hz tone for
// the rate pairs the engines need, fed in odd-sized chunks.
func TestToneSurvives(t *testing.T) {
	for _, p := range [][2]int{{22050, 8000}, {22050, 16000}, {22050, 48000}, {32000, 8000}, {24000, 16000}, {16000, 16000}, {16000, 48000}} {
		from, to := p[0], p[1]
		in := tone(440, from, from) // one second
		r := New(from, to)
		var out []int16
		for i := 0; i < len(in); i += 333 {
			out = r.Process(out, in[i:min(i+333, len(in))])
		}
		out = r.Flush(out)
		if len(out) != to {
			t.Errorf("%d→%d: %d samples, want %d", from, to, len(out), to)
			continue
		}
		want := tone(440, to, to)
		var errSum, sigSum float64
		for i := to / 10; i < to*9/10; i++ {
			e := float64(out[i]) - float64(want[i])
			errSum += e * e
			sigSum += float64(want[i]) * float64(want[i])
		}
		if snr := 10 * math.Log10(sigSum/errSum); snr < 40 {
			t.Errorf("%d→%d: SNR %.1f dB against the ideal tone, want ≥ 40", from, to, snr)
		}
	}
}

// TestAliasRejected: a 6 kHz tone at 22050 Hz must vanish at 8 kHz output.
func TestAliasRejected(t *testing.T) {
	in := tone(6000, 22050, 22050)
	r := New(22050, 8000)
	out := r.Flush(r.Process(nil, in))
	var sum float64
	for _, s := range out[800 : len(out)-800] {
		sum += float64(s) * float64(s)
	}
	rms := math.Sqrt(sum / float64(len(out)-1600))
	if db := 20 * math.Log10(rms/7071); db > -50 {
		t.Errorf("alias at %.1f dB, want < -50", db)
	}
}
