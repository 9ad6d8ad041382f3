package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/tts/espeak"
	"github.com/hotline-ivr/hotline/tts/festival"
)

// defaultTTSEngine is the engine per language when none is chosen, by the
// measurements in tts/README.md: Festival's voices are the more natural
// and, for English, the more intelligible.
var defaultTTSEngine = map[string]string{tts.LangEN: "festival", tts.LangRU: "festival"}

// runSay speaks TEXT (or standard input) into a WAV file.
func runSay(ctx context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "say", "[--lang ru|en] [--rate 8000] [--engine espeak|festival] [--voice NAME] [-o out.wav] TEXT...")
	lang := fs.String("lang", tts.LangRU, "language: ru or en")
	rate := fs.Int("rate", audio.Rate8k, "sample rate: 8000, 16000 or 48000")
	engine := fs.String("engine", "", "espeak or festival (default: the language's default, "+
		"festival for both; espeak where Festival is missing)")
	voice := fs.String("voice", "", "engine voice (default: the engine's voice for the language)")
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
	synth, closeFn, name, err := openTTS(*engine, *lang)
	if err != nil {
		return err
	}
	defer closeFn()
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

// openTTS opens the named engine, or the language's default with eSpeak
// as the fallback when Festival is not installed.
func openTTS(engine, lang string) (tts.Synthesizer, func(), string, error) {
	auto := engine == ""
	if auto {
		engine = defaultTTSEngine[lang]
		if engine == "" {
			engine = "espeak"
		}
	}
	switch engine {
	case "festival":
		e, err := festival.New()
		if err == nil {
			return e, func() { e.Close() }, "festival", nil
		}
		if !auto {
			return nil, nil, "", err
		}
		fallthrough
	case "espeak":
		e, err := espeak.New()
		if err != nil {
			return nil, nil, "", err
		}
		return e, func() { e.Close() }, "espeak", nil
	}
	return nil, nil, "", fmt.Errorf("%w: unknown engine %q (want espeak or festival)", errUsage, engine)
}
