package asr

import (
	"math"
	"testing"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/speechdata"
)

// TestTelephonePathSignal checks that the path a phone call takes into the
// recognisers (G.711 at 8 kHz, decode, resample to 16 kHz) adds nothing but
// G.711's own quantisation noise. The reference is the wideband recording
// band-limited the same way (16k → 8k → 16k), since the phone line removes
// everything above 4 kHz before any of our code runs.
func TestTelephonePathSignal(t *testing.T) {
	us, src, err := speechdata.Corpus("en")
	if err != nil {
		t.Skip(err)
	}
	t.Logf("recordings from %s", src)
	codecs := []struct {
		name   string
		enc    func([]byte, []int16) []byte
		dec    func([]int16, []byte) []int16
		minSNR float64
	}{
		{"mu-law", audio.EncodeMulaw, audio.DecodeMulaw, 30},
		{"A-law", audio.EncodeAlaw, audio.DecodeAlaw, 30},
	}
	for _, c := range codecs {
		var worst float64 = math.Inf(1)
		for _, u := range us {
			wide, info, err := audio.ReadWAVFile(u.Path)
			if err != nil {
				t.Fatal(err)
			}
			narrow, err := audio.Resample(wide, info.Rate, 8000)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := audio.Resample(narrow, 8000, 16000)
			if err != nil {
				t.Fatal(err)
			}
			// The call path, streaming in 20 ms frames as RTP delivers them.
			rs, err := audio.NewResampler(8000, 16000)
			if err != nil {
				t.Fatal(err)
			}
			var got []int16
			var buf []byte
			for _, f := range audio.Split(narrow, 8000) {
				buf = c.enc(buf[:0], f.Samples)
				pcm := c.dec(nil, buf)
				got = append(got, rs.Process(pcm)...)
			}
			// The streaming resampler lags by its filter delay; Resample
			// (the reference) compensates it. Align before comparing.
			d := rs.Delay()
			got = append(got[min(d, len(got)):], make([]int16, min(d, len(got)))...)

			if diff := len(got) - len(ref); diff < -audio.SamplesPerFrame(16000) || diff > audio.SamplesPerFrame(16000) {
				t.Errorf("%s %s: %d samples out, %d reference", c.name, u.Path, len(got), len(ref))
			}
			if d := len(ref) - len(wide); d < -1 || d > 1 {
				t.Errorf("%s: band-limited reference has %d samples, original %d", u.Path, len(ref), len(wide))
			}
			n := min(len(got), len(ref)) - d // the zero tail is not signal
			snr := audio.SNR(ref[:n], got[:n])
			lvl := audio.RMSdBFS(got[:n]) - audio.RMSdBFS(ref[:n])
			worst = min(worst, snr)
			if snr < c.minSNR {
				t.Errorf("%s %s: SNR %.1f dB, want ≥ %.0f", c.name, u.Path, snr, c.minSNR)
			}
			if math.Abs(lvl) > 1 {
				t.Errorf("%s %s: level off by %.2f dB", c.name, u.Path, lvl)
			}
		}
		t.Logf("%s: worst SNR %.1f dB over %d recordings", c.name, worst, len(us))
	}
}
