package asr

import (
	"context"
	"strings"

	"github.com/hotline-ivr/hotline/audio"
)

// Transcribe runs samples at cfg.SampleRate through a new stream in 20 ms
// frames, as fast as the decoder takes them, and returns every result in
// order. It is the whole-file path of `hotline transcribe`, tests and
// benchmarks.
func Transcribe(ctx context.Context, rec Recognizer, cfg StreamConfig, samples []int16) ([]Result, error) {
	s, err := rec.NewStream(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	got := make(chan []Result, 1)
	go func() {
		var rs []Result
		for r := range s.Results() {
			rs = append(rs, r)
		}
		got <- rs
	}()
	for _, f := range audio.Split(samples, cfg.SampleRate) {
		if err = s.Write(f); err != nil {
			break
		}
	}
	if err == nil {
		err = s.Finish()
	}
	if err != nil {
		s.Close() // ends the reader
	}
	rs := <-got
	if err == nil {
		err = s.Err()
	}
	return rs, err
}

// FinalText joins the texts of the final results.
func FinalText(rs []Result) string {
	var parts []string
	for _, r := range rs {
		if r.Kind == Final && r.Text != "" {
			parts = append(parts, r.Text)
		}
	}
	return strings.Join(parts, " ")
}
