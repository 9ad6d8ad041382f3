// Package resample converts PCM between arbitrary integer sample rates with
// a rational polyphase windowed-sinc filter. Speech engines produce odd
// rates (eSpeak 22050 Hz, the Festival SLT voice 32000 Hz, speech endpoints
// 24000 Hz) that the project's audio.Resampler, built for the 8/16/48 kHz
// pairs, does not take.
package resample

import (
	"math"
	"sync"
)

// Filter targets: flat to passband of the lower Nyquist frequency, at least
// stopbandDB down from the lower Nyquist on. Speech above 0.85 of Nyquist
// carries little, and a wider transition keeps the filter short.
const (
	passband   = 0.85
	stopbandDB = 60
)

type design struct {
	up, down, taps int
	phases         [][]float32 // per phase, taps in reverse order
	delay          int         // group delay in output samples
}

// designs memoises filter designs by rate pair: designing the 22050→8000
// filter takes a few milliseconds, which would show in time to first audio.
// Designs are immutable once stored.
var designs sync.Map // [2]int → *design

func getDesign(from, to int) *design {
	key := [2]int{from, to}
	if d, ok := designs.Load(key); ok {
		return d.(*design)
	}
	d, _ := designs.LoadOrStore(key, newDesign(from, to))
	return d.(*design)
}

func newDesign(from, to int) *design {
	g := gcd(from, to)
	d := &design{up: to / g, down: from / g}
	fast := float64(from) * float64(d.up)
	nyq := float64(min(from, to)) / 2
	transition := (1 - passband) * nyq / fast
	cutoff := (1 + passband) / 2 * nyq / fast
	beta := 0.1102 * (stopbandDB - 8.7)
	n := int(math.Ceil((stopbandDB - 8) / (2.285 * 2 * math.Pi * transition)))
	// Odd length with the centre on the output grid: the delay is a whole
	// number of output samples and can be dropped exactly.
	span := 2 * d.down
	n = (n+span-2)/span*span + 1
	center := (n - 1) / 2
	d.delay = center / d.down
	d.taps = (n + d.up - 1) / d.up
	proto := make([]float64, d.taps*d.up)
	i0 := besselI0(beta)
	for i := range n {
		x := float64(i - center)
		r := x / float64(center)
		w := besselI0(beta*math.Sqrt(max(0, 1-r*r))) / i0
		proto[i] = 2 * cutoff * sinc(2*cutoff*x) * w
	}
	d.phases = make([][]float32, d.up)
	for p := range d.up {
		ph := make([]float32, d.taps)
		var sum float64
		for k := range d.taps {
			sum += proto[p+k*d.up]
		}
		for k := range d.taps {
			ph[d.taps-1-k] = float32(proto[p+k*d.up] / sum)
		}
		d.phases[p] = ph
	}
	return d
}

// Resampler converts one stream. The output is time-aligned with the input:
// the filter delay is dropped at the start and Flush pushes out the tail.
// It is not safe for concurrent use.
type Resampler struct {
	d    *design
	buf  []float32 // taps-1 samples of history, then the current input
	next int       // next output position on the upsampled grid
	skip int       // delay samples still to drop
	in   int64     // input samples seen
	out  int64     // output samples produced (after skip)
	from int
	to   int
}

// New returns a resampler from one positive rate to another.
func New(from, to int) *Resampler {
	r := &Resampler{from: from, to: to}
	if from == to {
		return r
	}
	r.d = getDesign(from, to)
	r.buf = make([]float32, r.d.taps-1, 4096)
	r.skip = r.d.delay
	return r
}

// Process appends the output for the next chunk of input to dst.
func (r *Resampler) Process(dst, in []int16) []int16 {
	r.in += int64(len(in))
	if r.d == nil {
		r.out += int64(len(in))
		return append(dst, in...)
	}
	d := r.d
	hist := d.taps - 1
	buf := r.buf[:hist]
	for _, s := range in {
		buf = append(buf, float32(s))
	}
	end := len(in) * d.up
	t := r.next
	for ; t < end; t += d.down {
		if r.skip > 0 {
			r.skip--
			continue
		}
		i, p := t/d.up, t%d.up
		dst = append(dst, clip(dot(d.phases[p], buf[i:i+d.taps])))
		r.out++
	}
	r.next = t - end
	copy(buf, buf[len(in):])
	r.buf = buf[:hist]
	return dst
}

// Flush appends the rest of the output, so the whole stream has
// round(inputs*to/from) samples.
func (r *Resampler) Flush(dst []int16) []int16 {
	want := (r.in*int64(r.to) + int64(r.from)/2) / int64(r.from)
	if r.d == nil || r.out >= want {
		return dst
	}
	zeros := make([]int16, 64)
	for r.out < want {
		n := len(dst)
		dst = r.Process(dst, zeros)
		r.in -= int64(len(zeros)) // padding is not input
		if extra := r.out - want; extra > 0 {
			dst = dst[:len(dst)-int(min(extra, int64(len(dst)-n)))]
			r.out = want
		}
	}
	return dst
}

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

func clip(v float32) int16 {
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

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

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
