package audio

import "math"

// SilenceDBFS is the level reported for digital silence (and empty input)
// instead of -Inf, so levels can be compared, averaged and logged without
// special cases. It is below anything 16-bit audio can express (about
// -96 dBFS).
const SilenceDBFS = -120.0

const fullScale = 32768.0

// RMS returns the root-mean-square level of samples relative to full scale
// (0 for silence or no samples, 1 for a full-scale square wave).
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	return math.Sqrt(sumSquares(samples)/float64(len(samples))) / fullScale
}

// RMSdBFS returns the RMS level in dB relative to full scale, floored at
// SilenceDBFS. A full-scale sine reads about -3 dBFS.
func RMSdBFS(samples []int16) float64 { return toDBFS(RMS(samples)) }

// PeakdBFS returns the largest absolute sample in dB relative to full scale,
// floored at SilenceDBFS.
func PeakdBFS(samples []int16) float64 {
	peak := 0
	for _, s := range samples {
		peak = max(peak, abs(int(s)))
	}
	return toDBFS(float64(peak) / fullScale)
}

// ClippedRatio returns the fraction of samples sitting at either end of the
// 16-bit range, a symptom of clipping somewhere upstream.
func ClippedRatio(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	n := 0
	for _, s := range samples {
		if s == math.MaxInt16 || s == math.MinInt16 {
			n++
		}
	}
	return float64(n) / float64(len(samples))
}

// SNR returns the signal-to-noise ratio in dB of test against reference,
// 10*log10(sum ref² / sum (ref-test)²), over the part both slices cover.
// It does not align the signals; callers do. Identical signals (or no
// common samples) give +Inf.
func SNR(reference, test []int16) float64 {
	n := min(len(reference), len(test))
	var sig, noise float64
	for i := range n {
		r := float64(reference[i])
		d := r - float64(test[i])
		sig += r * r
		noise += d * d
	}
	if noise == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(sig/noise)
}

func sumSquares(samples []int16) float64 {
	// Integer accumulation is exact and faster than float for short runs;
	// split so that even a 1 GiB buffer cannot overflow int64.
	var total float64
	for len(samples) > 0 {
		chunk := samples[:min(len(samples), 1<<30)]
		var acc int64
		for _, s := range chunk {
			acc += int64(s) * int64(s)
		}
		total += float64(acc)
		samples = samples[len(chunk):]
	}
	return total
}

func toDBFS(linear float64) float64 {
	if linear <= 0 {
		return SilenceDBFS
	}
	return max(20*math.Log10(linear), SilenceDBFS)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
