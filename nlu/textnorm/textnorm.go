// Package textnorm normalises recognised or typed Russian and English
// speech for understanding: lower case, ё→е, no punctuation, number words
// as digits, no filler words and no stuttered repeats.
//
// Speech recognisers spell numbers out ("восемь восемьсот пятьсот пять",
// "four four seven seven"), and callers dictate numbers in groups, so a run
// of number words becomes one digit string made of its spoken groups:
// "восемь восемьсот пятьсот пять" → 8800505, while "двадцать пять" → 25.
package textnorm

import (
	"strings"
	"unicode"
)

// Token is one word of normalised text.
type Token struct {
	Text    string // lower-case word, or digits for a number
	Num     bool   // Text is digits (spoken as words or typed)
	Ordinal bool   // an ordinal number ("двадцать пятого", "25th")
	Spoken  bool   // the number was spoken as words, not typed
	// Joined reports that a typed number was glued to the previous token
	// by a hyphen, dot or slash ("123-45-67", "25.03"): slot extraction
	// uses it to rebuild what was one number on paper.
	Joined bool
	Sep    byte // the separator before a Joined token: '-', '.', '/', ':'

	spaced bool // whitespace came before the token in the text
}

// Normalize returns text in normal form: words separated by single spaces.
func Normalize(text string) string { return Join(Tokens(text)) }

// Join renders tokens as normalised text.
func Join(ts []Token) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.Text)
	}
	return b.String()
}

// Tokens splits text into normalised tokens: it lowers the case, folds ё,
// drops punctuation, turns number words into digits, and removes filler
// words and repeated words.
func Tokens(text string) []Token {
	ts := split(text)
	ts = numbers(ts)
	ts = dropFillers(ts)
	return dedupe(ts)
}

// split cuts text into word and digit tokens. Letters and digits glued
// together ("25th", "2nd") become a number and a word that marks it.
func split(text string) []Token {
	var ts []Token
	var cur []rune
	curDigits := false
	var sep byte // punctuation seen since the last token
	gap := false // whitespace seen since the last token
	flush := func() {
		if len(cur) == 0 {
			return
		}
		t := Token{Text: string(cur), Num: curDigits, spaced: gap}
		if curDigits && !gap && sep != 0 && len(ts) > 0 && ts[len(ts)-1].Num {
			t.Joined, t.Sep = true, sep
		}
		ts = append(ts, t)
		cur = cur[:0]
		sep, gap = 0, false
	}
	for _, r := range text {
		switch {
		case r == '\'' || r == '’' || r == 'ʼ':
			// "can't" → "cant", as recognisers write it.
			continue
		case unicode.IsDigit(r):
			if r > unicode.MaxASCII {
				if d := unicode.ToLower(r); d >= '0' && d <= '9' {
					r = d
				} else {
					continue
				}
			}
			if len(cur) > 0 && !curDigits {
				flush()
			}
			curDigits = true
			cur = append(cur, r)
		case unicode.IsLetter(r):
			if len(cur) > 0 && curDigits {
				flush()
			}
			curDigits = false
			r = unicode.ToLower(r)
			if r == 'ё' {
				r = 'е'
			}
			cur = append(cur, r)
		case unicode.IsMark(r):
			// Combining marks (stress accents, the ё diaeresis) carry no
			// meaning here; е+◌̈ is already е.
			continue
		default:
			flush()
			if unicode.IsSpace(r) {
				gap = true
			} else if sep == 0 {
				switch r {
				case '-', '.', '/', ':', '‐', '–':
					sep = byte(r)
					if r > unicode.MaxASCII {
						sep = '-'
					}
				default:
					gap = true
				}
			}
		}
	}
	flush()
	// "25th", "1st", "22nd", "3rd", "5-го", "25-е": typed ordinals.
	out := ts[:0]
	for i, t := range ts {
		if i > 0 && !t.Num && !t.spaced && out[len(out)-1].Num && ordinalSuffix[t.Text] {
			out[len(out)-1].Ordinal = true
			continue
		}
		out = append(out, t)
	}
	return out
}

var ordinalSuffix = map[string]bool{
	"st": true, "nd": true, "rd": true, "th": true,
	"го": true, "е": true, "й": true, "ое": true, "ого": true, "ий": true, "ый": true, "ой": true, "я": true, "ая": true,
}

// dropFillers removes hesitations and discourse fillers that carry no
// meaning ("ну", "э-э", "короче", "um", "like").
func dropFillers(ts []Token) []Token {
	out := ts[:0]
	for i := 0; i < len(ts); i++ {
		t := ts[i]
		if t.Num {
			out = append(out, t)
			continue
		}
		if i+1 < len(ts) && fillerPairs[t.Text+" "+ts[i+1].Text] {
			i++
			continue
		}
		if isFiller(t.Text) {
			continue
		}
		if t.Text == "like" && !likeIsVerb(out) {
			continue
		}
		out = append(out, t)
	}
	return out
}

var fillers = map[string]bool{
	"ну": true, "короче": true, "типа": true, "вот": true, "алло": true, "ало": true,
	"um": true, "umm": true, "uh": true, "uhh": true, "uhm": true, "erm": true, "er": true,
	"hmm": true, "hm": true, "ah": true, "mm": true, "mmm": true,
}

var fillerPairs = map[string]bool{
	"как бы": true, "это самое": true, "в общем": true, "так сказать": true,
	"you know": true, "i mean": true, "sort of": true, "kind of": true,
}

// isFiller reports hesitation sounds: "э", "эээ", "эм", "ммм", "ааа", "хм".
func isFiller(w string) bool {
	if fillers[w] {
		return true
	}
	rs := []rune(w)
	only := func(set string) bool {
		for _, r := range rs {
			if !strings.ContainsRune(set, r) {
				return false
			}
		}
		return true
	}
	switch {
	case only("э"), only("эм") && rs[0] == 'э', only("м"), only("хм") && rs[0] == 'х':
		return true
	case len(rs) >= 2 && only("а"):
		return true
	}
	return false
}

// likeIsVerb keeps "like" in "I'd like", "would like", "I like".
func likeIsVerb(prev []Token) bool {
	if len(prev) == 0 {
		return false
	}
	switch prev[len(prev)-1].Text {
	case "d", "id", "would", "i", "we", "you", "they", "dont", "also", "really", "just", "wed", "youd", "looks", "look", "sounds", "feel", "not":
		return true
	}
	return false
}

// dedupe collapses stuttered repeats ("я я хочу" → "я хочу"). Numbers are
// never collapsed: "три три пять" is the digits 335.
func dedupe(ts []Token) []Token {
	out := ts[:0]
	for _, t := range ts {
		if n := len(out); n > 0 && !t.Num && !out[n-1].Num && out[n-1].Text == t.Text {
			continue
		}
		out = append(out, t)
	}
	return out
}
