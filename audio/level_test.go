package audio

import (
	"math"
	"testing"
)

func TestLevels(t *testing.T) {
	fullSine := sine(1000, Rate8k, 8000, 1)
	square := make([]int16, 100)
	for i := range square {
		square[i] = math.MaxInt16
		if i%2 == 1 {
			square[i] = math.MinInt16
		}
	}
	tests := []struct {
		name      string
		in        []int16
		rms, peak float64 // dBFS
		clipped   float64
	}{
		{"empty", nil, SilenceDBFS, SilenceDBFS, 0},
		{"digital silence", make([]int16, 160), SilenceDBFS, SilenceDBFS, 0},
		{"full-scale sine", fullSine, -3.01, 0, 0.125}, // every 8th sample on the rail,
		{"-20 dB sine", sine(1000, Rate8k, 8000, 0.1), -23.01, -20, 0},
		{"full-scale square", square, 0, 0, 1},
		{"one LSB", []int16{1, -1}, -90.31, -90.31, 0},
	}
	for _, tt := range tests {
		if got := RMSdBFS(tt.in); math.Abs(got-tt.rms) > 0.05 {
			t.Errorf("%s: RMSdBFS = %.2f, want %.2f", tt.name, got, tt.rms)
		}
		if got := PeakdBFS(tt.in); math.Abs(got-tt.peak) > 0.05 {
			t.Errorf("%s: PeakdBFS = %.2f, want %.2f", tt.name, got, tt.peak)
		}
		if got := ClippedRatio(tt.in); got != tt.clipped {
			t.Errorf("%s: ClippedRatio = %.3f, want %.3f", tt.name, got, tt.clipped)
		}
	}
	if got := ClippedRatio([]int16{0, 32767, 5, -32768}); got != 0.5 {
		t.Errorf("ClippedRatio = %v, want 0.5", got)
	}
	if got := RMS(square); got < 0.9999 || got > 1 {
		t.Errorf("RMS(square) = %v, want 1", got)
	}
}

func TestSNR(t *testing.T) {
	ref := sine(440, Rate8k, 800, 0.5)
	if got := SNR(ref, ref); !math.IsInf(got, 1) {
		t.Errorf("SNR of identical signals = %v, want +Inf", got)
	}
	half := make([]int16, len(ref))
	for i, s := range ref {
		half[i] = s / 2
	}
	// ref - ref/2 = ref/2: noise is a quarter of the power, 6 dB.
	if got := SNR(ref, half); math.Abs(got-6.02) > 0.05 {
		t.Errorf("SNR(ref, ref/2) = %.2f dB, want 6.02", got)
	}
	// Only the common part counts.
	if got := SNR(ref, append(append([]int16(nil), ref...), 1, 2, 3)); !math.IsInf(got, 1) {
		t.Errorf("SNR with a longer test signal = %v, want +Inf", got)
	}
	if got := SNR(ref, make([]int16, 10)); math.Abs(got) > 1e-9 {
		t.Errorf("SNR against silence = %v, want 0 dB", got)
	}
}
