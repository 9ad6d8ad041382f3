// Package spandsp wraps libspandsp's G.722 (64 kbit/s, no options) through
// cgo. It is the reference the pure-Go G.722 in telephony/codec is tested
// against bit for bit, and benchmarked against; nothing outside those tests
// imports it, so only the tests need libspandsp.
package spandsp

/*
#cgo LDFLAGS: -lspandsp
#include <stdint.h>
#include <spandsp/telephony.h>
#include <spandsp/g722.h>
#include <spandsp/private/g722.h>
*/
import "C"

import (
	"slices"
	"sync"
	"unsafe"

	"github.com/hotline-ivr/hotline/audio"
)

// G722 has the method set of codec.Codec and codec.EncoderSnapshotter
// (this package cannot import codec: codec's tests import it).
type G722 struct {
	encMu sync.Mutex // guards enc against Close racing Encode
	decMu sync.Mutex
	enc   *C.g722_encode_state_t
	dec   *C.g722_decode_state_t
}

// New creates spandsp encoder and decoder states at 64 kbit/s.
func New() (*G722, error) {
	enc := C.g722_encode_init(nil, 64000, 0)
	if enc == nil {
		return nil, ErrInit
	}
	dec := C.g722_decode_init(nil, 64000, 0)
	if dec == nil {
		C.g722_encode_free(enc)
		return nil, ErrInit
	}
	return &G722{enc: enc, dec: dec}, nil
}

func (c *G722) Name() string       { return "G722" }
func (c *G722) PayloadType() uint8 { return 9 }
func (c *G722) ClockRate() int     { return 8000 }
func (c *G722) SampleRate() int    { return audio.Rate16k }

// Encode appends one byte per two samples. An odd frame length makes
// spandsp read one sample past the end; callers (tests) use even lengths.
func (c *G722) Encode(dst []byte, f audio.Frame) []byte {
	n := len(f.Samples)
	if n == 0 {
		return dst
	}
	c.encMu.Lock()
	defer c.encMu.Unlock()
	if c.enc == nil {
		return dst
	}
	start := len(dst)
	dst = slices.Grow(dst, n/2+1)
	out := dst[start:cap(dst)]
	k := C.g722_encode(c.enc, (*C.uint8_t)(unsafe.Pointer(&out[0])),
		(*C.int16_t)(unsafe.Pointer(&f.Samples[0])), C.int(n))
	return dst[:start+int(k)]
}

// SaveEncoder appends a copy of the encoder's C state (plain integers, no
// pointers) to dst.
func (c *G722) SaveEncoder(dst []byte) []byte {
	c.encMu.Lock()
	defer c.encMu.Unlock()
	if c.enc == nil {
		return dst
	}
	return append(dst, unsafe.Slice((*byte)(unsafe.Pointer(c.enc)), C.sizeof_g722_encode_state_t)...)
}

// RestoreEncoder puts back a state SaveEncoder returned.
func (c *G722) RestoreEncoder(state []byte) {
	c.encMu.Lock()
	defer c.encMu.Unlock()
	if c.enc == nil || len(state) != C.sizeof_g722_encode_state_t {
		return
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(c.enc)), C.sizeof_g722_encode_state_t), state)
}

// Band is one sub-band's ADPCM state as spandsp keeps it.
type Band struct {
	NB, Det, S, SZ, R int16
	P, A              [2]int16
	B                 [6]int16
	D                 [7]int16
}

// State is the encoder's or decoder's signal state: the QMF history (X and
// Y, written at Ptr, which is the oldest entry) and the two bands.
type State struct {
	X, Y [12]int16
	Ptr  int
	Band [2]Band
}

func band(b *C.g722_band_t) Band {
	out := Band{NB: int16(b.nb), Det: int16(b.det), S: int16(b.s), SZ: int16(b.sz), R: int16(b.r)}
	for i := range out.P {
		out.P[i], out.A[i] = int16(b.p[i]), int16(b.a[i])
	}
	for i := range out.B {
		out.B[i] = int16(b.b[i])
	}
	for i := range out.D {
		out.D[i] = int16(b.d[i])
	}
	return out
}

// EncoderState returns a copy of the encoder's signal state (zero after
// Close).
func (c *G722) EncoderState() State {
	c.encMu.Lock()
	defer c.encMu.Unlock()
	var s State
	if c.enc == nil {
		return s
	}
	for i := range s.X {
		s.X[i], s.Y[i] = int16(c.enc.x[i]), int16(c.enc.y[i])
	}
	s.Ptr = int(c.enc.ptr)
	s.Band[0], s.Band[1] = band(&c.enc.band[0]), band(&c.enc.band[1])
	return s
}

// DecoderState returns a copy of the decoder's signal state (zero after
// Close).
func (c *G722) DecoderState() State {
	c.decMu.Lock()
	defer c.decMu.Unlock()
	var s State
	if c.dec == nil {
		return s
	}
	for i := range s.X {
		s.X[i], s.Y[i] = int16(c.dec.x[i]), int16(c.dec.y[i])
	}
	s.Ptr = int(c.dec.ptr)
	s.Band[0], s.Band[1] = band(&c.dec.band[0]), band(&c.dec.band[1])
	return s
}

func setBand(b *C.g722_band_t, v Band) {
	b.nb, b.det, b.s, b.sz, b.r = C.int16_t(v.NB), C.int16_t(v.Det), C.int16_t(v.S), C.int16_t(v.SZ), C.int16_t(v.R)
	for i := range v.P {
		b.p[i], b.a[i] = C.int16_t(v.P[i]), C.int16_t(v.A[i])
	}
	for i := range v.B {
		b.b[i] = C.int16_t(v.B[i])
	}
	for i := range v.D {
		b.d[i] = C.int16_t(v.D[i])
	}
}

// SetEncoderState overwrites the encoder's signal state (tests start both
// implementations from the same arbitrary state). Ptr must be 0..11.
func (c *G722) SetEncoderState(s State) {
	c.encMu.Lock()
	defer c.encMu.Unlock()
	if c.enc == nil || s.Ptr < 0 || s.Ptr >= 12 {
		return
	}
	for i := range s.X {
		c.enc.x[i], c.enc.y[i] = C.int16_t(s.X[i]), C.int16_t(s.Y[i])
	}
	c.enc.ptr = C.int(s.Ptr)
	setBand(&c.enc.band[0], s.Band[0])
	setBand(&c.enc.band[1], s.Band[1])
}

// SetDecoderState overwrites the decoder's signal state. Ptr must be
// 0..11.
func (c *G722) SetDecoderState(s State) {
	c.decMu.Lock()
	defer c.decMu.Unlock()
	if c.dec == nil || s.Ptr < 0 || s.Ptr >= 12 {
		return
	}
	for i := range s.X {
		c.dec.x[i], c.dec.y[i] = C.int16_t(s.X[i]), C.int16_t(s.Y[i])
	}
	c.dec.ptr = C.int(s.Ptr)
	setBand(&c.dec.band[0], s.Band[0])
	setBand(&c.dec.band[1], s.Band[1])
}

// Decode returns two samples per payload byte, in dst's storage when it is
// large enough.
func (c *G722) Decode(dst []int16, payload []byte) audio.Frame {
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
	k := C.g722_decode(c.dec, (*C.int16_t)(unsafe.Pointer(&out[0])),
		(*C.uint8_t)(unsafe.Pointer(&payload[0])), C.int(len(payload)))
	return audio.Frame{Rate: audio.Rate16k, Samples: out[:int(k)]}
}

// Close frees the C state. It is idempotent.
func (c *G722) Close() error {
	c.encMu.Lock()
	if c.enc != nil {
		C.g722_encode_free(c.enc)
		c.enc = nil
	}
	c.encMu.Unlock()
	c.decMu.Lock()
	if c.dec != nil {
		C.g722_decode_free(c.dec)
		c.dec = nil
	}
	c.decMu.Unlock()
	return nil
}
