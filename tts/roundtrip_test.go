package tts_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/asr/sphinx"
	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/tts/espeak"
	"github.com/hotline-ivr/hotline/tts/festival"
	"github.com/hotline-ivr/hotline/tts/internal/ttstest"
)

// roundTripSentences are English replies of the kind the bot speaks, in
// words PocketSphinx's general language model knows.
var roundTripSentences = []string{
	"Hello, you have reached the public services hotline.",
	"Your application has been accepted.",
	"Please say your appeal number after the tone.",
	"An operator will call you back within one hour.",
	"Thank you for calling, goodbye.",
	"The office is open from Monday to Friday.",
}

// maxFestivalWER bounds the default English voice's word error rate at
// 16 kHz: measured 0.05 on these sentences (see tts/README.md). At 8 kHz the
// recogniser's wideband model, fed upsampled telephone audio, hears much
// less (0.44 measured); there the test only asks Festival to beat eSpeak.
const maxFestivalWER = 0.15

// TestRoundTripEnglish speaks English replies with each engine, recognises
// them with PocketSphinx and checks the words come back with the default
// English voice (Festival SLT). eSpeak's rate is logged for the README's
// comparison, not asserted: it is the reason it is not the default.
func TestRoundTripEnglish(t *testing.T) {
	if testing.Short() {
		t.Skip("recognition round trip is slow")
	}
	rec, err := sphinx.New()
	if err != nil {
		t.Fatalf("PocketSphinx is needed (Debian pocketsphinx-en-us; make setup): %v", err)
	}
	defer rec.Close()
	fe, err := festival.New()
	if err != nil {
		t.Fatalf("Festival is needed (make setup): %v", err)
	}
	defer fe.Close()
	es, err := espeak.New()
	if err != nil {
		t.Fatalf("eSpeak NG is needed (make setup): %v", err)
	}
	defer es.Close()

	for _, rate := range []int{audio.Rate16k, audio.Rate8k} {
		fw := roundTripWER(t, rec, fe, rate)
		ew := roundTripWER(t, rec, es, rate)
		t.Logf("at %d Hz: festival-slt WER %.3f, espeak-en-us WER %.3f", rate, fw, ew)
		if rate == audio.Rate16k && fw > maxFestivalWER {
			t.Errorf("festival-slt at %d Hz: WER %.3f, want ≤ %.2f", rate, fw, maxFestivalWER)
		}
		if fw >= ew {
			t.Errorf("at %d Hz festival-slt (WER %.3f) is not more intelligible than espeak (%.3f)", rate, fw, ew)
		}
	}
}

func roundTripWER(t *testing.T, rec asr.Recognizer, s tts.Synthesizer, rate int) float64 {
	var total asr.ErrorCounts
	for _, text := range roundTripSentences {
		samples := ttstest.Render(t, s, tts.Request{Text: text, Lang: tts.LangEN, Rate: rate})
		rs, err := asr.Transcribe(context.Background(), rec,
			asr.StreamConfig{Lang: "en", SampleRate: rate, Endpointing: asr.EndpointNone}, samples)
		if err != nil {
			t.Fatal(err)
		}
		hyp := asr.FinalText(rs)
		c := asr.WER(text, hyp)
		total = total.Add(c)
		if c.Errors() > 0 {
			t.Logf("  %q\n    heard %q", text, strings.ToLower(hyp))
		}
	}
	return total.Rate()
}
