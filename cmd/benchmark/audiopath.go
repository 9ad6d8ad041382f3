package main

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/speechdata"
)

// audioPath measures what every call costs before recognition: per 20 ms
// frame, G.711 decode + resampling to 16 kHz + VAD, as a share of one core.
func audioPath(ctx context.Context, b *bench, w io.Writer) error {
	us, src, err := speechdata.Corpus("en")
	if err != nil {
		return err
	}
	var speech []int16
	for _, u := range us {
		pcm, info, err := audio.ReadWAVFile(u.Path)
		if err != nil {
			return err
		}
		if info.Rate == 16000 {
			speech = append(speech, pcm...)
		}
	}
	narrow, err := audio.Resample(speech, 16000, 8000)
	if err != nil {
		return err
	}
	wide48, err := audio.Resample(speech, 16000, 48000)
	if err != nil {
		return err
	}
	mulaw := audio.EncodeMulaw(nil, narrow)
	alaw := audio.EncodeAlaw(nil, narrow)

	type path struct {
		name string
		fn   func(n int) // processes n frames
	}
	frames8 := len(narrow) / 160
	telephone := func(enc []byte, dec func([]int16, []byte) []int16) func(int) {
		return func(n int) {
			rs, _ := audio.NewResampler(8000, 16000)
			vad := audio.NewVAD(audio.DefaultVADConfig())
			pcm := make([]int16, 0, 160)
			for i := range n {
				k := i % frames8
				pcm = dec(pcm[:0], enc[k*160:(k+1)*160])
				vad.Process(audio.Frame{Rate: 8000, Samples: pcm})
				rs.Process(pcm)
			}
		}
	}
	frames48 := len(wide48) / 960
	paths := []path{
		{"SIP G.711 μ-law 8 kHz: decode + VAD + resample 8→16 kHz", telephone(mulaw, audio.DecodeMulaw)},
		{"SIP G.711 A-law 8 kHz: decode + VAD + resample 8→16 kHz", telephone(alaw, audio.DecodeAlaw)},
		{"WebRTC 48 kHz PCM (after Opus): VAD + resample 48→16 kHz", func(n int) {
			rs, _ := audio.NewResampler(48000, 16000)
			vad := audio.NewVAD(audio.DefaultVADConfig())
			for i := range n {
				k := i % frames48
				f := wide48[k*960 : (k+1)*960]
				vad.Process(audio.Frame{Rate: 48000, Samples: f})
				rs.Process(f)
			}
		}},
		{"16 kHz PCM: VAD only", func(n int) {
			vad := audio.NewVAD(audio.DefaultVADConfig())
			fr := len(speech) / 320
			for i := range n {
				k := i % fr
				vad.Process(audio.Frame{Rate: 16000, Samples: speech[k*320 : (k+1)*320]})
			}
		}},
	}
	fmt.Fprintf(w, "Per-call cost of the audio path before recognition, per 20 ms frame of real speech (%s), one goroutine. "+
		"\"Share of one core\" is the frame's processing time over its 20 ms of audio: the fraction of a core one call keeps busy.\n\n", src)
	fmt.Fprintf(w, "| path | time per 20 ms frame | share of one core per call | calls per core (audio path only) |\n|---|---:|---:|---:|\n")
	for _, p := range paths {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r := testing.Benchmark(func(tb *testing.B) {
			tb.ReportAllocs()
			tb.ResetTimer()
			p.fn(tb.N)
		})
		per := time.Duration(r.NsPerOp())
		share := float64(per) / float64(audio.FrameDuration)
		fmt.Fprintf(w, "| %s | %s | %.3f%% | %.0f |\n", p.name, per, 100*share, 1/share)
		b.log.Info("audio path", "path", p.name, "per_frame", per, "allocs", r.AllocsPerOp())
	}
	fmt.Fprintf(w, "\nGoal: under 1%% of one core per call.\n")
	return nil
}
