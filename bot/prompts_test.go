package bot

import (
	"strings"
	"testing"
)

func TestFixedPrompts(t *testing.T) {
	got := FixedPrompts()
	n := map[string]int{}
	has := map[FixedPrompt]bool{}
	for _, p := range got {
		n[p.Lang]++
		has[p] = true
		if strings.Contains(p.Text, "%") || strings.TrimSpace(p.Text) == "" {
			t.Errorf("not a fixed prompt: %+v", p)
		}
	}
	if n["ru"] < 40 || n["en"] < 40 || len(n) != 2 {
		t.Errorf("prompts per language = %v", n)
	}
	for _, want := range []FixedPrompt{
		{"ru", promptsRU.Greeting}, {"en", promptsEN.Greeting},
		{"ru", promptsRU.Main}, {"en", promptsEN.NextStep["done"]},
	} {
		if !has[want] {
			t.Errorf("missing %+v", want)
		}
	}
	for _, skip := range []FixedPrompt{
		{"ru", promptsRU.Clarify},         // a template
		{"en", promptsEN.CallbackAnyTime}, // a fragment
	} {
		if has[skip] {
			t.Errorf("listed %+v", skip)
		}
	}
}
