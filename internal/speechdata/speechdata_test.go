package speechdata

import (
	"os"
	"strings"
	"testing"
)

func TestCorpus(t *testing.T) {
	for _, lang := range []string{"en", "ru"} {
		us, src, err := Corpus(lang)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		t.Logf("%s: %d utterances from %s", lang, len(us), src)
		for _, u := range us {
			if _, err := os.Stat(u.Path); err != nil || strings.TrimSpace(u.Text) == "" {
				t.Errorf("%s: bad utterance %+v (%v)", lang, u, err)
			}
		}
	}
}

// TestFallback checks the Debian data used where ../shared is absent.
func TestFallback(t *testing.T) {
	t.Setenv(EnvSharedDir, t.TempDir()+"/nonexistent")
	for _, tc := range []struct {
		lang, src string
		first     string
	}{
		{"en", PocketSphinxTestData, "ten of clubs"},
		{"ru", FestvoxRu, ""},
	} {
		us, src, err := Corpus(tc.lang)
		if err != nil {
			t.Skipf("fallback data not installed: %v", err)
		}
		if !strings.HasPrefix(src, tc.src) {
			t.Errorf("%s: source %q, want under %s", tc.lang, src, tc.src)
		}
		if tc.first != "" && us[0].Text != tc.first {
			t.Errorf("%s: first text %q, want %q", tc.lang, us[0].Text, tc.first)
		}
		for _, u := range us {
			if strings.ContainsAny(u.Text, "+<>()") {
				t.Errorf("%s: text not cleaned: %q", tc.lang, u.Text)
			}
		}
		t.Logf("%s fallback: %d utterances, e.g. %q", tc.lang, len(us), us[len(us)-1].Text)
	}
}

func TestUnknownLanguage(t *testing.T) {
	t.Setenv(EnvSharedDir, t.TempDir())
	if _, _, err := Corpus("de"); err == nil {
		t.Fatal("want an error for an unknown language")
	}
}
