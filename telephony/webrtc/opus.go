package webrtc

import (
	"fmt"

	"gopkg.in/hraban/opus.v2"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/telephony/codec"
)

// Opus is the WebRTC codec every browser sends: libopus at 48 kHz mono,
// 20 ms frames, tuned for speech (VoIP application, in-band FEC). It
// satisfies codec.Codec so it can stand beside the telephone codecs.
type Opus struct {
	enc *opus.Encoder
	dec *opus.Decoder
	pcm []int16 // decode scratch: the longest Opus packet is 120 ms
}

var _ codec.Codec = (*Opus)(nil)

// OpusPayloadType is the dynamic payload type browsers use for Opus.
const OpusPayloadType = 111

const opusMaxSamples = audio.Rate48k * 120 / 1000

// NewOpus creates an encoder and decoder pair.
func NewOpus() (*Opus, error) {
	enc, err := opus.NewEncoder(audio.Rate48k, 1, opus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("webrtc: opus encoder: %w", err)
	}
	// 32 kbit/s is transparent for wideband speech; FEC lets the far end
	// recover single lost packets without a retransmission round trip.
	_ = enc.SetBitrate(32000)
	_ = enc.SetInBandFEC(true)
	_ = enc.SetPacketLossPerc(5)
	dec, err := opus.NewDecoder(audio.Rate48k, 1)
	if err != nil {
		return nil, fmt.Errorf("webrtc: opus decoder: %w", err)
	}
	return &Opus{enc: enc, dec: dec, pcm: make([]int16, opusMaxSamples)}, nil
}

func (o *Opus) Name() string       { return "opus" }
func (o *Opus) PayloadType() uint8 { return OpusPayloadType }
func (o *Opus) ClockRate() int     { return audio.Rate48k }
func (o *Opus) SampleRate() int    { return audio.Rate48k }

// Close is a no-op: hraban/opus keeps codec state in Go memory.
func (o *Opus) Close() error { return nil }

// Encode appends one Opus packet for f (20 ms at 48 kHz; shorter frames
// are zero-padded, since Opus only accepts fixed frame sizes).
func (o *Opus) Encode(dst []byte, f audio.Frame) []byte {
	pcm := f.Samples
	if n := audio.SamplesPerFrame(audio.Rate48k); len(pcm) != n {
		pcm = make([]int16, n)
		copy(pcm, f.Samples)
	}
	start := len(dst)
	dst = append(dst, make([]byte, 1500)...)
	n, err := o.enc.Encode(pcm, dst[start:])
	if err != nil {
		return dst[:start]
	}
	return dst[:start+n]
}

// Decode decodes one packet; a nil or empty payload (a lost packet) or a
// corrupt one yields 20 ms of concealment instead.
func (o *Opus) Decode(dst []int16, payload []byte) audio.Frame {
	pcm, err := o.decode(payload)
	if err != nil || len(payload) == 0 {
		pcm = o.conceal()
	}
	return audio.Frame{Rate: audio.Rate48k, Samples: append(dst[:0], pcm...)}
}

// decode returns the packet's samples (10 to 120 ms) in shared scratch.
func (o *Opus) decode(payload []byte) ([]int16, error) {
	if len(payload) == 0 {
		return nil, fmt.Errorf("webrtc: empty opus packet")
	}
	n, err := o.dec.Decode(payload, o.pcm)
	if err != nil {
		return nil, err
	}
	return o.pcm[:n], nil
}

// conceal returns 20 ms of packet-loss concealment (libopus PLC), which
// fades out the last sound instead of clicking into silence.
func (o *Opus) conceal() []int16 {
	pcm := o.pcm[:audio.SamplesPerFrame(audio.Rate48k)]
	if err := o.dec.DecodePLC(pcm); err != nil {
		clear(pcm)
	}
	return pcm
}
