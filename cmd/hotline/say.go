package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/config"
	"github.com/hotline-ivr/hotline/tts"
)

// runSay speaks TEXT (or standard input) into a WAV file.
func runSay(ctx context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "say", "[--config FILE] [--lang ru|en] [--rate 8000] [--engine festival|espeak|openai] [--voice NAME] [-o out.wav] TEXT...")
	configPath := fs.String("config", "", "YAML config file: engines and voices from its tts section (embedded defaults when empty)")
	lang := fs.String("lang", tts.LangRU, "language: ru or en")
	rate := fs.Int("rate", audio.Rate8k, "sample rate: 8000, 16000 or 48000")
	engine := fs.String("engine", "", "festival, espeak or openai (default: tts.engine of the language, "+
		"festival for both; espeak where Festival is missing)")
	voice := fs.String("voice", "", "engine voice (default: the engine's voice for the language from tts.*.voice)")
	speed := fs.Float64("speed", 1, "speaking rate factor, 0.5..2")
	out := fs.String("o", "say.wav", "output WAV file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	text := strings.Join(fs.Args(), " ")
	if text == "" && c.stdin != nil {
		b, err := io.ReadAll(io.LimitReader(c.stdin, 1<<20))
		if err != nil {
			return err
		}
		text = string(b)
	}
	if strings.TrimSpace(text) == "" {
		fs.Usage()
		return fmt.Errorf("%w: no text to say", errUsage)
	}
	if *lang != tts.LangRU && *lang != tts.LangEN {
		return fmt.Errorf("%w: language %q (want ru or en)", errUsage, *lang)
	}
	cfg, err := loadConfig(c, *configPath)
	if err != nil {
		return err
	}
	sp, err := openSpeech(cfg.TTS, speechOptions{Langs: []string{*lang}, Engine: *engine},
		newLogger(c.stderr, config.Log{Level: "warn", Format: "text"}))
	if err != nil {
		return err
	}
	defer sp.Close()
	synth, name := sp.Synth, sp.Engines[*lang]
	st, err := synth.Synthesize(ctx, tts.Request{Text: text, Lang: *lang, Voice: *voice, Rate: *rate, Speed: *speed})
	if err != nil {
		if errors.Is(err, tts.ErrUnsupportedLanguage) || errors.Is(err, tts.ErrUnsupportedRate) {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		return err
	}
	samples, _, err := tts.ReadAll(st)
	if err != nil {
		return err
	}
	if err := audio.WriteWAVFile(*out, samples, *rate); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "say: %s, %.2f s at %d Hz with %s\n", *out, float64(len(samples))/float64(*rate), *rate, name)
	return nil
}
