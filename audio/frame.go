// Package audio holds the PCM plumbing every channel shares: 20 ms frames of
// 16-bit mono samples with an explicit rate, G.711, resampling, WAV files,
// voice-activity detection and level measurements.
package audio

import (
	"fmt"
	"time"
)

// FrameDuration is the length of one frame everywhere in Hotline. RTP
// packetisation, VAD decisions and ASR feeding all step at this pace.
const FrameDuration = 20 * time.Millisecond

// Rates the project converts between. Telephone audio is 8 kHz, speech
// engines want 16 kHz, WebRTC/Opus runs at 48 kHz.
const (
	Rate8k  = 8000
	Rate16k = 16000
	Rate48k = 48000
)

// Frame is a run of PCM16 mono samples at a known sample rate. Producers
// normally emit exactly one FrameDuration worth of samples; the last frame of
// a stream may be shorter.
type Frame struct {
	Rate    int
	Samples []int16
}

// SamplesPerFrame is the number of samples in one 20 ms frame at rate.
func SamplesPerFrame(rate int) int { return rate / 50 }

// Duration is the play time of the frame.
func (f Frame) Duration() time.Duration {
	if f.Rate <= 0 {
		return 0
	}
	return time.Duration(len(f.Samples)) * time.Second / time.Duration(f.Rate)
}

// Clone returns a frame that does not share the sample buffer.
func (f Frame) Clone() Frame {
	return Frame{Rate: f.Rate, Samples: append([]int16(nil), f.Samples...)}
}

func (f Frame) String() string {
	return fmt.Sprintf("frame(%d Hz, %d samples)", f.Rate, len(f.Samples))
}

// Split cuts a buffer of samples into 20 ms frames. The frames share the
// buffer; the last one holds the remainder and may be short.
func Split(samples []int16, rate int) []Frame {
	n := SamplesPerFrame(rate)
	if n <= 0 {
		return nil
	}
	frames := make([]Frame, 0, (len(samples)+n-1)/n)
	for len(samples) > 0 {
		k := min(n, len(samples))
		frames = append(frames, Frame{Rate: rate, Samples: samples[:k:k]})
		samples = samples[k:]
	}
	return frames
}

// Reader yields frames until io.EOF.
type Reader interface {
	ReadFrame() (Frame, error)
}

// Writer consumes frames.
type Writer interface {
	WriteFrame(Frame) error
}
