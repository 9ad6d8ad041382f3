package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/audio"
)

// runTranscribe prints what the recogniser hears in WAV files: one
// "FILE<TAB>text" line per file, or with --json one JSON object per file
// with the partial hypotheses, segments, word timings and confidences. A bad
// file is reported on stderr and the others are still processed; the
// command then fails.
func runTranscribe(ctx context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "transcribe", "[--engine vosk|sphinx] [--lang ru|en] [--json] FILE.wav...")
	cfgPath := fs.String("config", "", "configuration file")
	engine := fs.String("engine", "", "recognition engine: vosk or sphinx (default: asr.engine from the configuration)")
	lang := fs.String("lang", "", "language: ru or en (default: en with sphinx, ru with vosk)")
	asJSON := fs.Bool("json", false, "print one JSON object per file with partials, segments, word timings and confidence")
	alts := fs.Int("alternatives", 0, "n-best alternatives per segment in --json output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: no files given", errUsage)
	}
	cfg, err := loadConfig(c, *cfgPath)
	if err != nil {
		return err
	}
	if *engine == "" {
		*engine = cfg.ASR.Engine
	}
	if *lang == "" {
		*lang = "ru"
		if *engine == "sphinx" {
			*lang = "en"
		}
	}
	log := newLogger(c.stderr, cfg.Log)
	rec, err := newRecognizer(cfg, *engine, *lang, log)
	if err != nil {
		return fmt.Errorf("transcribe: %w", err)
	}
	defer rec.Close()

	failed := 0
	for _, path := range files {
		out, err := transcribeFile(ctx, rec, path, asr.StreamConfig{Lang: *lang, Alternatives: *alts})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed++
			msg := err.Error()
			if !strings.Contains(msg, path) {
				msg = path + ": " + msg
			}
			fmt.Fprintf(c.stderr, "hotline transcribe: %s\n", msg)
			continue
		}
		if *asJSON {
			if err := writeJSON(c.stdout, out); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(c.stdout, "%s\t%s\n", path, out.Text)
		}
	}
	if failed > 0 {
		return fmt.Errorf("transcribe: %d of %d files failed", failed, len(files))
	}
	return nil
}

// fileResult is the --json output for one file. Times are seconds of audio.
type fileResult struct {
	File     string      `json:"file"`
	Text     string      `json:"text"`
	Duration float64     `json:"duration"`
	Rate     int         `json:"sample_rate"`
	Segments []segment   `json:"segments"`
	Partials []partialAt `json:"partials"`
}

type segment struct {
	Start        float64    `json:"start"`
	End          float64    `json:"end"`
	Text         string     `json:"text"`
	Confidence   *float64   `json:"confidence,omitempty"`
	Words        []wordJSON `json:"words,omitempty"`
	Alternatives []string   `json:"alternatives,omitempty"`
}

type wordJSON struct {
	Word       string   `json:"word"`
	Start      float64  `json:"start"`
	End        float64  `json:"end"`
	Confidence *float64 `json:"confidence,omitempty"`
}

type partialAt struct {
	At   float64 `json:"at"`
	Text string  `json:"text"`
}

func secs(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }

func conf(c float64) *float64 {
	if c < 0 {
		return nil
	}
	return &c
}

func transcribeFile(ctx context.Context, rec asr.Recognizer, path string, sc asr.StreamConfig) (fileResult, error) {
	pcm, info, err := audio.ReadWAVFile(path)
	if err != nil {
		return fileResult{}, err
	}
	switch info.Rate {
	case audio.Rate8k, audio.Rate16k, audio.Rate48k:
	default:
		return fileResult{}, fmt.Errorf("%w: the file is %d Hz; Hotline takes 8000, 16000 or 48000 Hz (convert with: sox %s -r 16000 out.wav)",
			asr.ErrUnsupportedRate, info.Rate, path)
	}
	sc.SampleRate = info.Rate
	rs, err := asr.Transcribe(ctx, rec, sc, pcm)
	if err != nil {
		return fileResult{}, err
	}
	out := fileResult{File: path, Text: asr.FinalText(rs), Duration: secs(info.Duration), Rate: info.Rate,
		Segments: []segment{}, Partials: []partialAt{}}
	for _, r := range rs {
		switch r.Kind {
		case asr.Partial:
			out.Partials = append(out.Partials, partialAt{At: secs(r.End), Text: r.Text})
		case asr.Final:
			if r.Text == "" {
				continue
			}
			s := segment{Start: secs(r.Start), End: secs(r.End), Text: r.Text, Confidence: conf(r.Confidence)}
			for _, w := range r.Words {
				s.Words = append(s.Words, wordJSON{Word: w.Text, Start: secs(w.Start), End: secs(w.End), Confidence: conf(w.Confidence)})
			}
			for _, a := range r.Alternatives {
				s.Alternatives = append(s.Alternatives, a.Text)
			}
			out.Segments = append(out.Segments, s)
		}
	}
	return out, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
