package audio

import (
	"fmt"
	"math"
	"slices"
	"sync"
)

// Filter design targets. The anti-alias/anti-image low-pass keeps everything
// below passbandEdge of the lower Nyquist frequency flat and is at least
// stopbandDB down from the lower Nyquist frequency on, so nothing above it
// can fold back into the band.
const (
	passbandEdge = 0.9
	stopbandDB   = 70
)

// Bounds of the rates a Resampler converts between. The rate ratio, reduced
// to lowest terms up/down, must have both terms at most MaxRatioTerm: that
// covers every usual pair (22050→16000 is 320/441, 11025→48000 is 640/147)
// and keeps the filter bank below about 90,000 coefficients.
const (
	MinResampleRate = 8000
	MaxResampleRate = 192000
	MaxRatioTerm    = 1024
)

// Resampler converts a stream of samples between two rates (any pair within
// MinResampleRate..MaxResampleRate, e.g. the project rates 8, 16 and 48 kHz
// and the speech engines' 22050, 24000 and 32000 Hz) with a rational
// polyphase windowed-sinc (Kaiser) FIR filter.
//
// It keeps the filter history between calls, so feeding a signal frame by
// frame yields exactly the samples of one call with the whole signal. The
// filter is causal: output lags input by Delay output samples. Resample
// removes that lag for one-shot conversions; Flush pushes the tail out of a
// stream.
//
// A Resampler is not safe for concurrent use; use one per stream.
type Resampler struct {
	from, to int
	up, down int // rate ratio to/from = up/down in lowest terms
	*bank        // shared, read-only filter bank for up/down

	// buf holds the last taps-1 input samples followed by the current
	// input; it is reused between calls.
	buf []float32
	// next is the position of the next output sample on the upsampled time
	// grid, relative to the first sample of the next input.
	next int
	// in and out count samples since the last Reset, for Flush.
	in, out int64
}

// bank is the polyphase filter for one reduced ratio up/down. The design
// depends on the ratio only, not on the rates themselves, so resamplers of
// equal ratio (48→16 and 24→8 kHz) share it.
type bank struct {
	taps int // coefficients per phase
	// phases[p] holds the taps of phase p in reverse order, so an output is
	// a forward dot product over the newest input samples.
	phases [][]float32
	delay  int // group delay in output samples
}

// banks memoises filter banks by [up, down]: a design for 22050→8000 takes
// milliseconds, which would show in a stream's time to first audio. Banks
// are immutable once stored.
var banks sync.Map // [2]int → *bank

var passThrough = &bank{taps: 1}

// NewResampler returns a resampler from one rate to another. Both rates must
// be within MinResampleRate..MaxResampleRate and their ratio in lowest terms
// must have terms at most MaxRatioTerm; otherwise the error wraps
// ErrUnsupportedRate. Equal rates give a pass-through resampler.
func NewResampler(from, to int) (*Resampler, error) {
	if !supportedRate(from) || !supportedRate(to) {
		return nil, fmt.Errorf("%w: %d Hz to %d Hz (want %d..%d Hz)", ErrUnsupportedRate, from, to, MinResampleRate, MaxResampleRate)
	}
	g := gcd(from, to)
	r := &Resampler{from: from, to: to, up: to / g, down: from / g}
	if r.up > MaxRatioTerm || r.down > MaxRatioTerm {
		return nil, fmt.Errorf("%w: %d Hz to %d Hz is the ratio %d/%d (want terms up to %d)", ErrUnsupportedRate, from, to, r.up, r.down, MaxRatioTerm)
	}
	if from == to {
		r.bank = passThrough
		return r, nil
	}
	key := [2]int{r.up, r.down}
	b, ok := banks.Load(key)
	if !ok {
		b, _ = banks.LoadOrStore(key, design(r.up, r.down))
	}
	r.bank = b.(*bank)
	r.Reset()
	return r, nil
}

func supportedRate(rate int) bool {
	return rate >= MinResampleRate && rate <= MaxResampleRate
}

// design builds the Kaiser-windowed sinc prototype on the upsampled grid
// (up times the input rate) and splits it into phases. Frequencies are in
// units of the upsampled rate, where the lower Nyquist frequency is
// min(up, down)/(2·up·down) whatever the actual rates.
func design(up, down int) *bank {
	nyq := float64(min(up, down)) / float64(2*up*down)
	transition := (1 - passbandEdge) * nyq
	cutoff := (1 + passbandEdge) / 2 * nyq // half-amplitude point

	// Kaiser's estimates for beta and the length meeting stopbandDB.
	beta := 0.1102 * (stopbandDB - 8.7)
	n := int(math.Ceil((stopbandDB - 8) / (2.285 * 2 * math.Pi * transition)))
	// An odd length whose centre falls on the output grid makes the group
	// delay a whole number of output samples, which Resample can drop.
	span := 2 * down
	n = (n+span-2)/span*span + 1
	center := (n - 1) / 2
	b := &bank{delay: center / down, taps: (n + up - 1) / up}

	proto := make([]float64, b.taps*up) // zero padded past n
	i0beta := besselI0(beta)
	for i := range n {
		x := float64(i - center)
		w := besselI0(beta*math.Sqrt(1-(x/float64(center))*(x/float64(center)))) / i0beta
		proto[i] = 2 * cutoff * sinc(2*cutoff*x) * w
	}

	// One backing array keeps the phases next to each other in memory.
	coef := make([]float32, b.taps*up)
	b.phases = make([][]float32, up)
	for p := range up {
		ph := coef[p*b.taps : (p+1)*b.taps : (p+1)*b.taps]
		var sum float64
		for k := range b.taps {
			sum += proto[p+k*up]
		}
		// Normalising each phase to unit DC gain keeps a constant input
		// exactly constant, with no ripple at the input rate.
		for k := range b.taps {
			ph[b.taps-1-k] = float32(proto[p+k*up] / sum)
		}
		b.phases[p] = ph
	}
	return b
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
	r.in, r.out = 0, 0
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
	r.in += int64(len(in))
	if r.up == r.down {
		r.out += int64(len(in))
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
	n0 := len(dst)
	for ; t < end; t += r.down {
		i, p := t/r.up, t%r.up
		dst = append(dst, toInt16(dot(r.phases[p], buf[i:i+r.taps])))
	}
	r.out += int64(len(dst) - n0)
	r.next = t - end
	copy(buf, buf[len(in):])
	return dst
}

// Flush ends the stream: it appends the samples the filter delay still
// holds, so that the stream has given Delay() + round(n·To()/From())
// samples in all for n input samples (dropping the first Delay() of them
// aligns the output with the input), and resets the resampler for a new
// stream.
func (r *Resampler) Flush(dst []int16) []int16 {
	want := int64(r.delay) + (r.in*int64(r.to)+int64(r.from)/2)/int64(r.from)
	var zeros [64]int16
	for r.out < want {
		dst = r.ProcessTo(dst, zeros[:])
		if extra := r.out - want; extra > 0 {
			dst = dst[:len(dst)-int(extra)]
			r.out = want
		}
	}
	r.Reset()
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
	// Room for the delay and the tail Flush pushes out.
	out := make([]int16, 0, r.delay+want+1)
	out = r.ProcessTo(out, in)
	out = r.Flush(out)
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
