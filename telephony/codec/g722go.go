package codec

import (
	"encoding/binary"
	"slices"
	"sync"

	"github.com/hotline-ivr/hotline/audio"
)

// G.722 at 64 kbit/s (ITU-T G.722: QMF band split, 6-bit ADPCM for 0-4 kHz,
// 2-bit ADPCM for 4-8 kHz), written to give exactly the bytes and samples
// spandsp's g722_encode and g722_decode give (rate 64000, no options), the
// code this package used through cgo before and the one Asterisk's and
// FreeSWITCH's G.722 descend from; the tests hold the two to each other bit
// for bit. Where spandsp saturates, truncates to 16 bits or rounds by an
// arithmetic shift, so does this; where leaving a saturation out provably
// changes nothing it is left out, and the comment there says why.
//
// Speed comes from doing the same arithmetic with less around it: no cgo
// call, a whole frame per stage, the quantiser's linear search replaced by
// a reciprocal and a table, both QMF dot products from one 64-bit
// multiply-accumulate, and the data-dependent choices in the predictor
// made with masks instead of branches.

// g722 is the Codec. One goroutine may encode while another decodes; the
// mutexes only make Close safe against either.
type g722 struct {
	encMu sync.Mutex
	decMu sync.Mutex
	enc   *g722Encoder // nil after Close
	dec   *g722Decoder
}

func newG722() *g722 {
	return &g722{enc: newG722Encoder(), dec: newG722Decoder()}
}

func (c *g722) Name() string       { return "G722" }
func (c *g722) PayloadType() uint8 { return PayloadG722 }
func (c *g722) ClockRate() int     { return 8000 }
func (c *g722) SampleRate() int    { return audio.Rate16k }

// Encode appends one byte per two samples. An odd last sample is encoded
// paired with a zero (spandsp would read past the frame there).
func (c *g722) Encode(dst []byte, f audio.Frame) []byte {
	if len(f.Samples) == 0 {
		return dst
	}
	c.encMu.Lock()
	defer c.encMu.Unlock()
	if c.enc == nil {
		return dst
	}
	return c.enc.encode(dst, f.Samples)
}

// Decode returns two samples per payload byte, in dst's storage when it is
// large enough.
func (c *g722) Decode(dst []int16, payload []byte) audio.Frame {
	dst = dst[:0]
	if len(payload) == 0 {
		return audio.Frame{Rate: audio.Rate16k, Samples: dst}
	}
	c.decMu.Lock()
	defer c.decMu.Unlock()
	if c.dec == nil {
		return audio.Frame{Rate: audio.Rate16k, Samples: dst}
	}
	if cap(dst) < 2*len(payload) {
		dst = make([]int16, 0, 2*len(payload))
	}
	out := dst[:2*len(payload)]
	c.dec.decode(out, payload)
	return audio.Frame{Rate: audio.Rate16k, Samples: out}
}

// SaveEncoder appends the encoder state (g722StateLen bytes).
func (c *g722) SaveEncoder(dst []byte) []byte {
	c.encMu.Lock()
	defer c.encMu.Unlock()
	if c.enc == nil {
		return dst
	}
	return c.enc.save(dst)
}

// RestoreEncoder puts back a state SaveEncoder returned; anything else is
// ignored.
func (c *g722) RestoreEncoder(state []byte) {
	c.encMu.Lock()
	defer c.encMu.Unlock()
	if c.enc == nil {
		return
	}
	c.enc.restore(state)
}

// Close drops the state; Encode and Decode return nothing afterwards, as
// they did when the state lived in C memory.
func (c *g722) Close() error {
	c.encMu.Lock()
	c.enc = nil
	c.encMu.Unlock()
	c.decMu.Lock()
	c.dec = nil
	c.decMu.Unlock()
	return nil
}

// The quantiser, inverse quantisers and scale-factor tables of G.722.
var (
	// g722Q6 are the lower-band decision levels for levels 1..29 (the
	// standard's q6[1:30]); the quantiser finds the first one above the
	// error, in units of det/4096.
	g722Q6 = [29]int32{
		35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714,
		786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919,
	}
	g722ILN = [32]uint8{
		0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19,
		18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0,
	}
	g722ILP = [32]uint8{
		0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47,
		46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0,
	}
	g722QM2 = [4]int32{-7408, -1616, 7408, 1616}
	g722QM4 = [16]int32{
		0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
		20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
	}
	g722QM6 = [64]int32{
		-136, -136, -136, -136, -24808, -21904, -19008, -16704,
		-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
		-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
		-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
		24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
		10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
		4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
		1688, 1360, 1040, 728, 432, 136, -432, -136,
	}
	g722WL   = [8]int32{-60, -30, 58, 172, 334, 538, 1198, 3042}
	g722RL42 = [16]uint8{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
	g722WH   = [3]int32{0, -214, 798}
	g722RH2  = [4]uint8{2, 1, 2, 1}
	g722ILB  = [32]int32{
		2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383,
		2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
		2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371,
		3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
	}
)

// Limits of the log scale factors (nb) of the two bands.
const (
	g722NBMaxLow  = 18432
	g722NBMaxHigh = 22528
)

// Derived tables, so the per-sample path does table lookups instead of
// chains of them and no variable shifts.
var (
	// Scale factor det for each nb>>6 (SCALEL and SCALEH depend on nb only
	// through nb>>6). The tables have 512 entries so that indexing with
	// nb>>6&511 needs no bounds check; only the first 289 and 353 are
	// reachable, and det never exceeds 16384.
	g722DetLow  = g722DetTable(g722NBMaxLow, 8)
	g722DetHigh = g722DetTable(g722NBMaxHigh, 10)

	// Lower-band encoder, indexed by quantiser level (0..29 for the
	// standard's 1..30) | 32 when the error is negative: the 6-bit code,
	// the 4-bit inverse-quantiser multiplier (INVQAL) and the scale-factor
	// step (LOGSCL).
	g722LowCode, g722LowDQ, g722LowW = g722LowEncTables()

	// Lower-band decoder, indexed by the 6-bit code: the 4-bit
	// inverse-quantiser multiplier and the scale-factor step.
	g722DecLowDQ, g722DecLowW = g722LowDecTables()

	// Higher band, indexed by the 2-bit code: the inverse-quantiser
	// multiplier and the scale-factor step (LOGSCH).
	g722HighW = [4]int32{g722WH[g722RH2[0]], g722WH[g722RH2[1]], g722WH[g722RH2[2]], g722WH[g722RH2[3]]}

	// g722RecipLow[nb>>6] is ceil(2^g722RecipShift / det) for the lower
	// band's det, and g722LevelAbove[v] the first level (0-based) whose
	// decision value exceeds v, 29 when none does (the table goes up to
	// 4095 so that a clamp and a mask spare the bounds check).
	g722RecipLow   = g722Recips(&g722DetLow)
	g722LevelAbove = g722Levels()
)

// g722RecipShift makes n*ceil(2^41/det)>>41 equal n/det for all n < 2^27
// (the largest quantiser numerator is 32767<<12 + 4095) and det <= 2^14
// (Granlund and Montgomery: 2^(41-27) >= det), with the product below
// 2^64 because det >= 32.
const g722RecipShift = 41

func g722Recips(det *[512]int32) (t [512]uint64) {
	for i, d := range det {
		t[i] = (1<<g722RecipShift + uint64(d) - 1) / uint64(d)
	}
	return t
}

func g722Levels() (t [4096]uint8) {
	for v := range t {
		for int32(v) >= g722Q6[t[v]] {
			t[v]++
			if int(t[v]) == len(g722Q6) {
				break
			}
		}
	}
	return t
}

func g722DetTable(nbMax int32, base int) (t [512]int32) {
	for i := range t {
		j := min(i, int(nbMax>>6)) // past the reachable: keep det sane
		wd1 := j & 31
		wd2 := base - j>>5
		var wd3 int32
		if wd2 < 0 {
			wd3 = g722ILB[wd1] << -wd2
		} else {
			wd3 = g722ILB[wd1] >> wd2
		}
		t[i] = int32(int16(wd3 << 2))
	}
	return t
}

func g722LowEncTables() (code [64]uint8, dq, w [64]int32) {
	for i := range 30 {
		for neg := range 2 {
			il := g722ILP[i+1]
			if neg == 1 {
				il = g722ILN[i+1]
			}
			k := i | neg<<5
			code[k] = il
			dq[k] = g722QM4[il>>2]
			w[k] = g722WL[g722RL42[il>>2]]
		}
	}
	return
}

func g722LowDecTables() (dq, w [64]int32) {
	for c := range 64 {
		dq[c] = g722QM4[c>>2]
		w[c] = g722WL[g722RL42[c>>2]]
	}
	return
}

// sat16 saturates to the int16 range. Saturation is rare on real signals,
// so a predictable branch beats two conditional moves.
func sat16(x int32) int32 {
	if uint32(x+32768) > 0xffff {
		return 32767 ^ x>>31
	}
	return x
}

// g722Band is the ADPCM state of one sub-band. Values are int16 in spandsp
// and stay in int16 range here; int32 spares the sign extensions.
type g722Band struct {
	nb, det int32 // log and linear scale factor
	s       int32 // signal estimate
	sz      int32 // its zero-section (FIR) part
	// rr is the last reconstructed signal r doubled with saturation, the
	// only form in which the pole section uses it.
	rr     int32
	p0, p1 int32    // last two partial reconstructions (signs drive UPPOL)
	a0, a1 int32    // pole coefficients
	b      [6]int32 // zero coefficients
	// dd[i] is the quantised difference of i+1 samples ago doubled with
	// saturation: the zero section multiplies by exactly that, and its sign
	// (the same as the undoubled value's) drives UPZERO. spandsp keeps the
	// undoubled values; the outputs do not depend on the difference.
	dd [6]int32
}

// g722Mode is what a band's run does around the shared predictor update.
type g722Mode int

const (
	g722EncLow  g722Mode = iota // in: lower-band signal; out: 6-bit codes
	g722EncHigh                 // in: higher-band signal; out: 2-bit codes
	g722DecLow                  // in: 6-bit codes; out: reconstructed signal
	g722DecHigh                 // in: 2-bit codes; out: reconstructed signal
)

// run takes one band through len(in) samples (out may be in): quantisation
// or inverse quantisation by mode, the scale-factor update (LOGSCL/LOGSCH,
// SCALEL/SCALEH) and spandsp's block 4 (the adaptive predictor). Given the
// band signals or codes the two bands are independent, so each runs over a
// whole chunk at a time with most of its state in local variables; block 4
// is written once, here, for all four uses.
func (st *g722Band) run(mode g722Mode, in, out []int32) {
	out = out[:len(in)]
	s, sz, rr := st.s, st.sz, st.rr
	p0, p1, a0, a1 := st.p0, st.p1, st.a0, st.a1
	nb, det := st.nb, st.det
	b, d := &st.b, &st.dd
	for i, x := range in {
		// dx is the quantised difference signal the predictor adapts on.
		var dx int32
		switch mode {
		case g722EncLow:
			// SUBTRA, QUANTL, INVQAL
			el := sat16(x - s)
			neg := el >> 31
			k := (g722QuantL(el^neg, nb) | int(neg&32)) & 63
			out[i] = int32(g722LowCode[k])
			dx = (det * g722LowDQ[k]) >> 15
			nb = min(max((nb*127)>>7+g722LowW[k], 0), g722NBMaxLow)
			det = g722DetLow[nb>>6&511]
		case g722EncHigh:
			// SUBTRA, QUANTH, INVQAH. Codes 3 and 2 are small and
			// large positive errors, 1 and 0 negative ones.
			eh := sat16(x - s)
			neg := eh >> 31
			large := ((564*det)>>12 - 1 - (eh ^ neg)) >> 31 // -1 when |eh| reaches the level
			ih := (3 + large + neg*2) & 3
			out[i] = ih
			dx = (det * g722QM2[ih]) >> 15
			nb = min(max((nb*127)>>7+g722HighW[ih], 0), g722NBMaxHigh)
			det = g722DetHigh[nb>>6&511]
		case g722DecLow:
			// INVQBL with all 6 bits, RECONS, LIMIT to 15 bits; the
			// predictor adapts on the 4-bit inverse quantisation.
			c := x & 63
			out[i] = min(max(s+(det*g722QM6[c])>>15, -16384), 16383)
			dx = (det * g722DecLowDQ[c]) >> 15
			nb = min(max((nb*127)>>7+g722DecLowW[c], 0), g722NBMaxLow)
			det = g722DetLow[nb>>6&511]
		default: // g722DecHigh
			c := x & 3
			dx = (det * g722QM2[c]) >> 15
			out[i] = min(max(s+dx, -16384), 16383)
			nb = min(max((nb*127)>>7+g722HighW[c], 0), g722NBMaxHigh)
			det = g722DetHigh[nb>>6&511]
		}

		// Block 4. RECONS and PARREC; only 2r is used, and saturating r
		// first changes nothing in sat(2r).
		r2 := sat16(2 * (s + dx))
		p := sat16(sz + dx)

		// UPPOL2, UPPOL1. The signs of p against the last two p decide
		// the directions; they are as good as random, so masks rather
		// than branches. wd32 exceeds 32767 only when a0<<2 saturated
		// to -32768. a0 needs no saturation before its clamp to
		// +-(15360-a1): 192 + a0*32640>>15 can leave int16 only when
		// the clamp would catch it anyway.
		diff0 := (p ^ p0) >> 31 // -1 when the signs differ
		diff1 := (p ^ p1) >> 31
		wd1 := sat16(a0 << 2)
		wd32 := min(wd1^^diff0-^diff0, 32767) // wd1, or -wd1 on equal signs
		sg0 := 192 ^ diff0 - diff0            // +-192
		sg1 := 128 ^ diff1 - diff1            // +-128
		na1 := int32(int16(sg1 + wd32>>7 + (a1*32512)>>15))
		na1 = min(max(na1, -12288), 12288)
		lim := 15360 - na1
		na0 := min(max(sg0+(a0*32640)>>15, -lim), lim)

		// FILTEP
		sp := sat16((na0*r2)>>15 + (na1*rr)>>15)
		rr, a0, a1, p1, p0 = r2, na0, na1, p0, p

		// UPZERO, DELAYA, FILTEZ, one tap at a time. Each b leaks by
		// 32640/32768 and moves 128 towards agreeing in sign with dx
		// (not at all when dx is 0): g is +-128 with the sign of dx, 0
		// for 0. b stays in int16 without saturation: 32767 leaks to
		// 32639 (+128 = 32767) and -32768 to -32640 (-128 = -32768).
		// det <= 16384, so |dx| <= 16384*20456>>15 and 2dx needs no
		// saturation either.
		g := (128 ^ dx>>31 - dx>>31) & ((dx | -dx) >> 31)
		d0 := dx + dx
		di := d[5]
		m := di >> 31
		bi := (b[5]*32640)>>15 + (g ^ m) - m
		b[5] = bi
		di = d[4]
		z := (bi * di) >> 15
		d[5] = di
		m = di >> 31
		bi = (b[4]*32640)>>15 + (g ^ m) - m
		b[4] = bi
		di = d[3]
		z += (bi * di) >> 15
		d[4] = di
		m = di >> 31
		bi = (b[3]*32640)>>15 + (g ^ m) - m
		b[3] = bi
		di = d[2]
		z += (bi * di) >> 15
		d[3] = di
		m = di >> 31
		bi = (b[2]*32640)>>15 + (g ^ m) - m
		b[2] = bi
		di = d[1]
		z += (bi * di) >> 15
		d[2] = di
		m = di >> 31
		bi = (b[1]*32640)>>15 + (g ^ m) - m
		b[1] = bi
		di = d[0]
		z += (bi * di) >> 15
		d[1] = di
		m = di >> 31
		bi = (b[0]*32640)>>15 + (g ^ m) - m
		b[0] = bi
		z += (bi * d0) >> 15
		d[0] = d0

		// PREDIC
		sz = sat16(z)
		s = sat16(sp + sz)
	}
	st.s, st.sz, st.rr = s, sz, rr
	st.p0, st.p1, st.a0, st.a1 = p0, p1, a0, a1
	st.nb, st.det = nb, det
}

// g722QuantL is QUANTL's search: the first level i (1..30) with
// wd < (q6[i]*det)>>12, returned as i-1. That is the first i with
// q6[i] > (wd<<12 + 4095)/det, the quotient coming from a multiplication
// by det's precomputed reciprocal (exact for every det and wd, see the
// tests) and the level from a table over it.
func g722QuantL(wd, nb int32) int {
	v := (uint64(wd<<12+4095) * g722RecipLow[nb>>6&511]) >> g722RecipShift
	return int(g722LevelAbove[min(v, 4095)&4095])
}

// g722QMF holds the QMF delay lines: the even and odd samples of the
// last 12 pairs in x[:12] and y[:12], oldest first, and room after them
// for a chunk, so a whole chunk filters through plain slices and the last
// 12 pairs move back to the front afterwards.
//
// The even samples are kept shifted up by 32 bits: the two dot products
// use the same coefficients on x oldest-first and y newest-first, so
// adding such a pair before multiplying gets both 32-bit sums out of one
// 64-bit multiply (the upper sum stays below 2^28 in magnitude, the lower
// below 2^31, so neither disturbs the other beyond a borrow).
type g722QMF struct {
	x, y [12 + g722Chunk]int64
}

// filter returns the dot products for the pair at x[i+12], y[i+12] and
// the 11 before it: the even samples with the forward coefficients
// (3, -11, 12, ...) and the odd ones with the reverse.
func (q *g722QMF) filter(i int) (sx, sy int32) {
	w := (*[12]int64)(q.x[i+1 : i+13])
	v := (*[12]int64)(q.y[i+1 : i+13])
	s := (w[0]+v[11])*3 + (w[1]+v[10])*-11 + (w[2]+v[9])*12 + (w[3]+v[8])*32 +
		(w[4]+v[7])*-210 + (w[5]+v[6])*951 + (w[6]+v[5])*3876 + (w[7]+v[4])*-805 +
		(w[8]+v[3])*362 + (w[9]+v[2])*-156 + (w[10]+v[1])*53 + (w[11]+v[0])*-11
	sy = int32(s)
	sx = int32((s - int64(sy)) >> 32)
	return sx, sy
}

// shift moves the last 12 pairs of a chunk of k back to the front.
func (q *g722QMF) shift(k int) {
	copy(q.x[:12], q.x[k:k+12])
	copy(q.y[:12], q.y[k:k+12])
}

// history returns the 12 newest even and odd samples, oldest first.
func (q *g722QMF) history() (x, y [12]int32) {
	for i := range 12 {
		x[i], y[i] = int32(q.x[i]>>32), int32(q.y[i])
	}
	return x, y
}

// setHistory is the inverse of history.
func (q *g722QMF) setHistory(x, y *[12]int32) {
	for i := range 12 {
		q.x[i], q.y[i] = int64(x[i])<<32, int64(y[i])
	}
}

func newG722Band(det int32) g722Band { return g722Band{det: det} }

// g722Chunk is how many sample pairs the encoder and decoder take through
// each stage at a time: one 20 ms frame.
const g722Chunk = 160

type g722Encoder struct {
	qmf    g722QMF
	low    g722Band
	high   g722Band
	xl, xh [g722Chunk]int32 // band signals, then codes
}

func newG722Encoder() *g722Encoder {
	return &g722Encoder{low: newG722Band(g722DetLow[0]), high: newG722Band(g722DetHigh[0])}
}

func (e *g722Encoder) encode(dst []byte, pcm []int16) []byte {
	n := (len(pcm) + 1) / 2
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	out := dst[start:]
	for len(out) > 0 {
		k := min(len(out), g722Chunk)
		xl, xh := e.xl[:k], e.xh[:k]
		// Transmit QMF. The shift removes the filters' gain of 4096,
		// the sum of two filters and one bit (G.722 works on 15-bit
		// samples); the results fit 16 bits (|sum| <= 2*6482*32768>>14).
		q := &e.qmf
		for i := range xl {
			x := int32(pcm[2*i])
			var y int32
			if 2*i+1 < len(pcm) {
				y = int32(pcm[2*i+1])
			}
			q.x[12+i], q.y[12+i] = int64(x)<<32, int64(y)
			sumOdd, sumEven := q.filter(i)
			xl[i] = (sumEven + sumOdd) >> 14
			xh[i] = (sumEven - sumOdd) >> 14
		}
		q.shift(k)
		e.low.run(g722EncLow, xl, xl)
		e.high.run(g722EncHigh, xh, xh)
		for i, l := range xl {
			out[i] = byte(xh[i]<<6 | l)
		}
		out = out[k:]
		pcm = pcm[min(2*k, len(pcm)):]
	}
	return dst
}

type g722Decoder struct {
	qmf    g722QMF
	low    g722Band
	high   g722Band
	rl, rh [g722Chunk]int32 // codes, then reconstructed band signals
}

func newG722Decoder() *g722Decoder {
	return &g722Decoder{low: newG722Band(g722DetLow[0]), high: newG722Band(g722DetHigh[0])}
}

// decode writes two samples per payload byte to out (len(out) ==
// 2*len(payload)).
func (d *g722Decoder) decode(out []int16, payload []byte) {
	out = out[:2*len(payload)]
	for len(payload) > 0 {
		k := min(len(payload), g722Chunk)
		rl, rh := d.rl[:k], d.rh[:k]
		for i, c := range payload[:k] {
			rl[i], rh[i] = int32(c&63), int32(c>>6)
		}
		d.low.run(g722DecLow, rl, rl)
		d.high.run(g722DecHigh, rh, rh)
		// Receive QMF. Its output is truncated to 16 bits, not
		// saturated: spandsp does the same, and only garbage input gets
		// that loud.
		o := out[:2*k]
		q := &d.qmf
		for i, l := range rl {
			h := rh[i]
			q.x[12+i], q.y[12+i] = int64(l+h)<<32, int64(l-h)
			sx, sy := q.filter(i)
			o[2*i] = int16(sy >> 11)
			o[2*i+1] = int16(sx >> 11)
		}
		q.shift(k)
		out, payload = out[2*k:], payload[k:]
	}
}

// The encoder state SaveEncoder writes: a format byte, the QMF history
// (12 even then 12 odd samples, oldest first) and for the lower then the
// higher band nb, s, sz, rr, p0, p1, a0, a1, b[0:6], dd[0:6], all int16
// little-endian. det is left out: it is a function of nb.
const (
	g722StateFormat = 1
	g722BandFields  = 20
	g722StateLen    = 1 + 2*(24+2*g722BandFields)
)

func (b *g722Band) fields() [g722BandFields]*int32 {
	return [g722BandFields]*int32{
		&b.nb, &b.s, &b.sz, &b.rr, &b.p0, &b.p1, &b.a0, &b.a1,
		&b.b[0], &b.b[1], &b.b[2], &b.b[3], &b.b[4], &b.b[5],
		&b.dd[0], &b.dd[1], &b.dd[2], &b.dd[3], &b.dd[4], &b.dd[5],
	}
}

func (e *g722Encoder) save(dst []byte) []byte {
	dst = append(dst, g722StateFormat)
	x, y := e.qmf.history()
	for _, v := range x {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
	}
	for _, v := range y {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
	}
	for _, b := range []*g722Band{&e.low, &e.high} {
		for _, f := range b.fields() {
			dst = binary.LittleEndian.AppendUint16(dst, uint16(*f))
		}
	}
	return dst
}

// restore loads a state save wrote. One of another length or format, or
// with a scale factor out of range, is ignored.
func (e *g722Encoder) restore(state []byte) {
	if len(state) != g722StateLen || state[0] != g722StateFormat {
		return
	}
	next := func() int32 {
		v := int32(int16(binary.LittleEndian.Uint16(state)))
		state = state[2:]
		return v
	}
	state = state[1:]
	var x, y [12]int32
	for i := range x {
		x[i] = next()
	}
	for i := range y {
		y[i] = next()
	}
	var low, high g722Band
	for _, f := range low.fields() {
		*f = next()
	}
	for _, f := range high.fields() {
		*f = next()
	}
	if low.nb < 0 || low.nb > g722NBMaxLow || high.nb < 0 || high.nb > g722NBMaxHigh {
		return
	}
	low.det, high.det = g722DetLow[low.nb>>6&511], g722DetHigh[high.nb>>6&511]
	e.qmf.setHistory(&x, &y)
	e.low, e.high = low, high
}
