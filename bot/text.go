package bot

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The checks here run before understanding: they keep abuse, attempts to
// steer a language model and text the bot cannot read out of the nlu path
// and give each a reply of its own.

// profanityRoots are word stems of strong swearing (ru, en). Matching stems
// at the start of a word keeps ordinary words ("страхование", "scunthorpe")
// out.
var profanityRoots = []string{
	"хуй", "хуе", "хуё", "хуя", "нахуй", "похуй", "охуе", "охуи", "пизд", "ебат", "ебан", "ебал", "ёбан", "ебуч", "заеб", "заёб", "уеб", "уёб",
	"бляд", "блят", "мудак", "мудил", "долбоеб", "долбоёб", "пидор", "пидар", "гандон", "мраз",
	"fuck", "shit", "bitch", "asshole", "bastard", "cunt", "dick", "motherf",
}

// profanityExact are words that are swearing only as a whole word.
var profanityExact = map[string]bool{"бля": true, "сука": true, "суки": true, "суку": true, "сучка": true, "ass": true}

func hasProfanity(text string) bool {
	for _, w := range words(text) {
		if profanityExact[w] {
			return true
		}
		for _, r := range profanityRoots {
			if strings.HasPrefix(w, r) {
				return true
			}
		}
	}
	return false
}

// injectionPatterns catch attempts to give the bot new instructions. The
// bot never lets a language model write what it says, but such text also
// must not reach an LLM-based parser nor be answered as a question.
var injectionPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules|guidelines|everything)\b`),
	regexp.MustCompile(`(?i)\b(system|developer)\s+(prompt|message|instructions?)\b`),
	regexp.MustCompile(`(?i)\byou\s+are\s+now\b|\bact\s+as\b|\bpretend\s+(to\s+be|you)\b|\bjailbreak\b|\bDAN\b`),
	regexp.MustCompile(`(?i)(игнорируй|проигнорируй|забудь|отмени|не\s+следуй)\S*.{0,40}(инструкци|указани|правил|промпт|всё|все)`),
	regexp.MustCompile(`(?i)(системн\S*\s+(промпт|инструкци|сообщени))|(ты\s+теперь)|(представь,?\s+что\s+ты)|(притворись)`),
	regexp.MustCompile(`(?i)<\s*/?\s*(system|assistant|im_start|im_end)\b|\[\s*INST\s*\]`),
}

// markup matches HTML-like tags: pasted markup is not something a caller
// says, and it must not steer language detection or the parser.
var markup = regexp.MustCompile(`<[^<>]{0,200}>`)

// stripMarkup removes tags, keeping the text between them.
func stripMarkup(text string) string {
	if !strings.ContainsRune(text, '<') {
		return text
	}
	return strings.TrimSpace(markup.ReplaceAllString(text, " "))
}

func isInjection(text string) bool {
	for _, re := range injectionPatterns {
		if re.MatchString(text) {
			return true
		}
	}
	return false
}

// foreignScript reports text that has letters but none Latin or Cyrillic:
// a language the bot does not speak.
func foreignScript(text string) bool {
	letters, known := 0, 0
	for _, r := range text {
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		if unicode.Is(unicode.Latin, r) || unicode.Is(unicode.Cyrillic, r) {
			known++
		}
	}
	return letters >= 2 && known*4 < letters
}

func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// digitsOf returns the ASCII digits in s, in order.
func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// normalizePhone turns what a caller said into +7XXXXXXXXXX (Russian
// numbers, with 8 or 7 or nothing before the ten digits) or +<digits> for
// an international number said with a plus; "" when it is not a phone.
func normalizePhone(raw string) string {
	d := digitsOf(raw)
	switch {
	case len(d) == 11 && (d[0] == '8' || d[0] == '7'):
		return "+7" + d[1:]
	case len(d) == 10 && d[0] == '9':
		return "+7" + d
	case strings.Contains(raw, "+") && len(d) >= 11 && len(d) <= 15:
		return "+" + d
	}
	return ""
}

// yesNoWord is a fallback for short answers the parser did not classify.
func yesNoWord(text string) string {
	ws := words(text)
	if len(ws) == 0 || len(ws) > 4 {
		return ""
	}
	switch ws[0] {
	case "да", "ага", "угу", "конечно", "верно", "правильно", "точно", "давайте", "хорошо", "yes", "yeah", "yep", "sure", "correct", "right", "ok", "okay":
		return IntentYes
	case "нет", "не", "неа", "no", "nope", "nah", "incorrect", "wrong":
		return IntentNo
	}
	return ""
}

// ordinal reads a choice between two topics: 1 or 2, 0 when neither.
func ordinal(text string) int {
	for _, w := range words(text) {
		switch {
		case w == "1" || strings.HasPrefix(w, "перв") || w == "first" || w == "один" || w == "one":
			return 1
		case w == "2" || strings.HasPrefix(w, "втор") || w == "second" || w == "два" || w == "two":
			return 2
		}
	}
	return 0
}

// truncateRunes cuts s to at most n runes.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
