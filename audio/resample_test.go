package audio

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

var ratePairs = [][2]int{
	{Rate8k, Rate16k}, {Rate16k, Rate8k},
	{Rate8k, Rate48k}, {Rate48k, Rate8k},
	{Rate16k, Rate48k}, {Rate48k, Rate16k},
}

// enginePairs are the rates speech engines give (eSpeak 22050 Hz, Festival
// 32000 and 16000 Hz, speech endpoints 24000 Hz) to and from project rates.
var enginePairs = [][2]int{
	{22050, Rate8k}, {22050, Rate16k}, {32000, Rate16k}, {24000, Rate48k}, {Rate16k, 22050},
}

var allPairs = slices.Concat(ratePairs, enginePairs)

func pairName(p [2]int) string {
	return fmt.Sprintf("%gto%g", float64(p[0])/1000, float64(p[1])/1000)
}

func TestNewResamplerRejectsOtherRates(t *testing.T) {
	for _, p := range [][2]int{
		{0, 8000}, {16000, -1}, {4000, 8000}, {8000, 7999}, {16000, 192001}, {384000, 48000},
		{8001, 16000}, {44100, 44101}, // ratio terms over MaxRatioTerm
	} {
		_, err := NewResampler(p[0], p[1])
		if !errors.Is(err, ErrUnsupportedRate) {
			t.Errorf("NewResampler(%d, %d) error = %v, want ErrUnsupportedRate", p[0], p[1], err)
		}
		if _, err := Resample([]int16{1, 2}, p[0], p[1]); !errors.Is(err, ErrUnsupportedRate) {
			t.Errorf("Resample(_, %d, %d) error = %v, want ErrUnsupportedRate", p[0], p[1], err)
		}
	}
}

func TestNewResamplerTakesAnyRateWithinBounds(t *testing.T) {
	for _, p := range [][2]int{{8000, 44100}, {44100, 16000}, {11025, 48000}, {192000, 8000}, {8000, 192000}, {22050, 22050}} {
		r, err := NewResampler(p[0], p[1])
		if err != nil {
			t.Errorf("NewResampler(%d, %d): %v", p[0], p[1], err)
			continue
		}
		if got := len(r.Process(make([]int16, p[0]))); got != p[1] {
			t.Errorf("%s: one second gave %d samples, want %d", pairName(p), got, p[1])
		}
	}
}

func TestResampleIdentity(t *testing.T) {
	in := whiteNoise(1000, 0.5, 1)
	for _, rate := range []int{Rate8k, Rate16k, Rate48k, 22050} {
		out, err := Resample(in, rate, rate)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(in, out) {
			t.Errorf("%d Hz -> %d Hz changed the signal", rate, rate)
		}
	}
}

func TestResampleLength(t *testing.T) {
	for _, p := range allPairs {
		for _, n := range []int{0, 1, 2, 3, 5, 159, 160, 161, 959, 1000, 16001} {
			out, err := Resample(make([]int16, n), p[0], p[1])
			if err != nil {
				t.Fatal(err)
			}
			want := int(math.Round(float64(n) * float64(p[1]) / float64(p[0])))
			if len(out) != want {
				t.Errorf("%s: %d samples in, %d out, want %d", pairName(p), n, len(out), want)
			}
		}
	}
}

// A band-limited chirp resampled must match the same chirp computed
// directly at the target rate: this catches passband ripple, images,
// aliases and any misalignment at once.
func TestResampleMatchesIdealSweep(t *testing.T) {
	const dur = 1.0
	for _, p := range allPairs {
		t.Run(pairName(p), func(t *testing.T) {
			top := 0.85 * float64(min(p[0], p[1])) / 2
			in := sweep(50, top, p[0], dur, 0.5)
			want := sweep(50, top, p[1], dur, 0.5)
			got, err := Resample(in, p[0], p[1])
			if err != nil {
				t.Fatal(err)
			}
			edge := p[1] / 50 // the abrupt start and end are not band-limited
			snr := SNR(want[edge:len(want)-edge], got[edge:len(got)-edge])
			if snr < 50 {
				t.Errorf("SNR against the ideal sweep = %.1f dB, want >= 50", snr)
			}
		})
	}
}

// Downsampling a sweep over the whole input band: while the sweep is above
// the output Nyquist frequency the output must stay silent (no aliases),
// while it is in the passband the level must be kept.
func TestResampleDownsampleSweepHasNoAliases(t *testing.T) {
	const dur = 2.0
	for _, p := range allPairs {
		from, to := p[0], p[1]
		if to > from {
			continue
		}
		t.Run(pairName(p), func(t *testing.T) {
			f0, f1 := 100.0, float64(from)/2-100
			in := sweep(f0, f1, from, dur, 0.5)
			out, err := Resample(in, from, to)
			if err != nil {
				t.Fatal(err)
			}
			nyq := float64(to) / 2
			inLevel := RMS(in)
			var pass, stop []int16
			for i, s := range out {
				f := sweepFreq(f0, f1, dur, float64(i)/float64(to))
				switch {
				case f > 200 && f < 0.9*nyq:
					pass = append(pass, s)
				case f > nyq+50 && f < f1-50:
					stop = append(stop, s)
				}
			}
			if gain := 20 * math.Log10(RMS(pass)/inLevel); math.Abs(gain) > 0.5 {
				t.Errorf("passband gain %.2f dB, want within ±0.5 dB", gain)
			}
			atten := 20 * math.Log10(RMS(stop)/inLevel)
			if atten > -50 {
				t.Errorf("energy while the sweep is above %.0f Hz: %.1f dB, want <= -50 dB", nyq, atten)
			}
			t.Logf("passband %.3f dB, alias level %.1f dB", 20*math.Log10(RMS(pass)/inLevel), atten)
		})
	}
}

// Upsampling a tone must not create images at k*from ± f.
func TestResampleUpsampleHasNoImages(t *testing.T) {
	for _, p := range allPairs {
		from, to := p[0], p[1]
		if to < from {
			continue
		}
		t.Run(pairName(p), func(t *testing.T) {
			for _, frac := range []float64{0.1, 0.5, 0.8} {
				f := frac * float64(from) / 2
				out, err := Resample(sine(f, from, from/2, 0.5), from, to)
				if err != nil {
					t.Fatal(err)
				}
				out = out[to/50 : len(out)-to/50]
				signal := tonePower(out, f, to)
				for k := 1; float64(k*from)-f < float64(to)/2; k++ {
					for _, img := range []float64{float64(k*from) - f, float64(k*from) + f} {
						if img >= float64(to)/2 {
							continue
						}
						if rel := db(tonePower(out, img, to) / signal); rel > -60 {
							t.Errorf("tone %.0f Hz: image at %.0f Hz is %.1f dB, want <= -60 dB", f, img, rel)
						}
					}
				}
			}
		})
	}
}

func TestResamplePassbandTones(t *testing.T) {
	for _, p := range allPairs {
		t.Run(pairName(p), func(t *testing.T) {
			nyq := float64(min(p[0], p[1])) / 2
			for _, frac := range []float64{0.02, 0.1, 0.3, 0.5, 0.7, 0.85, 0.9} {
				f := frac * nyq
				in := sine(f, p[0], p[0]/2, 0.3)
				out, err := Resample(in, p[0], p[1])
				if err != nil {
					t.Fatal(err)
				}
				ein, eout := p[0]/25, p[1]/25
				gain := 20 * math.Log10(RMS(out[eout:len(out)-eout])/RMS(in[ein:len(in)-ein]))
				if math.Abs(gain) > 0.5 {
					t.Errorf("%.0f Hz: gain %.2f dB, want within ±0.5 dB", f, gain)
				}
			}
		})
	}
}

func TestResampleRoundTrip(t *testing.T) {
	for _, tc := range []struct{ rate, via int }{
		{Rate8k, Rate16k}, {Rate8k, Rate48k}, {Rate16k, Rate48k}, {Rate16k, Rate8k}, {Rate48k, Rate16k},
	} {
		t.Run(fmt.Sprintf("%dvia%d", tc.rate/1000, tc.via/1000), func(t *testing.T) {
			// Band-limited content: a chirp inside the narrower passband.
			in := sweep(100, 0.85*float64(min(tc.rate, tc.via))/2, tc.rate, 1, 0.4)
			mid, err := Resample(in, tc.rate, tc.via)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Resample(mid, tc.via, tc.rate)
			if err != nil {
				t.Fatal(err)
			}
			if len(back) != len(in) {
				t.Fatalf("round trip length %d, want %d", len(back), len(in))
			}
			e := tc.rate / 50
			if snr := SNR(in[e:len(in)-e], back[e:len(back)-e]); snr < 40 {
				t.Errorf("round trip SNR %.1f dB, want > 40 dB", snr)
			}
		})
	}
}

func TestResamplerStreamingEqualsOneShot(t *testing.T) {
	in := concat(sweep(100, 3900, Rate8k, 0.5, 0.7), whiteNoise(4000, 0.5, 7))
	for _, p := range allPairs {
		t.Run(pairName(p), func(t *testing.T) {
			whole, _ := NewResampler(p[0], p[1])
			want := whole.Process(in)

			rng := rand.New(rand.NewPCG(uint64(p[0]), uint64(p[1])))
			chunked, _ := NewResampler(p[0], p[1])
			var got []int16
			for rest := in; len(rest) > 0; {
				n := min(len(rest), rng.IntN(500))
				got = chunked.ProcessTo(got, rest[:n])
				rest = rest[n:]
			}
			if !slices.Equal(got, want) {
				t.Fatalf("chunked output differs from one call (len %d vs %d)", len(got), len(want))
			}

			// The one-shot helper is the stream minus the filter delay.
			oneShot, _ := Resample(in, p[0], p[1])
			d := whole.Delay()
			if !slices.Equal(oneShot[:len(want)-d], want[d:]) {
				t.Error("Resample is not the delay-compensated stream")
			}

			// 20 ms frames, the way calls use it.
			framed, _ := NewResampler(p[0], p[1])
			var byFrame []int16
			for _, f := range Split(in, p[0]) {
				out := framed.Process(f.Samples)
				if len(f.Samples) == SamplesPerFrame(p[0]) && len(out) != SamplesPerFrame(p[1]) {
					t.Fatalf("20 ms frame gave %d samples, want %d", len(out), SamplesPerFrame(p[1]))
				}
				byFrame = append(byFrame, out...)
			}
			if !slices.Equal(byFrame, want) {
				t.Error("frame-by-frame output differs from one call")
			}
		})
	}
}

func TestResamplerReset(t *testing.T) {
	in := whiteNoise(800, 0.5, 3)
	r, _ := NewResampler(Rate16k, Rate8k)
	first := r.Process(in)
	r.Process(whiteNoise(123, 0.9, 4))
	r.Reset()
	if again := r.Process(in); !slices.Equal(first, again) {
		t.Error("output after Reset differs from a fresh resampler")
	}
}

func TestResampleKeepsDCAndClips(t *testing.T) {
	for _, p := range allPairs {
		for _, level := range []int16{1000, -20000, math.MaxInt16, math.MinInt16} {
			in := make([]int16, p[0]/10)
			for i := range in {
				in[i] = level
			}
			out, _ := Resample(in, p[0], p[1])
			e := p[1] / 50
			for i, s := range out[e : len(out)-e] {
				if s != level {
					t.Errorf("%s: constant %d became %d at %d", pairName(p), level, s, i+e)
					break
				}
			}
		}
	}
}

func TestResamplerFlushAlignsTheStream(t *testing.T) {
	for _, p := range allPairs {
		in := sweep(100, 0.85*float64(min(p[0], p[1]))/2, p[0], 0.3, 0.5)
		want, _ := Resample(in, p[0], p[1])
		r, _ := NewResampler(p[0], p[1])
		var got []int16
		for rest := in; len(rest) > 0; rest = rest[min(len(rest), 333):] {
			got = r.ProcessTo(got, rest[:min(len(rest), 333)])
		}
		got = r.Flush(got)
		if len(got) != r.Delay()+len(want) || !slices.Equal(got[r.Delay():], want) {
			t.Errorf("%s: stream + Flush minus Delay differs from Resample (%d samples, want %d+%d)",
				pairName(p), len(got), r.Delay(), len(want))
		}
		// Flush resets: the resampler starts a new stream.
		if again := r.Flush(r.ProcessTo(nil, in)); !slices.Equal(again, got) {
			t.Errorf("%s: second stream after Flush differs", pairName(p))
		}
	}
}

func TestResamplerSharesFilterBanks(t *testing.T) {
	a, _ := NewResampler(Rate48k, Rate16k)
	b, _ := NewResampler(24000, Rate8k)
	if a.bank != b.bank {
		t.Error("48→16 kHz and 24→8 kHz (ratio 1/3) designed two filter banks")
	}
	for _, p := range [][2]int{{22050, Rate16k}, {Rate16k, 22050}, {22050, Rate8k}, {11025, Rate48k}, {192000, 44100}} {
		r, _ := NewResampler(p[0], p[1])
		t.Logf("%s: ratio %d/%d, %d taps per phase, %d coefficients, delay %d", pairName(p), r.up, r.down, r.taps, r.taps*r.up, r.delay)
		if n := r.taps * r.up; n > 100_000 {
			t.Errorf("%s: filter bank of %d coefficients", pairName(p), n)
		}
	}
}
