// Package evalset reads the labelled evaluation set (../shared/eval/dev.jsonl,
// one JSON object per line) and scores answers against its facts. The
// evaluation commands (cmd/eval, cmd/evalnlu) share it so that they read and
// score the set the same way.
package evalset

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// DefaultPath is where the set lives relative to the repository root (the
// commands run from there, e.g. by make eval).
const DefaultPath = "../shared/eval/dev.jsonl"

// Item is one labelled utterance.
type Item struct {
	ID     string `json:"id"`
	Lang   string `json:"lang"`
	Text   string `json:"text"`
	Intent string `json:"intent"`
	// Queue is the operator queue a handover should go to; empty when the
	// utterance does not say.
	Queue string            `json:"queue"`
	Slots map[string]string `json:"slots"`
	// AnswerContains are the facts a right answer states (see
	// ContainsFacts).
	AnswerContains []string `json:"answer_contains"`
}

// Load reads the set, skipping blank lines. A missing file gives an error
// wrapping fs.ErrNotExist; a malformed line an error naming path:line.
func Load(path string) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var items []Item
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var it Item
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		items = append(items, it)
	}
	return items, sc.Err()
}

// ContainsFacts reports whether answer states every fact (see MissingFacts).
func ContainsFacts(answer string, facts []string) bool {
	return len(MissingFacts(answer, facts)) == 0
}

// MissingFacts returns the facts answer lacks, in order. Text is compared in
// lower case with ё folded to е; a fact with digits is compared on digits
// only, so "8 800 100-02-02" matches "88001000202" and "100-02" matches
// "8-800-100-02-00".
func MissingFacts(answer string, facts []string) []string {
	a, ad := fold(answer), digits(answer)
	var missing []string
	for _, f := range facts {
		if d := digits(f); d != "" {
			if !strings.Contains(ad, d) {
				missing = append(missing, f)
			}
		} else if !strings.Contains(a, fold(f)) {
			missing = append(missing, f)
		}
	}
	return missing
}

func fold(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), "ё", "е")
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
