package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/nlu"
)

// askReply is one line of `hotline ask` output.
type askReply struct {
	Lang       string            `json:"lang"`
	Intent     string            `json:"intent"`
	Confidence float64           `json:"confidence"`
	Queue      string            `json:"queue"`
	Slots      map[string]string `json:"slots"`
	Answer     string            `json:"answer"`
	ArticleID  string            `json:"article_id"`
}

// runAsk answers questions without a server, on the knowledge base built
// into the binary: TEXT, or one question per stdin line. Each answer is
// what the bot would say to that utterance as the first turn of a call.
func runAsk(ctx context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "ask", "[--lang ru|en] [--json|--text] [TEXT]")
	cfgPath := fs.String("config", "", "configuration file")
	lang := fs.String("lang", "", "language of the conversation, used when the text does not tell (ru or en)")
	_ = fs.Bool("json", true, `print one JSON object per question: {"lang","intent","confidence","queue","slots","answer","article_id"} (the default)`)
	asText := fs.Bool("text", false, "print one readable line per question instead of JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *lang != "" && *lang != "ru" && *lang != "en" {
		return fmt.Errorf("%w: --lang must be ru or en, not %q", errUsage, *lang)
	}
	cfg, err := loadConfig(c, *cfgPath)
	if err != nil {
		return err
	}
	if cfg.Log.Level == "info" {
		cfg.Log.Level = "warn" // a one-shot tool: start-up chatter would bury the answers
	}
	log := newLogger(c.stderr, cfg.Log)
	opts := append([]nlu.Option{nlu.WithAppealValidator(func(s string) bool { return appeal.ValidNumber(s) == nil })},
		withLLM(log, llmConfig(cfg))...)
	p, err := nlu.OpenEmbedded(ctx, log, opts...)
	if err != nil {
		return fmt.Errorf("ask: %w", err)
	}
	defer p.Close()

	answer := func(text string) error {
		r, err := p.Parse(ctx, text, nlu.Hint{Lang: *lang})
		if err != nil {
			return err
		}
		return printReply(c.stdout, r, phrasedReply(ctx, p.Parser, r), !*asText)
	}
	if fs.NArg() > 0 {
		return answer(strings.Join(fs.Args(), " "))
	}
	in := bufio.NewReader(c.stdin)
	for {
		line, err := in.ReadString('\n')
		if text := strings.TrimSpace(line); text != "" {
			if aerr := answer(text); aerr != nil {
				return aerr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func printReply(w io.Writer, r nlu.Result, answer string, asJSON bool) error {
	rep := askReply{Lang: r.Lang, Intent: r.Intent, Confidence: float64(int(r.Confidence*1000+0.5)) / 1000,
		Queue: r.Queue, Slots: r.Slots, Answer: answer}
	if rep.Slots == nil {
		rep.Slots = map[string]string{}
	}
	if r.Article != nil {
		rep.ArticleID = r.Article.ID
	}
	if asJSON {
		b, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintf(w, "[%s %s %.2f %s] %s\n", rep.Lang, rep.Intent, rep.Confidence, rep.Queue, rep.Answer)
	return err
}
