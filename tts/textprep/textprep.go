// Package textprep rewrites reply text for the ear before synthesis, per
// language: phone numbers in groups, dates, times and ranges, appeal numbers
// digit by digit, numbers, percents and sums in words, abbreviations
// spelled or expanded, URLs and e-mail addresses read out, symbols named,
// words in the other script transliterated, and characters that cannot be
// spoken (emoji, control characters, other scripts) dropped.
//
// The output is plain words with sentence and clause punctuation, so every
// engine reads it the same way and no engine's own (and differing) number
// rules come into play.
package textprep

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// lang holds one language's reading rules.
type lang struct {
	cardinal  func(int64) string
	digits    func(string) string
	phone     func(prefix string, groups []string) string
	date      func(d, m, y int64) string
	time      func(h, m int64) string
	timeRange func(h1, m1, h2, m2 int64) string
	numRange  func(a, b int64) string
	decimal   func(i int64, frac string) string
	percent   func(int64) string
	// percentFrac follows a fractional percent ("три запятая пять
	// процента").
	percentFrac string
	rubles      func(int64) string
	weekRange   func(a, b int) string
	weekday     func(a int) string
	listSep     string
	symbols     map[string]string

	dot, slash, at, dash, underscore string

	spell  func(string) string
	words  map[string]string
	script int
}

const (
	cyrillic = iota
	latin
)

// MinAppealDigits is the shortest run of digits read digit by digit as an
// appeal or document number (when it is not a phone number). Shorter runs
// are read as numbers.
const MinAppealDigits = 6

// Prepare rewrites text for the ear in lang ("ru" or "en"; anything else
// is treated as "en"). It never fails: what it cannot read it drops.
func Prepare(text, language string) string {
	l := enLang
	if language == "ru" {
		l = ruLang
	}
	s := normalize(text)
	s = reURL.ReplaceAllStringFunc(s, func(m string) string { return " " + readURL(l, m) + " " })
	s = reDotted.ReplaceAllStringFunc(s, func(m string) string {
		k := strings.Join(strings.Fields(m), "")
		if r, ok := l.words[k]; ok {
			return " " + r + " "
		}
		return m
	})
	s = reAroundTheClock.ReplaceAllString(s, " "+l.symbols["24/7"]+" ")
	s = rePhone.ReplaceAllStringFunc(s, func(m string) string { return " " + readPhone(l, m) + " " })
	s = reDate.ReplaceAllStringFunc(s, func(m string) string {
		g := reDate.FindStringSubmatch(m)
		d, mo, y := atoi(g[1]), atoi(g[2]), atoi(g[3])
		if d < 1 || d > 31 || mo < 1 || mo > 12 {
			return m
		}
		return " " + l.date(d, mo, y) + " "
	})
	s = reTimeRange.ReplaceAllStringFunc(s, func(m string) string {
		g := reTimeRange.FindStringSubmatch(m)
		return " " + l.timeRange(atoi(g[1]), atoi(g[2]), atoi(g[3]), atoi(g[4])) + " "
	})
	s = reTime.ReplaceAllStringFunc(s, func(m string) string {
		g := reTime.FindStringSubmatch(m)
		return " " + l.time(atoi(g[1]), atoi(g[2])) + " "
	})
	s = reWeekRange.ReplaceAllStringFunc(s, func(m string) string {
		g := reWeekRange.FindStringSubmatch(m)
		return g[1] + " " + l.weekRange(weekdayIndex(g[2]), weekdayIndex(g[3])) + " " + g[4]
	})
	s = reFromTo.ReplaceAllStringFunc(s, func(m string) string {
		g := reFromTo.FindStringSubmatch(m)
		return g[1] + l.numRange(atoi(g[2]), atoi(g[3])) + " "
	})
	s = reDigitGroups.ReplaceAllStringFunc(s, func(m string) string { return " " + readDigitGroups(l, m) + " " })
	// Digits grouped by thousands are a quantity, never an ID: read them
	// now so the appeal-number rule below does not see a long run.
	s = reThousands.ReplaceAllStringFunc(s, func(m string) string {
		return strings.Map(func(r rune) rune {
			if r == ' ' || r == '\u00a0' {
				return -1
			}
			return r
		}, m) + "\u2060"
	})
	s = reThousandsJoined.ReplaceAllStringFunc(s, func(m string) string {
		g := reThousandsJoined.FindStringSubmatch(m)
		return " " + l.cardinal(atoi(g[1])) + g[2]
	})
	s = reNumRange.ReplaceAllStringFunc(s, func(m string) string {
		g := reNumRange.FindStringSubmatch(m)
		return " " + l.numRange(atoi(g[1]), atoi(g[2])) + " "
	})
	s = rePercent.ReplaceAllStringFunc(s, func(m string) string {
		g := rePercent.FindStringSubmatch(m)
		if g[2] != "" {
			return " " + l.decimal(atoi(g[1]), g[2]) + " " + l.percentFrac + " "
		}
		return " " + l.percent(atoi(g[1])) + " "
	})
	s = reRubles.ReplaceAllStringFunc(s, func(m string) string {
		return " " + l.rubles(atoi(reRubles.FindStringSubmatch(m)[1])) + " "
	})
	s = reDecimal.ReplaceAllStringFunc(s, func(m string) string {
		g := reDecimal.FindStringSubmatch(m)
		return " " + l.decimal(atoi(g[1]), g[2]) + " "
	})
	s = reNumber.ReplaceAllStringFunc(s, func(m string) string {
		if len(m) >= MinAppealDigits {
			return " " + readDigitGroups(l, m) + " "
		}
		if len(m) > 1 && m[0] == '0' {
			return " " + l.digits(m) + " "
		}
		return " " + l.cardinal(atoi(m)) + " "
	})
	s = readWords(l, s)
	return tidy(s)
}

var (
	// Scheme optional; a host of dot-separated labels ending in a known
	// top-level domain, an optional path; or an e-mail address.
	reURL = regexp.MustCompile(`(?i)\b(?:https?://)?(?:[a-z0-9-]+\.)+(?:ru|рф|com|org|net|gov|info|su|io)\b(?:/[^\s,;!?)]*[^\s,;!?).])?|[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+`)
	// Dotted abbreviations ("т.е.", "e.g.", "руб.") must be read before
	// sentence splitting sees their dots.
	reDotted         = regexp.MustCompile(`(?:^|\s)(?:т\.\s?е\.|т\.\s?д\.|т\.\s?п\.|e\.g\.|i\.e\.|etc\.|руб\.|коп\.|мин\.|тел\.|ул\.|др\.|approx\.|min\.|No\.|Mr\.|Mrs\.|Dr\.)`)
	reAroundTheClock = regexp.MustCompile(`\b24\s?/\s?7\b`)
	// +7 (495) 123-45-67, 8-800-555-35-35, 8 800 100-70-10, 88005553535,
	// and local 123-45-67.
	rePhone = regexp.MustCompile(`(?:(?:\+7|\b8|\b7)[\s-]?\(?\d{3}\)?[\s-]?\d{3}[\s-]?\d{2}[\s-]?\d{2}|\b\d{3}-\d{2}-\d{2})\b`)
	reDate  = regexp.MustCompile(`\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b(?:\s?(?:г\.|года))?`)
	// 08:00–20:00, 9:00-18:00, 10:00 — 16:00
	reTimeRange = regexp.MustCompile(`(?:(?:^|\s)(?:[сС]|[fF]rom)\s+)?\b([01]?\d|2[0-4])[:.]([0-5]\d)\s?[-–—]\s?([01]?\d|2[0-4])[:.]([0-5]\d)\b`)
	reTime      = regexp.MustCompile(`\b([01]?\d|2[0-4]):([0-5]\d)\b`)
	reWeekRange = regexp.MustCompile(`(?i)(^|[^\p{L}])(пн|вт|ср|чт|пт|сб|вс|mon|tue|wed|thu|fri|sat|sun)\s?[-–—]\s?(пн|вт|ср|чт|пт|сб|вс|mon|tue|wed|thu|fri|sat|sun)([^\p{L}]|$)`)
	// "с 9 до 18", "from 9 to 18"
	reFromTo = regexp.MustCompile(`(^|[^\p{L}])(?:[сС]|[оО]т|[fF]rom)\s+(\d{1,5})\s+(?:до|to)\s+(\d{1,5})\b`)
	// Numbers written in hyphenated groups with at least six digits in
	// all (appeal 2025-000123, SNILS 123-456-789 00) are read digit by
	// digit, group by group.
	reDigitGroups = regexp.MustCompile(`\b\d+(?:-\d+)+(?:\s\d{2}\b)?`)
	reThousands   = regexp.MustCompile(`\b\d{1,3}(?:[  ]\d{3})+\b`)
	// reThousands marks its joined numbers with a trailing U+2060 (word
	// joiner) so this pass finds exactly them.
	reThousandsJoined = regexp.MustCompile(`(\d+)\x{2060}(\S*)`)
	reNumRange        = regexp.MustCompile(`\b(\d{1,5})\s?[–—-]\s?(\d{1,5})\b`)
	rePercent         = regexp.MustCompile(`\b(\d{1,9})(?:[.,](\d{1,3}))?\s?%`)
	reRubles          = regexp.MustCompile(`\b(\d{1,12})\s?(?:₽|рублей|рубля|рубль|руб\.?|rub\b|RUB\b|rubles\b)`)
	reDecimal         = regexp.MustCompile(`\b(\d{1,9})[.,](\d{1,3})\b`)
	reNumber          = regexp.MustCompile(`\d+`)
)

func readPhone(l *lang, m string) string {
	digits := onlyDigits(m)
	prefix := ""
	switch {
	case strings.HasPrefix(strings.TrimSpace(m), "+7"):
		prefix, digits = "+7", digits[1:]
	case len(digits) == 11:
		prefix, digits = digits[:1], digits[1:]
	}
	var groups []string
	if len(digits) == 10 {
		groups = []string{digits[:3], digits[3:6], digits[6:8], digits[8:]}
	} else {
		groups = []string{digits[:3], digits[3:5], digits[5:]}
	}
	return l.phone(prefix, groups)
}

// readDigitGroups reads a number digit by digit with a pause between the
// groups as written; a long unbroken run is grouped in threes.
func readDigitGroups(l *lang, m string) string {
	parts := strings.FieldsFunc(m, func(r rune) bool { return r < '0' || r > '9' })
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	if total < MinAppealDigits && len(parts) > 1 {
		// A short hyphenated pair is a range, handled later.
		return m
	}
	if len(parts) == 1 {
		p := parts[0]
		parts = nil
		for len(p) > 4 {
			n := 3
			if len(p) == 5 {
				n = 2 // 12 345 rather than 123 45 / 1 2345 splits
			}
			parts = append(parts, p[:n])
			p = p[n:]
		}
		parts = append(parts, p)
	}
	var w []string
	for _, p := range parts {
		w = append(w, l.digits(p))
	}
	return strings.Join(w, l.listSep+" ")
}

func readURL(l *lang, m string) string {
	m = regexp.MustCompile(`(?i)^https?://`).ReplaceAllString(m, "")
	var w []string
	label := strings.Builder{}
	flushLabel := func() {
		if label.Len() == 0 {
			return
		}
		w = append(w, readToken(l, label.String(), true))
		label.Reset()
	}
	for _, r := range m {
		switch r {
		case '.':
			flushLabel()
			w = append(w, l.dot)
		case '/':
			flushLabel()
			w = append(w, l.slash)
		case '@':
			flushLabel()
			w = append(w, l.at)
		case '-':
			flushLabel()
			w = append(w, l.dash)
		case '_':
			flushLabel()
			w = append(w, l.underscore)
		default:
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				label.WriteRune(r)
			} else {
				flushLabel()
			}
		}
	}
	flushLabel()
	return strings.Join(w, " ")
}

// readToken reads one word: a known word or abbreviation, a spelled
// all-capital abbreviation, or the word transliterated into the voice's
// script. inURL spells vowelless labels ("mfc") too.
func readToken(l *lang, tok string, inURL bool) string {
	if r, ok := l.words[tok]; ok {
		return r
	}
	if r, ok := l.words[strings.ToLower(tok)]; ok && (inURL || strings.ToLower(tok) == tok) {
		return r
	}
	if isDigits(tok) {
		return l.digits(tok)
	}
	letters := []rune(tok)
	upper := len(letters) >= 2 && strings.ToUpper(tok) == tok && strings.ToLower(tok) != tok
	if (upper && len(letters) <= 6) || (inURL && !hasVowel(tok) && len(letters) <= 5) {
		return l.spell(tok)
	}
	if l.script == cyrillic && hasLatin(tok) {
		return translitToCyrillic(tok)
	}
	if l.script == latin && hasCyrillic(tok) {
		return translitToLatin(tok)
	}
	return tok
}

// readWords reads the remaining letters, symbols and punctuation.
func readWords(l *lang, s string) string {
	var out strings.Builder
	runes := []rune(s)
	for i := 0; i < len(runes); {
		r := runes[i]
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			j := i
			for j < len(runes) && (unicode.IsLetter(runes[j]) || unicode.IsDigit(runes[j]) || runes[j] == '\'' ||
				(runes[j] == '-' && j+1 < len(runes) && unicode.IsLetter(runes[j+1]) && j > i)) {
				j++
			}
			tok := string(runes[i:j])
			i = j
			if !speakableScript(tok) {
				out.WriteRune(' ')
				continue
			}
			if _, known := l.words[tok]; !known && strings.Contains(tok, "-") {
				// ПИН-код, e-mail-адрес: each part on its own.
				var parts []string
				for _, p := range strings.Split(tok, "-") {
					parts = append(parts, readToken(l, p, false))
				}
				out.WriteString(strings.Join(parts, " "))
				continue
			}
			out.WriteString(readToken(l, tok, false))
		case strings.ContainsRune(".,!?;:…", r):
			out.WriteRune(r)
			i++
		case r == '-' || r == '–' || r == '—':
			// A dash between words is a pause.
			out.WriteString(" — ")
			i++
		case r == '(' || r == ')' || r == '"' || r == '«' || r == '»' || r == '\'':
			// Brackets and quotes are a short pause at most.
			out.WriteRune(' ')
			i++
		case unicode.IsSpace(r):
			if r == '\n' {
				out.WriteRune('\n')
			} else {
				out.WriteRune(' ')
			}
			i++
		default:
			if name, ok := l.symbols[string(r)]; ok {
				out.WriteString(" " + name + " ")
			} else {
				out.WriteRune(' ')
			}
			i++
		}
	}
	return out.String()
}

// normalize folds typographic variants and drops what cannot be spoken.
func normalize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\u00a0' || r == '\u202f' || r == '\t' || r == '\u2009':
			b.WriteRune(' ')
		case r == '\r':
		case r == '\u2010' || r == '\u2011' || r == '\u2012':
			b.WriteRune('-')
		case r == '’' || r == '‘':
			b.WriteRune('\'')
		case r == '“' || r == '”' || r == '„':
			b.WriteRune('"')
		case r == '\u2026':
			b.WriteRune('…')
		case unicode.IsControl(r) && r != '\n':
			b.WriteRune(' ')
		case unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r) || unicode.Is(unicode.Cs, r) || unicode.Is(unicode.Co, r) ||
			unicode.Is(unicode.Mn, r) || r == '\ufe0f' || r == '\u200d':
			// Emoji and other pictographs, stray combining marks.
			if r == '°' || r == '№' {
				b.WriteRune(r)
			} else {
				b.WriteRune(' ')
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// tidy collapses spaces, drops spaces before punctuation and repeated
// pauses, and keeps line breaks as sentence breaks.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	var out []string
	for _, line := range lines {
		line = strings.Join(strings.Fields(line), " ")
		line = reSpaceBeforePunct.ReplaceAllString(line, "$1")
		line = reRepeatedPause.ReplaceAllString(line, "$1")
		line = reDashAfterPunct.ReplaceAllString(line, "$1")
		line = strings.Trim(line, " ,;:—")
		if line != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

var (
	reSpaceBeforePunct = regexp.MustCompile(`\s+([.,!?;:…])`)
	reRepeatedPause    = regexp.MustCompile(`([,;:])(?:\s*[,;:])+`)
	reDashAfterPunct   = regexp.MustCompile(`([.,!?;:])\s*—`)
)

func weekdayIndex(s string) int {
	switch strings.ToLower(s) {
	case "пн", "mon":
		return 0
	case "вт", "tue":
		return 1
	case "ср", "wed":
		return 2
	case "чт", "thu":
		return 3
	case "пт", "fri":
		return 4
	case "сб", "sat":
		return 5
	case "вс", "sun":
		return 6
	}
	return -1
}

func speakableScript(tok string) bool {
	for _, r := range tok {
		if unicode.IsLetter(r) && !unicode.In(r, unicode.Latin, unicode.Cyrillic) {
			return false
		}
	}
	return true
}

func hasLatin(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Latin) {
			return true
		}
	}
	return false
}

func hasCyrillic(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Cyrillic) {
			return true
		}
	}
	return false
}

func hasVowel(s string) bool {
	return strings.ContainsAny(strings.ToLower(s), "aeiouyаеёиоуыэюя")
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func pad2(n int64) string {
	if n < 10 {
		return "0" + itoa(n)
	}
	return itoa(n)
}
