// Package codec turns 20 ms PCM frames into RTP payloads and back for the
// telephone codecs Hotline speaks: G.722 (wideband, 16 kHz audio), PCMU and
// PCMA (8 kHz). The SIP stack negotiates one of them per call and asks this
// package for an instance by name.
//
// A Codec holds separate encoder and decoder state, so one goroutine may
// encode while another decodes (the media sender and receiver of a call);
// neither direction is safe for concurrent use on its own. G.722 is pure Go,
// bit-exact with spandsp's G.722 (the tests compare the two on every run),
// so the package needs no C library; Close drops a codec's state and makes
// later Encode and Decode calls return nothing.
package codec

import (
	"fmt"
	"strings"

	"github.com/hotline-ivr/hotline/audio"
)

// Codec encodes and decodes one direction each of a call's audio.
type Codec interface {
	// Name is the SDP encoding name (rtpmap), e.g. "G722", "PCMU".
	Name() string
	// PayloadType is the static RTP payload type (RFC 3551).
	PayloadType() uint8
	// ClockRate is the RTP timestamp rate, which for G.722 (8000) is not
	// the audio rate (16000): RFC 3551 kept an old mistake for compatibility.
	ClockRate() int
	// SampleRate is the PCM rate of the frames Encode takes and Decode
	// returns.
	SampleRate() int
	// Encode appends the payload for frame f (which must be at SampleRate)
	// to dst.
	Encode(dst []byte, f audio.Frame) []byte
	// Decode returns the PCM for one payload, appending to dst's storage.
	Decode(dst []int16, payload []byte) audio.Frame
	// Close frees codec state. It is idempotent.
	Close() error
}

// EncoderSnapshotter is implemented by codecs whose encoder state can be
// saved and put back (trivially for stateless ones). The media sender uses
// it to find the cycle a stateful encoder settles into on silence, repeat
// that cycle's payloads without running the encoder, and resume speech from
// exactly the state the encoder would have reached, so the peer's decoder
// never drifts from it.
type EncoderSnapshotter interface {
	// SaveEncoder appends the encoder's state to dst.
	SaveEncoder(dst []byte) []byte
	// RestoreEncoder puts back a state SaveEncoder returned.
	RestoreEncoder(state []byte)
}

// Static payload types (RFC 3551).
const (
	PayloadPCMU uint8 = 0
	PayloadPCMA uint8 = 8
	PayloadG722 uint8 = 9
)

// Names of the supported codecs, in order of preference: G.722 first,
// because speech recognition is far better at 16 kHz.
var Preferred = []string{"G722", "PCMU", "PCMA"}

// Info describes a codec without creating one (for SDP negotiation).
type Info struct {
	Name        string
	PayloadType uint8
	ClockRate   int
	SampleRate  int
}

var infos = map[string]Info{
	"G722": {"G722", PayloadG722, 8000, audio.Rate16k},
	"PCMU": {"PCMU", PayloadPCMU, 8000, audio.Rate8k},
	"PCMA": {"PCMA", PayloadPCMA, 8000, audio.Rate8k},
}

// Lookup returns the description of a codec by SDP name (case-insensitive).
func Lookup(name string) (Info, bool) {
	i, ok := infos[strings.ToUpper(name)]
	return i, ok
}

// LookupPayloadType returns the codec with a static payload type.
func LookupPayloadType(pt uint8) (Info, bool) {
	for _, i := range infos {
		if i.PayloadType == pt {
			return i, true
		}
	}
	return Info{}, false
}

// New creates a codec instance by SDP name.
func New(name string) (Codec, error) {
	switch strings.ToUpper(name) {
	case "PCMU":
		return &g711{info: infos["PCMU"], enc: audio.EncodeMulaw, dec: audio.DecodeMulaw}, nil
	case "PCMA":
		return &g711{info: infos["PCMA"], enc: audio.EncodeAlaw, dec: audio.DecodeAlaw}, nil
	case "G722":
		return newG722(), nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupported, name)
}

type g711 struct {
	info Info
	enc  func([]byte, []int16) []byte
	dec  func([]int16, []byte) []int16
}

func (c *g711) Name() string       { return c.info.Name }
func (c *g711) PayloadType() uint8 { return c.info.PayloadType }
func (c *g711) ClockRate() int     { return c.info.ClockRate }
func (c *g711) SampleRate() int    { return c.info.SampleRate }
func (c *g711) Close() error       { return nil }

func (c *g711) SaveEncoder(dst []byte) []byte { return dst }
func (c *g711) RestoreEncoder([]byte)         {}

func (c *g711) Encode(dst []byte, f audio.Frame) []byte { return c.enc(dst, f.Samples) }

func (c *g711) Decode(dst []int16, payload []byte) audio.Frame {
	return audio.Frame{Rate: c.info.SampleRate, Samples: c.dec(dst[:0], payload)}
}
