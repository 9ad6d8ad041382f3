package sphinx

import (
	"context"
	"testing"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/speechdata"
)

func TestQuickWER(t *testing.T) {
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	us, _, err := speechdata.Corpus("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []asr.Endpointing{asr.EndpointVAD, asr.EndpointNone} {
		var tot asr.ErrorCounts
		for _, u := range us {
			pcm, info, err := audio.ReadWAVFile(u.Path)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := asr.Transcribe(context.Background(), e, asr.StreamConfig{Lang: "en", SampleRate: info.Rate, Endpointing: mode}, pcm)
			if err != nil {
				t.Fatal(err)
			}
			hyp := asr.FinalText(rs)
			c := asr.WER(u.Text, hyp)
			tot = tot.Add(c)
			t.Logf("%.2f %s | %s", c.Rate(), u.Text, hyp)
		}
		t.Logf("mode %d WER %.3f %+v", mode, tot.Rate(), tot)
	}
}
