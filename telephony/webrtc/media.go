package webrtc

import (
	"errors"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/telephony/codec"
)

// voiceCodec is a call's codec as the media loops use it: one encoder
// (owned by the pacer) and one decoder (owned by the receive loop).
type voiceCodec struct {
	name    string
	rate    int
	cap     webrtc.RTPCodecParameters
	encode  func(dst []byte, f audio.Frame) []byte
	decode  func(payload []byte) ([]int16, error)
	conceal func() []int16
	close   func() error
}

func newVoiceCodec(name string) (*voiceCodec, error) {
	switch name {
	case "opus":
		o, err := NewOpus()
		if err != nil {
			return nil, err
		}
		return &voiceCodec{
			name: "opus", rate: audio.Rate48k,
			cap: webrtc.RTPCodecParameters{PayloadType: OpusPayloadType, RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}},
			encode: o.Encode, decode: o.decode, conceal: o.conceal, close: o.Close,
		}, nil
	case "PCMU":
		c, err := codec.New("PCMU")
		if err != nil {
			return nil, err
		}
		buf := make([]int16, 0, 1024)
		silence := make([]int16, audio.SamplesPerFrame(audio.Rate8k))
		return &voiceCodec{
			name: "PCMU", rate: audio.Rate8k,
			cap: webrtc.RTPCodecParameters{PayloadType: 0, RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}},
			encode: c.Encode,
			decode: func(p []byte) ([]int16, error) {
				if len(p) == 0 || len(p) > cap(buf) {
					return nil, errors.New("webrtc: bad PCMU payload size")
				}
				return c.Decode(buf, p).Samples, nil
			},
			conceal: func() []int16 { return silence },
			close:   c.Close,
		}, nil
	}
	return nil, ErrNoAudio
}

// chooseCodec validates the offer and picks the codec: Opus whenever the
// offer has it (48 kHz, what browsers send), else PCMU. The answer is
// built with only that codec registered, so both directions use it.
func chooseCodec(offer string) (string, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return "", errors.Join(ErrMalformedSDP, err)
	}
	best := ""
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media != "audio" || m.MediaName.Port.Value == 0 {
			continue
		}
		if _, inactive := m.Attribute("inactive"); inactive {
			continue
		}
		for _, pt := range m.MediaName.Formats {
			name := ""
			for _, a := range m.Attributes {
				if a.Key != "rtpmap" {
					continue
				}
				if p, enc, ok := strings.Cut(a.Value, " "); ok && p == pt {
					name, _, _ = strings.Cut(enc, "/")
				}
			}
			if name == "" && pt == "0" {
				name = "PCMU" // static payload type, rtpmap optional
			}
			switch {
			case strings.EqualFold(name, "opus"):
				return "opus", nil
			case strings.EqualFold(name, "PCMU"):
				best = "PCMU"
			}
		}
	}
	if best == "" {
		return "", ErrNoAudio
	}
	return best, nil
}
