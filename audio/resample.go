package audio

import (
	"fmt"
	"math"
	"slices"
)

// Filter design targets. The anti-alias/anti-image low-pass keeps everything
// below passbandEdge of the lower Nyquist frequency flat and is at least
// stopbandDB down from the lower Nyquist frequency on, so nothing above it
// can fold back into the band.
const (
	passbandEdge = 0.9
	stopbandDB   = 70
)

// Resampler converts a stream of samples between two of the project rates
// (8, 16 and 48 kHz) with a polyphase windowed-sinc (Kaiser) FIR filter.
//
// It keeps the filter history between calls, so feeding a signal frame by
// frame yields exactly the samples of one call with the whole signal. The
// filter is causal: output lags input by Delay output samples. Resample
// removes that lag for one-shot conversions.
//
// A Resampler is not safe for concurrent use; use one per stream.
type Resampler struct {
	from, to int
	up, down int // rate ratio to/from = up/down in lowest terms
	taps     int // coefficients per phase
	// phases[p] holds the taps of phase p in reverse order, so an output is
	// a forward dot product over the newest input samples.
	phases [][]float32
	delay  int // group delay in output samples

	// buf holds the last taps-1 input samples followed by the current
	// input; it is reused between calls.
	buf []float32
	// next is the position of the next output sample on the upsampled time
	// grid, relative to the first sample of the next input.
	next int
}

// NewResampler returns a resampler from one rate to another. Both rates must
// be among Rate8k, Rate16k and Rate48k; otherwise the error wraps
// ErrUnsupportedRate. Equal rates give a pass-through resampler.
func NewResampler(from, to int) (*Resampler, error) {
	if !supportedRate(from) || !supportedRate(to) {
		return nil, fmt.Errorf("%w: %d Hz to %d Hz (want 8000, 16000 or 48000)", ErrUnsupportedRate, from, to)
	}
	r := &Resampler{from: from, to: to}
	if from == to {
		r.up, r.down, r.taps = 1, 1, 1
		return r, nil
	}
	g := gcd(from, to)
	r.up, r.down = to/g, from/g
	r.design()
	r.Reset()
	return r, nil
}

func supportedRate(rate int) bool {
	return rate == Rate8k || rate == Rate16k || rate == Rate48k
}

// design builds the Kaiser-windowed sinc prototype at the upsampled rate and
// splits it into phases.
func (r *Resampler) design() {
	fast := float64(r.from * r.up) // rate of the upsampled grid
	nyq := float64(min(r.from, r.to)) / 2
	transition := (1 - passbandEdge) * nyq / fast // normalised to fast
	cutoff := (1 + passbandEdge) / 2 * nyq / fast // half-amplitude point

	// Kaiser's estimates for beta and the length meeting stopbandDB.
	beta := 0.1102 * (stopbandDB - 8.7)
	n := int(math.Ceil((stopbandDB - 8) / (2.285 * 2 * math.Pi * transition)))
	// An odd length whose centre falls on the output grid makes the group
	// delay a whole number of output samples, which Resample can drop.
	span := 2 * r.down
	n = (n+span-2)/span*span + 1
	center := (n - 1) / 2
	r.delay = center / r.down
	r.taps = (n + r.up - 1) / r.up

	proto := make([]float64, r.taps*r.up) // zero padded past n
	i0beta := besselI0(beta)
	for i := range n {
		x := float64(i - center)
		w := besselI0(beta*math.Sqrt(1-(x/float64(center))*(x/float64(center)))) / i0beta
		proto[i] = 2 * cutoff * sinc(2*cutoff*x) * w
	}

	r.phases = make([][]float32, r.up)
	for p := range r.up {
		ph := make([]float32, r.taps)
		var sum float64
		for k := range r.taps {
			sum += proto[p+k*r.up]
		}
		// Normalising each phase to unit DC gain keeps a constant input
		// exactly constant, with no ripple at the input rate.
		for k := range r.taps {
			ph[r.taps-1-k] = float32(proto[p+k*r.up] / sum)
		}
		r.phases[p] = ph
	}
}

// From returns the input rate.
func (r *Resampler) From() int { return r.from }

// To returns the output rate.
func (r *Resampler) To() int { return r.to }

// Delay returns the filter lag in output samples: output sample i+Delay()
// corresponds to time i/To() of the input.
func (r *Resampler) Delay() int { return r.delay }

// Reset clears the filter history, as if the resampler were new.
func (r *Resampler) Reset() {
	r.buf = r.buf[:0]
	for range r.taps - 1 {
		r.buf = append(r.buf, 0)
	}
	r.next = 0
}

// OutputLen returns how many samples the next Process call with n input
// samples will produce.
func (r *Resampler) OutputLen(n int) int {
	end := n * r.up
	if r.next >= end {
		return 0
	}
	return (end - r.next + r.down - 1) / r.down
}

// Process resamples the next chunk of the stream and returns the output in a
// new slice.
func (r *Resampler) Process(in []int16) []int16 {
	return r.ProcessTo(make([]int16, 0, r.OutputLen(len(in))), in)
}

// ProcessTo resamples the next chunk of the stream, appends the output to dst
// and returns it. With a dst of enough capacity it does not allocate.
func (r *Resampler) ProcessTo(dst, in []int16) []int16 {
	if r.up == r.down {
		return append(dst, in...)
	}
	dst = slices.Grow(dst, r.OutputLen(len(in)))
	hist := r.taps - 1
	buf := r.buf[:hist]
	for _, s := range in {
		buf = append(buf, float32(s))
	}
	r.buf = buf

	end := len(in) * r.up
	t := r.next
	for ; t < end; t += r.down {
		i, p := t/r.up, t%r.up
		dst = append(dst, toInt16(dot(r.phases[p], buf[i:i+r.taps])))
	}
	r.next = t - end
	copy(buf, buf[len(in):])
	return dst
}

// dot is the hot loop. Four accumulators keep the FPU pipeline busy, and
// re-slicing instead of indexing lets the compiler drop bounds checks.
func dot(h, x []float32) float32 {
	var a0, a1, a2, a3 float32
	for len(h) >= 4 && len(x) >= 4 {
		a0 += h[0] * x[0]
		a1 += h[1] * x[1]
		a2 += h[2] * x[2]
		a3 += h[3] * x[3]
		h, x = h[4:], x[4:]
	}
	for i := range min(len(h), len(x)) {
		a0 += h[i] * x[i]
	}
	return (a0 + a1) + (a2 + a3)
}

func toInt16(v float32) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	case v >= 0:
		return int16(v + 0.5)
	default:
		return int16(v - 0.5)
	}
}

// Resample converts a whole signal from one rate to another. The output has
// round(len(in)*to/from) samples and is time-aligned with the input: the
// filter delay is removed and the tail is flushed.
func Resample(in []int16, from, to int) ([]int16, error) {
	r, err := NewResampler(from, to)
	if err != nil {
		return nil, err
	}
	want := (len(in)*to + from/2) / from
	if from == to {
		return slices.Clone(in), nil
	}
	// Enough trailing silence to push the last wanted sample out of the
	// delay line.
	flush := ((r.delay+2)*r.down + r.up - 1) / r.up
	out := make([]int16, 0, r.OutputLen(len(in)+flush))
	out = r.ProcessTo(out, in)
	out = r.ProcessTo(out, make([]int16, flush))
	return out[r.delay : r.delay+want], nil
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the zeroth-order modified Bessel function of the first kind,
// summed as a power series (converges fast for the betas used here).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 200; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
