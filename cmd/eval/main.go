// Command eval measures knowledge-base retrieval on the shared dev set:
// top-1 and top-3 accuracy per language for the "faq" utterances, a list
// of misses, and how well the hit confidence separates right from wrong.
//
//	go run ./cmd/eval -data ../shared/eval/dev.jsonl
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/hotline-ivr/hotline/internal/evalset"
	"github.com/hotline-ivr/hotline/knowledge"
	"github.com/hotline-ivr/hotline/store"
)

func main() {
	data := flag.String("data", evalset.DefaultPath, "evaluation set (JSON lines)")
	misses := flag.Bool("misses", true, "list the top-1 misses")
	flag.Parse()
	if err := run(context.Background(), *data, *misses, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dataPath string, showMisses bool, w io.Writer) error {
	exs, err := load(dataPath)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(w, "eval: %s not found (../shared is absent on this machine); nothing to evaluate\n", dataPath)
		return nil
	}
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "hotline-eval-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	db, err := store.Open(filepath.Join(tmp, "kb.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	kb, err := knowledge.Open(ctx, db, filepath.Join(tmp, "index"), knowledge.WithLogger(log))
	if err != nil {
		return err
	}
	defer kb.Close()

	type stats struct{ n, top1, top3 int }
	per := map[string]*stats{}
	var confRight, confWrong, confOther []float64
	var missLines []string
	for _, ex := range exs {
		if ex.Intent != "faq" {
			hits, err := kb.Search(ctx, ex.Text, knowledge.SearchOptions{Lang: ex.Lang, Limit: 3})
			if err != nil {
				return fmt.Errorf("%s: %w", ex.ID, err)
			}
			c := 0.0
			if len(hits) > 0 {
				c = hits[0].Confidence
			}
			confOther = append(confOther, c)
			continue
		}
		st := per[ex.Lang]
		if st == nil {
			st = &stats{}
			per[ex.Lang] = st
		}
		st.n++
		hits, err := kb.Search(ctx, ex.Text, knowledge.SearchOptions{Lang: ex.Lang, Limit: 3})
		if err != nil {
			return fmt.Errorf("%s: %w", ex.ID, err)
		}
		rank := -1
		for i, h := range hits {
			if evalset.ContainsFacts(h.Article.Spoken, ex.AnswerContains) {
				rank = i
				break
			}
		}
		if rank == 0 {
			st.top1++
		}
		if rank >= 0 {
			st.top3++
		}
		if len(hits) > 0 {
			if rank == 0 {
				confRight = append(confRight, hits[0].Confidence)
			} else {
				confWrong = append(confWrong, hits[0].Confidence)
			}
		}
		if rank != 0 {
			got := "(nothing)"
			if len(hits) > 0 {
				got = fmt.Sprintf("%s (conf %.2f, matched %q)", hits[0].Article.ID, hits[0].Confidence, hits[0].Matched)
			}
			where := "not in the top 3"
			if rank > 0 {
				where = fmt.Sprintf("right answer at rank %d", rank+1)
			}
			missLines = append(missLines, fmt.Sprintf("  %s [%s] %q\n      want %q; top-1 %s; %s",
				ex.ID, ex.Lang, ex.Text, ex.AnswerContains, got, where))
		}
	}

	fmt.Fprintf(w, "Knowledge retrieval on %s (faq utterances with answer facts)\n\n", dataPath)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "lang\tN\ttop-1\ttop-3\t")
	langs := make([]string, 0, len(per))
	for l := range per {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, l := range langs {
		st := per[l]
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.1f%%\t\n", l, st.n, pct(st.top1, st.n), pct(st.top3, st.n))
	}
	tw.Flush()

	fmt.Fprintf(w, "\nConfidence of the top hit: faq right %s; faq wrong %s; other intents %s\n",
		summary(confRight), summary(confWrong), summary(confOther))
	// An answer should be given when it is right; a wrong top hit and an
	// utterance that is not a question for the knowledge base should fall
	// below the threshold (the bot asks again or hands over).
	reject := append(slices.Clone(confWrong), confOther...)
	if len(confRight)+len(reject) > 0 {
		t, acc := bestThreshold(confRight, reject)
		fmt.Fprintf(w, "Best threshold %.2f separates right answers from wrong ones and non-questions for %.1f%% of utterances (library default %.2f)\n",
			t, acc, knowledge.ConfidentThreshold)
		for _, th := range []float64{0.3, 0.4, 0.5, 0.6, 0.7} {
			r, wr, o := countAbove(confRight, th), countAbove(confWrong, th), countAbove(confOther, th)
			fmt.Fprintf(w, "  at %.1f: %d/%d right faq answers given, %d/%d wrong ones given, %d/%d other-intent utterances answered\n",
				th, r, len(confRight), wr, len(confWrong), o, len(confOther))
		}
	}
	if showMisses && len(missLines) > 0 {
		fmt.Fprintf(w, "\nMisses (top-1 wrong):\n%s\n", strings.Join(missLines, "\n"))
	}
	return nil
}

// load reads the set. faq lines without facts cannot be scored, but
// utterances of other intents are kept: the bot must not answer them
// confidently.
func load(path string) ([]evalset.Item, error) {
	items, err := evalset.Load(path)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(items, func(it evalset.Item) bool {
		return it.Intent == "faq" && len(it.AnswerContains) == 0
	}), nil
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func summary(xs []float64) string {
	if len(xs) == 0 {
		return "n=0"
	}
	s := slices.Sorted(slices.Values(xs))
	return fmt.Sprintf("n=%d min %.2f median %.2f max %.2f", len(s), s[0], s[len(s)/2], s[len(s)-1])
}

func countAbove(xs []float64, t float64) int {
	n := 0
	for _, x := range xs {
		if x >= t {
			n++
		}
	}
	return n
}

// bestThreshold finds the confidence cut that best separates right top-1
// answers (above) from wrong ones (below).
func bestThreshold(right, wrong []float64) (float64, float64) {
	total := len(right) + len(wrong)
	best, bestAcc := 0.0, -1.0
	for t := 0.0; t <= 1.0001; t += 0.01 {
		ok := countAbove(right, t) + len(wrong) - countAbove(wrong, t)
		if acc := pct(ok, total); acc > bestAcc {
			best, bestAcc = t, acc
		}
	}
	return best, bestAcc
}
