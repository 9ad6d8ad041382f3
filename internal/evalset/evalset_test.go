package evalset

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestContainsFacts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answer  string
		facts   []string
		want    bool
		missing []string
	}{
		{"no facts", "anything", nil, true, nil},
		{"case folded", "Call the Hotline", []string{"hotline", "CALL"}, true, nil},
		{"ё folded both ways", "Ещё раз: Всё в ЛИЧНОМ кабинете", []string{"все", "ещё", "личном"}, true, nil},
		{"phone on digits only", "Звоните 8 800 100-02-02", []string{"88001000202"}, true, nil},
		{"digits inside a longer number", "call 8-800-100-02-00", []string{"100-02"}, true, nil},
		{"digits not in order", "call 8-800-100-02-00", []string{"200-100"}, false, []string{"200-100"}},
		{"digits in text do not count for words", "open 24/7", []string{"hours"}, false, []string{"hours"}},
		{"one of two missing", "Bring your passport", []string{"passport", "СНИЛС"}, false, []string{"СНИЛС"}},
		{"all missing, order kept", "", []string{"phone", "time"}, false, []string{"phone", "time"}},
		{"substring of a word counts", "круглосуточно", []string{"круглосуточ"}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ContainsFacts(tc.answer, tc.facts); got != tc.want {
				t.Errorf("ContainsFacts(%q, %q) = %v, want %v", tc.answer, tc.facts, got, tc.want)
			}
			if got := MissingFacts(tc.answer, tc.facts); !slices.Equal(got, tc.missing) {
				t.Errorf("MissingFacts(%q, %q) = %q, want %q", tc.answer, tc.facts, got, tc.missing)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dev.jsonl")
	data := `{"id":"a","lang":"ru","text":"где справка","intent":"faq","answer_contains":["МФЦ"]}

{"id":"b","lang":"en","text":"status of 612430","intent":"check_status","queue":"general","slots":{"appeal_number":"612430"}}
`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	items, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].ID != "a" || !slices.Equal(items[0].AnswerContains, []string{"МФЦ"}) ||
		items[1].Queue != "general" || items[1].Slots["appeal_number"] != "612430" || items[1].Intent != "check_status" {
		t.Errorf("Load = %+v", items)
	}

	if err := os.WriteFile(path, []byte("{\"id\":\"a\"}\n{oops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.HasPrefix(err.Error(), path+":2:") {
		t.Errorf("malformed line 2: error %v, want one naming %s:2", err, path)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "absent.jsonl")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: error %v, want fs.ErrNotExist", err)
	}
}
