package rtcclient

import (
	"math"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"gopkg.in/hraban/opus.v2"
)

// SendTone is a test caller's microphone: it paces a sine tone (amplitude
// 8000, 48 kHz mono) as 20 ms Opus samples on track until stop is closed.
// hz is read before each frame; 0 sends silence (the phase carries on
// where the tone left off). The error is the encoder's.
func SendTone(track *webrtc.TrackLocalStaticSample, stop <-chan struct{}, hz func() float64) error {
	enc, err := opus.NewEncoder(48000, 1, opus.AppVoIP)
	if err != nil {
		return err
	}
	pcm := make([]int16, 960)
	buf := make([]byte, 1500)
	tk := time.NewTicker(20 * time.Millisecond)
	defer tk.Stop()
	var ph float64
	for {
		select {
		case <-stop:
			return nil
		case <-tk.C:
		}
		f := hz()
		for i := range pcm {
			if f == 0 {
				pcm[i] = 0
				continue
			}
			pcm[i] = int16(8000 * math.Sin(ph))
			ph += 2 * math.Pi * f / 48000
		}
		n, err := enc.Encode(pcm, buf)
		if err != nil {
			return err
		}
		_ = track.WriteSample(media.Sample{Data: buf[:n], Duration: 20 * time.Millisecond})
	}
}
