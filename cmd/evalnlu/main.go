// Command evalnlu measures understanding on a labelled JSONL set
// (../shared/eval/dev.jsonl): intent, queue, slot and answer-fact accuracy
// per language, with a confusion table of intents and the errors.
//
//	go run ./cmd/evalnlu -data ../shared/eval/dev.jsonl
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/internal/evalset"
	"github.com/hotline-ivr/hotline/nlu"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "evalnlu:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, w io.Writer) error {
	fl := flag.NewFlagSet("evalnlu", flag.ContinueOnError)
	data := fl.String("data", evalset.DefaultPath, "labelled utterances (JSONL)")
	useKB := fl.Bool("kb", true, "blend the knowledge base's search (Bleve) with the built-in article matching")
	showErrors := fl.Bool("errors", true, "list the misclassified utterances")
	validate := fl.Bool("validate-appeals", false, "check appeal numbers' check digit (flags, does not drop, failing numbers)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	items, err := evalset.Load(*data)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(w, "evalnlu: %s not found (../shared is absent on this machine); nothing to evaluate\n", *data)
		return nil
	}
	if err != nil {
		return err
	}
	var opts []nlu.Option
	if *validate {
		opts = append(opts, nlu.WithAppealValidator(func(s string) bool { return appeal.ValidNumber(s) == nil }))
	}
	start := time.Now()
	var p *nlu.Parser
	if *useKB {
		e, err := nlu.OpenEmbedded(ctx, nil, opts...)
		if err != nil {
			return err
		}
		defer e.Close()
		p = e.Parser
	} else {
		arts, err := nlu.EmbeddedArticles()
		if err != nil {
			return err
		}
		if p, err = nlu.New(append([]nlu.Option{nlu.WithArticles(arts)}, opts...)...); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "# NLU evaluation: %s (%d utterances; start %v, training %v)\n\n", *data, len(items), time.Since(start).Round(time.Millisecond), p.TrainTime().Round(time.Millisecond))
	return report(ctx, w, p, items, *showErrors)
}

type counts struct{ n, intentOK, qN, qOK, sN, sOK, aN, aOK int }

func pct(a, b int) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%% (%d/%d)", 100*float64(a)/float64(b), a, b)
}

func report(ctx context.Context, w io.Writer, p *nlu.Parser, items []evalset.Item, showErrors bool) error {
	langs := []string{"ru", "en"}
	stats := map[string]*counts{"ru": {}, "en": {}}
	confusion := map[string]map[string]int{}
	var errs []string
	var total time.Duration
	for _, it := range items {
		t0 := time.Now()
		r, err := p.Parse(ctx, it.Text, nlu.Hint{})
		total += time.Since(t0)
		if err != nil {
			return err
		}
		answer := nlu.FirstReply(r)
		c := stats[it.Lang]
		if c == nil {
			c = &counts{}
			stats[it.Lang] = c
			langs = append(langs, it.Lang)
		}
		c.n++
		var why []string
		if r.Intent == it.Intent {
			c.intentOK++
		} else {
			why = append(why, fmt.Sprintf("intent %s→%s (%.2f)", it.Intent, r.Intent, r.Confidence))
		}
		if confusion[it.Intent] == nil {
			confusion[it.Intent] = map[string]int{}
		}
		confusion[it.Intent][r.Intent]++
		if it.Queue != "" {
			c.qN++
			if r.Queue == it.Queue {
				c.qOK++
			} else {
				why = append(why, fmt.Sprintf("queue %s→%s", it.Queue, r.Queue))
			}
		}
		if len(it.Slots) > 0 {
			c.sN++
			ok := true
			for k, v := range it.Slots {
				if r.Slots[k] != v {
					ok = false
					why = append(why, fmt.Sprintf("slot %s=%q got %q", k, v, r.Slots[k]))
				}
			}
			if ok {
				c.sOK++
			}
		}
		if len(it.AnswerContains) > 0 {
			c.aN++
			if missing := evalset.MissingFacts(answer, it.AnswerContains); len(missing) == 0 {
				c.aOK++
			} else {
				art := "-"
				if r.Article != nil {
					art = r.Article.ID
				}
				why = append(why, fmt.Sprintf("answer lacks %q (article %s)", missing, art))
			}
		}
		if len(why) > 0 {
			errs = append(errs, fmt.Sprintf("- %s %q: %s", it.ID, it.Text, strings.Join(why, "; ")))
		}
	}
	fmt.Fprintln(w, "| lang | N | intent | queue | slots (exact) | answer facts |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, l := range langs {
		c := stats[l]
		if c.n == 0 {
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s |\n", l, c.n, pct(c.intentOK, c.n), pct(c.qOK, c.qN), pct(c.sOK, c.sN), pct(c.aOK, c.aN))
	}
	fmt.Fprintf(w, "\nmean parse time: %v per utterance\n", (total / time.Duration(max(1, len(items)))).Round(time.Microsecond))

	fmt.Fprintln(w, "\n## Intent confusion (rows: expected, columns: predicted)")
	labels := slices.Clone(nlu.Intents)
	short := func(s string) string {
		if len(s) > 6 {
			return s[:6]
		}
		return s
	}
	fmt.Fprintf(w, "%-17s", "")
	for _, l := range labels {
		fmt.Fprintf(w, " %6s", short(l))
	}
	fmt.Fprintf(w, " %6s\n", "(none)")
	for _, e := range labels {
		row := confusion[e]
		if row == nil {
			continue
		}
		fmt.Fprintf(w, "%-17s", e)
		for _, g := range labels {
			fmt.Fprintf(w, " %6s", cell(row[g]))
		}
		fmt.Fprintf(w, " %6s\n", cell(row[""]))
	}
	if showErrors && len(errs) > 0 {
		fmt.Fprintf(w, "\n## Errors (%d)\n", len(errs))
		for _, e := range errs {
			fmt.Fprintln(w, e)
		}
	}
	return nil
}

func cell(n int) string {
	if n == 0 {
		return "."
	}
	return fmt.Sprint(n)
}
