package asr

import (
	"strings"
	"unicode"
)

// Normalize prepares a transcript for scoring: lower case, ё folded to е,
// punctuation (apostrophes and hyphens included) dropped, runs of spaces
// collapsed. Engines and references disagree on exactly these points
// ("Don't" vs "dont", "ёлка" vs "елка") and none of them changes what the
// caller said.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // suppress leading spaces
	for _, r := range strings.ToLower(s) {
		switch {
		case r == 'ё':
			r = 'е'
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		case unicode.IsSpace(r):
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		default:
			// Punctuation inside a word ("don't", "co-op") joins it, so
			// both spellings score the same.
			continue
		}
		b.WriteRune(r)
		space = false
	}
	return strings.TrimSuffix(b.String(), " ")
}

// Words splits a normalised transcript into words.
func Words(s string) []string { return strings.Fields(Normalize(s)) }

// ErrorCounts is a word alignment summary. Add counts together to score a
// corpus: the corpus WER is total edits over total reference words, not the
// mean of per-utterance rates (which would overweight short utterances).
type ErrorCounts struct {
	RefWords      int
	Substitutions int
	Insertions    int
	Deletions     int
}

// Errors is the number of word edits.
func (e ErrorCounts) Errors() int { return e.Substitutions + e.Insertions + e.Deletions }

// Rate is the word error rate. With an empty reference it is 0 for an empty
// hypothesis and 1 otherwise, so inventing words in silence still counts.
func (e ErrorCounts) Rate() float64 {
	if e.RefWords == 0 {
		if e.Errors() == 0 {
			return 0
		}
		return 1
	}
	return float64(e.Errors()) / float64(e.RefWords)
}

// Add returns the sum of two counts.
func (e ErrorCounts) Add(o ErrorCounts) ErrorCounts {
	return ErrorCounts{
		RefWords:      e.RefWords + o.RefWords,
		Substitutions: e.Substitutions + o.Substitutions,
		Insertions:    e.Insertions + o.Insertions,
		Deletions:     e.Deletions + o.Deletions,
	}
}

// WER aligns hyp to ref (both normalised first) with a word-level
// Levenshtein distance and counts the edits of one cheapest alignment.
func WER(ref, hyp string) ErrorCounts {
	r, h := Words(ref), Words(hyp)
	// cell holds the cost and the edit mix of the best path to (i, j).
	type cell struct{ cost, sub, ins, del int }
	prev := make([]cell, len(h)+1)
	cur := make([]cell, len(h)+1)
	for j := range prev {
		prev[j] = cell{cost: j, ins: j}
	}
	for i := 1; i <= len(r); i++ {
		cur[0] = cell{cost: i, del: i}
		for j := 1; j <= len(h); j++ {
			if r[i-1] == h[j-1] {
				cur[j] = prev[j-1]
				continue
			}
			// Prefer substitution, then deletion, then insertion on ties:
			// the total is the same, the mix only matters for reporting.
			best := prev[j-1]
			best.sub++
			if d := prev[j]; d.cost < best.cost {
				best = d
				best.del++
			}
			if in := cur[j-1]; in.cost < best.cost {
				best = in
				best.ins++
			}
			best.cost++
			cur[j] = best
		}
		prev, cur = cur, prev
	}
	c := prev[len(h)]
	return ErrorCounts{RefWords: len(r), Substitutions: c.sub, Insertions: c.ins, Deletions: c.del}
}
