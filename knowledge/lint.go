package knowledge

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Warning is a soft problem: the article can be saved, but an editor should
// look at it.
type Warning struct {
	Field string `json:"field"`
	Msg   string `json:"msg"`
}

// Spoken answers are read by TTS at about 150 words a minute; past ~20 s a
// caller stops listening.
const (
	maxSpokenWords     = 45
	maxSpokenSentences = 3
)

var (
	htmlTag      = regexp.MustCompile(`</?[a-zA-Z][^>]*>|&[a-z]+;`)
	markdownMark = regexp.MustCompile("\\*\\*|__|`|\\[[^\\]]*\\]\\(|(^|\\n)\\s*(#|[-*+] |\\d+\\. |>)")
	urlPattern   = regexp.MustCompile(`(?i)https?://|www\.|\b[a-z0-9-]+\.(ru|com|org|net|рф)/\S`)
	sentenceEnd  = regexp.MustCompile(`[.!?…]+(\s|$)`)
)

// Lint returns soft warnings for a (possibly unsaved) article: missing
// translation, a question another article already has, a spoken answer too
// long or not written to be heard.
func (s *Service) Lint(ctx context.Context, a Article) []Warning {
	a = normalize(a)
	var ws []Warning
	add := func(field, format string, args ...any) {
		ws = append(ws, Warning{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	live, err := loadLive(ctx, s.db)
	if err != nil {
		s.log.Warn("lint: load articles", "error", err)
	}
	translated := false
	seen := map[string]string{} // normalised question → "lang/id" of another article
	for _, o := range live {
		if o.ID == a.ID && o.Lang != a.Lang {
			translated = true
		}
		if o.Lang == a.Lang && o.ID != a.ID {
			for _, q := range o.Questions {
				seen[normQuestion(q)] = o.Key()
			}
		}
	}
	if !translated && a.ID != "" {
		other := make([]string, 0, len(Languages)-1)
		for _, l := range Languages {
			if l != a.Lang {
				other = append(other, l)
			}
		}
		add("id", "no translation: there is no article %q in %s", a.ID, strings.Join(other, ", "))
	}
	for i, q := range a.Questions {
		if key, dup := seen[normQuestion(q)]; dup {
			add(fmt.Sprintf("questions[%d]", i), "the same question is in %s; callers will get either answer", key)
		}
	}
	if words := len(strings.Fields(a.Spoken)); words > maxSpokenWords {
		add("spoken", "%d words is about %d s of speech; keep it under %d words (~20 s)", words, words*60/150, maxSpokenWords)
	}
	if n := len(sentenceEnd.FindAllStringIndex(a.Spoken, -1)); n > maxSpokenSentences {
		add("spoken", "%d sentences; callers remember at most %d", n, maxSpokenSentences)
	}
	if htmlTag.MatchString(a.Spoken) {
		add("spoken", "contains HTML, which the voice would read out")
	}
	if markdownMark.MatchString(a.Spoken) {
		add("spoken", "contains Markdown, which the voice would read out; keep formatting in the body")
	}
	if urlPattern.MatchString(a.Spoken) {
		add("spoken", "contains a web address; spell it for the ear or move it to the body")
	}
	return ws
}

// normQuestion makes "Какой номер у горячей линии?" and "какой номер у
// горячей линии" compare equal.
func normQuestion(q string) string {
	q = foldText(strings.ToLower(q))
	var b strings.Builder
	space := false
	for _, r := range q {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			space = false
		} else {
			space = true
		}
	}
	return b.String()
}
