package festival

import (
	"testing"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/tts/internal/ttstest"
)

func TestUndash(t *testing.T) {
	for in, want := range map[string]string{
		"один — статус обращения, два — подать.": "один, статус обращения, два, подать.",
		"с восьми – до двадцати.":                "с восьми, до двадцати.",
		"ответ, — и всё.":                        "ответ, и всё.",
		"нажмите: — один.":                       "нажмите: один.",
		"no dash here.":                          "no dash here.",
	} {
		if got := undash(in); got != want {
			t.Errorf("undash(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDashes: the Russian voice failed whole sentences with a dash, which
// textprep keeps as a pause ("1 — статус").
func TestDashes(t *testing.T) {
	e := newEngine(t)
	for _, r := range []tts.Request{
		{Text: "Или нажмите: 1 — статус обращения, 2 — подать обращение, 0 — оператор.", Lang: tts.LangRU, Rate: audio.Rate8k},
		{Text: "Press 1 — status, 2 — a new appeal.", Lang: tts.LangEN, Rate: audio.Rate8k},
	} {
		if s := ttstest.Render(t, e, r); len(s) < 2*audio.Rate8k {
			t.Errorf("%q: only %d samples", r.Text, len(s))
		}
	}
}
