package knowledge

import (
	"strconv"
	"strings"
	"unicode"
)

// Number words are normalised to digits before searching, because callers
// (and speech recognisers) say "восемь восемьсот" where the articles write
// "8 800". This is deliberately small: cardinals up to millions in Russian
// (common case forms) and English, digit-by-digit runs joined ("ноль два" →
// "02"), nothing else. The NLU package owns the full normaliser.

type numKind int

const (
	kindZero       numKind = iota + 1
	kindUnit               // 1-9
	kindTeen               // 10-19
	kindTens               // 20-90
	kindHundreds           // 100-900
	kindHundred            // English "hundred": multiplies what precedes it
	kindMultiplier         // thousand, million
)

type numWord struct {
	kind numKind
	val  int
}

func numberWords() map[string]numWord {
	m := map[string]numWord{}
	add := func(kind numKind, val int, forms ...string) {
		for _, f := range forms {
			m[f] = numWord{kind, val}
		}
	}
	// Russian. ё is folded to е before lookup.
	add(kindZero, 0, "ноль", "нуль", "ноля", "нуля")
	add(kindUnit, 1, "один", "одна", "одно", "одного", "одной", "одну", "одним")
	add(kindUnit, 2, "два", "две", "двух", "двум", "двумя")
	add(kindUnit, 3, "три", "трех", "трем", "тремя")
	add(kindUnit, 4, "четыре", "четырех", "четырем", "четырьмя")
	add(kindUnit, 5, "пять", "пяти", "пятью")
	add(kindUnit, 6, "шесть", "шести", "шестью")
	add(kindUnit, 7, "семь", "семи", "семью")
	add(kindUnit, 8, "восемь", "восьми", "восемью")
	add(kindUnit, 9, "девять", "девяти", "девятью")
	add(kindTeen, 10, "десять", "десяти")
	add(kindTeen, 11, "одиннадцать", "одиннадцати")
	add(kindTeen, 12, "двенадцать", "двенадцати")
	add(kindTeen, 13, "тринадцать", "тринадцати")
	add(kindTeen, 14, "четырнадцать", "четырнадцати")
	add(kindTeen, 15, "пятнадцать", "пятнадцати")
	add(kindTeen, 16, "шестнадцать", "шестнадцати")
	add(kindTeen, 17, "семнадцать", "семнадцати")
	add(kindTeen, 18, "восемнадцать", "восемнадцати")
	add(kindTeen, 19, "девятнадцать", "девятнадцати")
	add(kindTens, 20, "двадцать", "двадцати")
	add(kindTens, 30, "тридцать", "тридцати")
	add(kindTens, 40, "сорок", "сорока")
	add(kindTens, 50, "пятьдесят", "пятидесяти")
	add(kindTens, 60, "шестьдесят", "шестидесяти")
	add(kindTens, 70, "семьдесят", "семидесяти")
	add(kindTens, 80, "восемьдесят", "восьмидесяти")
	add(kindTens, 90, "девяносто", "девяноста")
	add(kindHundreds, 100, "сто", "ста", "сотня")
	hundredStems := []string{"", "", "двухсот", "трехсот", "четырехсот", "пятисот", "шестисот", "семисот", "восьмисот", "девятисот"}
	add(kindHundreds, 200, "двести")
	add(kindHundreds, 300, "триста")
	add(kindHundreds, 400, "четыреста")
	add(kindHundreds, 500, "пятьсот")
	add(kindHundreds, 600, "шестьсот")
	add(kindHundreds, 700, "семьсот")
	add(kindHundreds, 800, "восемьсот")
	add(kindHundreds, 900, "девятьсот")
	for i, stem := range hundredStems {
		if stem == "" {
			continue
		}
		add(kindHundreds, i*100, stem)
		// Ordinals: "восьмисотый номер" is how people name an 8-800 number.
		for _, suf := range []string{"ый", "ого", "ому", "ом", "ая", "ой", "ую", "ые", "ых"} {
			add(kindHundreds, i*100, stem+suf)
		}
	}
	add(kindMultiplier, 1000, "тысяча", "тысячи", "тысяч", "тысячу", "тысячей")
	add(kindMultiplier, 1000000, "миллион", "миллиона", "миллионов")

	// English.
	add(kindZero, 0, "zero", "oh", "nought")
	for i, w := range strings.Fields("one two three four five six seven eight nine") {
		add(kindUnit, i+1, w)
	}
	for i, w := range strings.Fields("ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen") {
		add(kindTeen, i+10, w)
	}
	for i, w := range strings.Fields("twenty thirty forty fifty sixty seventy eighty ninety") {
		add(kindTens, (i+2)*10, w)
	}
	add(kindHundred, 100, "hundred")
	add(kindMultiplier, 1000, "thousand")
	add(kindMultiplier, 1000000, "million")
	return m
}

// numberNormalizer rewrites number words to digits. It is immutable after
// construction and safe for concurrent use.
type numberNormalizer struct{ words map[string]numWord }

func newNumberNormalizer() *numberNormalizer { return &numberNormalizer{words: numberWords()} }

// Normalize returns text with every run of number words replaced by digits:
// "восемь восемьсот сто" → "8 800 100", "one hundred" → "100",
// "ноль два" → "02". Other words and punctuation are kept. "oh" only counts
// next to other number words, since it is mostly an interjection.
func (n *numberNormalizer) Normalize(text string) string {
	toks := splitWords(text)
	var out strings.Builder
	var run []numGroup // finished numbers of the current run of number words
	var g numGroup
	flushRun := func() {
		if g.active {
			run = append(run, g)
			g = numGroup{}
		}
		for i, r := range run {
			if i > 0 && !(r.single && run[i-1].single) {
				out.WriteByte(' ')
			}
			out.WriteString(strconv.Itoa(r.total + r.cur))
		}
		run = run[:0]
	}
	for i, t := range toks {
		w, ok := n.numAt(toks, i)
		if !ok {
			flushRun()
			out.WriteString(t.text)
			out.WriteString(t.sep)
			continue
		}
		if g.active && !g.accepts(w) {
			run = append(run, g)
			g = numGroup{}
		}
		g.add(w)
		// A run continues over spaces and hyphens only: "пять. Два" is two
		// separate numbers, "восемь восемьсот" one run.
		if _, next := n.numAt(toks, i+1); !next || strings.Trim(t.sep, " -") != "" {
			flushRun()
			out.WriteString(t.sep)
		}
	}
	flushRun()
	return out.String()
}

// numAt looks up token i as a number word. "oh" only counts next to other
// number words, since it is mostly an interjection.
func (n *numberNormalizer) numAt(toks []wordTok, i int) (numWord, bool) {
	if i < 0 || i >= len(toks) {
		return numWord{}, false
	}
	w, ok := n.words[toks[i].word]
	if !ok || toks[i].word != "oh" {
		return w, ok
	}
	for _, j := range []int{i - 1, i + 1} {
		if j >= 0 && j < len(toks) && toks[j].word != "oh" {
			if _, ok := n.words[toks[j].word]; ok {
				return w, true
			}
		}
	}
	return numWord{}, false
}

// numGroup accumulates one number: magnitudes must strictly fall
// ("сто двадцать пять"), otherwise a new number starts ("восемь восемьсот").
type numGroup struct {
	active  bool
	single  bool // exactly one unit or zero word so far
	total   int  // completed thousands/millions
	cur     int  // below the last multiplier
	lastMag int  // smallest magnitude used in cur (0 = none yet)
	lastMul int  // last multiplier applied (0 = none)
}

func (g *numGroup) accepts(w numWord) bool {
	if !g.active {
		return true
	}
	if g.single && g.cur == 0 && g.total == 0 { // "ноль" stands alone
		return false
	}
	free := func(mag int) bool { return g.lastMag == 0 || mag < g.lastMag }
	switch w.kind {
	case kindZero:
		return false
	case kindUnit:
		return free(1)
	case kindTeen, kindTens:
		return free(10)
	case kindHundreds:
		return free(100)
	case kindHundred:
		return g.cur > 0 && g.cur < 10 && g.lastMag == 1
	case kindMultiplier:
		return g.cur > 0 && (g.lastMul == 0 || w.val < g.lastMul)
	}
	return false
}

func (g *numGroup) add(w numWord) {
	first := !g.active
	g.active = true
	g.single = first && (w.kind == kindUnit || w.kind == kindZero)
	switch w.kind {
	case kindZero:
		g.cur, g.lastMag = 0, 1
	case kindUnit:
		g.cur += w.val
		g.lastMag = 1
	case kindTeen:
		g.cur += w.val
		g.lastMag = 1
	case kindTens:
		g.cur += w.val
		g.lastMag = 10
	case kindHundreds:
		g.cur += w.val
		g.lastMag = 100
	case kindHundred:
		g.cur = max(g.cur, 1) * 100
		g.lastMag = 100
	case kindMultiplier:
		g.total += max(g.cur, 1) * w.val
		g.cur, g.lastMag, g.lastMul = 0, 0, w.val
	}
}

type wordTok struct {
	text string // the word as written
	word string // lowercased, ё→е, for lookup
	sep  string // what follows it up to the next word
}

// splitWords cuts text into words (letters and digits) and the separators
// after them; the first token has no word and carries leading punctuation.
// Hyphenated number words ("twenty-five") split at the hyphen.
func splitWords(text string) []wordTok {
	rs := []rune(text)
	i := 0
	for i < len(rs) && !isWordRune(rs[i]) {
		i++
	}
	toks := []wordTok{{sep: string(rs[:i])}} // leading punctuation, no word
	for i < len(rs) {
		j := i
		for j < len(rs) && isWordRune(rs[j]) {
			j++
		}
		k := j
		for k < len(rs) && !isWordRune(rs[k]) {
			k++
		}
		w := string(rs[i:j])
		toks = append(toks, wordTok{text: w, word: foldText(strings.ToLower(w)), sep: string(rs[j:k])})
		i = k
	}
	return toks
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// foldText folds ё to е: Russian writers use them interchangeably, and the
// stemmer does not.
func foldText(s string) string {
	if !strings.ContainsAny(s, "ёЁ") {
		return s
	}
	return strings.NewReplacer("ё", "е", "Ё", "Е").Replace(s)
}
