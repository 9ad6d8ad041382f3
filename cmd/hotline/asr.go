package main

import (
	"fmt"
	"log/slog"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/asr/sphinx"
	"github.com/hotline-ivr/hotline/asr/vosk"
	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/config"
)

// recognizer is an asr engine the command owns and closes.
type recognizer interface {
	asr.Recognizer
	Close() error
}

func vadConfig(cfg *config.Config) audio.VADConfig {
	v := audio.DefaultVADConfig()
	v.ThresholdDB = cfg.ASR.VAD.ThresholdDB
	v.MinSpeech = cfg.ASR.VAD.MinSpeech
	v.Hangover = cfg.ASR.VAD.Hangover
	// A stream reports a short pause; voice ends the turn there when
	// what was said is complete (botStack.voiceDeps' Completer).
	v.Pause = cfg.ASR.VAD.EarlyEndpoint
	return v
}

// newRecognizer builds the configured engine for lang and loads its model
// now, so a missing model is one clear error instead of one per file.
func newRecognizer(cfg *config.Config, engine, lang string, log *slog.Logger) (recognizer, error) {
	switch engine {
	case "sphinx":
		if lang != "en" {
			return nil, fmt.Errorf("%w: the sphinx engine recognises English only (--lang en), not %q; use --engine vosk", asr.ErrUnsupportedLanguage, lang)
		}
		return sphinx.New(
			sphinx.WithModelDir(cfg.ASR.Sphinx.ModelDir),
			sphinx.WithMaxStreams(cfg.ASR.MaxStreams),
			sphinx.WithStreamWait(cfg.ASR.StreamWait),
			sphinx.WithVAD(vadConfig(cfg)),
			sphinx.WithLogger(log))
	case "vosk":
		opts := []vosk.Option{
			vosk.WithMaxStreams(cfg.ASR.MaxStreams),
			vosk.WithStreamWait(cfg.ASR.StreamWait),
			vosk.WithVAD(vadConfig(cfg)),
			vosk.WithLogger(log),
		}
		for l, dir := range cfg.ASR.Vosk.Models {
			opts = append(opts, vosk.WithModel(l, cfg.Path(dir)))
		}
		e, err := vosk.New(opts...)
		if err != nil {
			return nil, err
		}
		if err := e.Load(lang); err != nil {
			e.Close()
			hint := fmt.Sprintf("run 'hotline models pull %s'", lang)
			if lang == "en" {
				hint += ", or use --engine sphinx"
			}
			return nil, fmt.Errorf("%w\n(%s)", err, hint)
		}
		return e, nil
	}
	return nil, fmt.Errorf("%w: unknown engine %q (vosk, sphinx)", errUsage, engine)
}
