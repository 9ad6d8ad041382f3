package codec

/*
#cgo LDFLAGS: -lspandsp
#include <stdint.h>
#include <spandsp/telephony.h>
#include <spandsp/g722.h>
#include <spandsp/private/g722.h>
*/
import "C"

import (
	"sync"
	"unsafe"

	"github.com/hotline-ivr/hotline/audio"
)

// g722 wraps spandsp's G.722 at 64 kbit/s: 16 kHz PCM in, one byte per two
// samples out (160 bytes per 20 ms).
type g722 struct {
	encMu sync.Mutex // guards enc against Close racing Encode
	decMu sync.Mutex
	enc   *C.g722_encode_state_t
	dec   *C.g722_decode_state_t
}

func newG722() (*g722, error) {
	enc := C.g722_encode_init(nil, 64000, 0)
	if enc == nil {
		return nil, ErrInit
	}
	dec := C.g722_decode_init(nil, 64000, 0)
	if dec == nil {
		C.g722_encode_free(enc)
		return nil, ErrInit
	}
	return &g722{enc: enc, dec: dec}, nil
}

func (c *g722) Name() string       { return "G722" }
func (c *g722) PayloadType() uint8 { return PayloadG722 }
func (c *g722) ClockRate() int     { return 8000 }
func (c *g722) SampleRate() int    { return audio.Rate16k }

func (c *g722) Encode(dst []byte, f audio.Frame) []byte {
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
	dst = grow(dst, n/2+1)
	out := dst[start:cap(dst)]
	k := C.g722_encode(c.enc, (*C.uint8_t)(unsafe.Pointer(&out[0])),
		(*C.int16_t)(unsafe.Pointer(&f.Samples[0])), C.int(n))
	return dst[:start+int(k)]
}

// SaveEncoder appends a copy of the encoder's C state (plain integers, no
// pointers) to dst.
func (c *g722) SaveEncoder(dst []byte) []byte {
	c.encMu.Lock()
	defer c.encMu.Unlock()
	if c.enc == nil {
		return dst
	}
	return append(dst, unsafe.Slice((*byte)(unsafe.Pointer(c.enc)), C.sizeof_g722_encode_state_t)...)
}

// RestoreEncoder puts back a state SaveEncoder returned.
func (c *g722) RestoreEncoder(state []byte) {
	c.encMu.Lock()
	defer c.encMu.Unlock()
	if c.enc == nil || len(state) != C.sizeof_g722_encode_state_t {
		return
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(c.enc)), C.sizeof_g722_encode_state_t), state)
}

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
	k := C.g722_decode(c.dec, (*C.int16_t)(unsafe.Pointer(&out[0])),
		(*C.uint8_t)(unsafe.Pointer(&payload[0])), C.int(len(payload)))
	return audio.Frame{Rate: audio.Rate16k, Samples: out[:int(k)]}
}

func (c *g722) Close() error {
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

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+n)
	copy(nb, b)
	return nb
}
