package textnorm

import (
	"strconv"
	"strings"
)

// kind is the grammatical role of a number word, which decides whether the
// next word continues the same number ("двадцать" + "пять") or starts a new
// spoken group ("восемь" | "восемьсот").
type kind int

const (
	kUnit       kind = iota // 1–9
	kZero                   // 0, always a group of its own
	kTeen                   // 10–19
	kTen                    // 20–90
	kHundred                // 100–900 as one word (ru "восемьсот")
	kHundredMul             // en "hundred": multiplies the group so far
	kThousand               // "тысяча", "thousand": closes the thousands
)

type numWord struct {
	val     int
	kind    kind
	ordinal bool
}

// numberWords maps every form of a number word, in both languages, to its
// value. Russian numerals decline, so each has several forms.
var numberWords = buildNumberWords()

func buildNumberWords() map[string]numWord {
	m := map[string]numWord{}
	add := func(k kind, val int, forms string) {
		for _, f := range strings.Fields(forms) {
			m[f] = numWord{val: val, kind: k}
		}
	}
	// Russian cardinals in all cases. "семью" and "восемью" are left out:
	// "семью" is far more often "family".
	add(kZero, 0, "ноль нуль ноля нуля нолю нулю нолем нулем")
	add(kUnit, 1, "один одна одно одного одной одному одним одном одну")
	add(kUnit, 2, "два две двух двум двумя")
	add(kUnit, 3, "три трех трем тремя")
	add(kUnit, 4, "четыре четырех четырем четырьмя")
	add(kUnit, 5, "пять пяти пятью")
	add(kUnit, 6, "шесть шести шестью")
	add(kUnit, 7, "семь семи")
	add(kUnit, 8, "восемь восьми")
	add(kUnit, 9, "девять девяти девятью")
	add(kTeen, 10, "десять десяти десятью")
	for i, stem := range []string{"один", "две", "три", "четыр", "пят", "шест", "сем", "восем", "девят"} {
		add(kTeen, 11+i, stem+"надцать "+stem+"надцати "+stem+"надцатью")
	}
	add(kTen, 20, "двадцать двадцати двадцатью")
	add(kTen, 30, "тридцать тридцати тридцатью")
	add(kTen, 40, "сорок сорока")
	add(kTen, 50, "пятьдесят пятидесяти пятьюдесятью")
	add(kTen, 60, "шестьдесят шестидесяти шестьюдесятью")
	add(kTen, 70, "семьдесят семидесяти семьюдесятью")
	add(kTen, 80, "восемьдесят восьмидесяти восемьюдесятью")
	add(kTen, 90, "девяносто девяноста")
	add(kHundred, 100, "сто ста")
	add(kHundred, 200, "двести двухсот двумстам")
	add(kHundred, 300, "триста трехсот тремстам")
	add(kHundred, 400, "четыреста четырехсот четыремстам")
	add(kHundred, 500, "пятьсот пятисот пятистам")
	add(kHundred, 600, "шестьсот шестисот шестистам")
	add(kHundred, 700, "семьсот семисот семистам")
	add(kHundred, 800, "восемьсот восьмисот восьмистам")
	add(kHundred, 900, "девятьсот девятисот девятистам")
	add(kThousand, 1000, "тысяча тысячи тысяч тысячу тысячей thousand thousands")

	// Russian ordinals: stem + adjective ending ("двадцать пятого").
	ends := strings.Fields("ый ий ой ая яя ое ее ого его ому ему ым им ом ем ую юю ые ие ых их ыми ими")
	ords := []struct {
		val  int
		stem string
	}{
		{1, "перв"}, {2, "втор"}, {4, "четверт"}, {5, "пят"}, {6, "шест"}, {7, "седьм"},
		{8, "восьм"}, {9, "девят"}, {10, "десят"}, {20, "двадцат"}, {30, "тридцат"},
	}
	for i, stem := range []string{"одиннадцат", "двенадцат", "тринадцат", "четырнадцат", "пятнадцат", "шестнадцат", "семнадцат", "восемнадцат", "девятнадцат"} {
		ords = append(ords, struct {
			val  int
			stem string
		}{11 + i, stem})
	}
	for _, o := range ords {
		for _, e := range ends {
			m[o.stem+e] = ordWord(o.val)
		}
	}
	for _, f := range strings.Fields("третий третья третье третьи третьего третьей третьему третьим третьем третью третьих третьими") {
		m[f] = ordWord(3)
	}

	// English.
	add(kZero, 0, "zero")
	for i, w := range strings.Fields("one two three four five six seven eight nine") {
		add(kUnit, i+1, w)
	}
	for i, w := range strings.Fields("ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen") {
		add(kTeen, 10+i, w)
	}
	for i, w := range strings.Fields("twenty thirty forty fifty sixty seventy eighty ninety") {
		add(kTen, 20+10*i, w)
	}
	add(kHundredMul, 100, "hundred hundreds")
	// "second" is left out: "wait a second" is not a date.
	for i, w := range strings.Fields("first _ third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth") {
		if w != "_" {
			m[w] = ordWord(i + 1)
		}
	}
	m["twentieth"] = ordWord(20)
	m["thirtieth"] = ordWord(30)
	return m
}

// ordWord is an ordinal: its kind follows its value so that "twenty
// fifth" and "двадцать пятого" combine like cardinals.
func ordWord(v int) numWord {
	k := kUnit
	switch {
	case v >= 20:
		k = kTen
	case v >= 10:
		k = kTeen
	}
	return numWord{val: v, kind: k, ordinal: true}
}

// numbers replaces runs of number words with digit tokens.
func numbers(ts []Token) []Token {
	out := make([]Token, 0, len(ts))
	for i := 0; i < len(ts); {
		if ts[i].Num {
			out = append(out, ts[i])
			i++
			continue
		}
		words, n := numberRun(ts, i)
		if n == 0 {
			out = append(out, ts[i])
			i++
			continue
		}
		digits, ord := spell(words)
		out = append(out, Token{Text: digits, Num: true, Ordinal: ord, Spoken: true, spaced: ts[i].spaced})
		i += n
	}
	return out
}

// numberRun reads the number words starting at ts[i] and returns them with
// the count of tokens consumed (0 when ts[i] does not start a number). An
// ordinal ends the run: "двадцать пятого марта".
func numberRun(ts []Token, i int) ([]numWord, int) {
	var ws []numWord
	j := i
	isNum := func(k int) bool {
		if k >= len(ts) || ts[k].Num {
			return false
		}
		_, ok := numberWords[ts[k].Text]
		return ok || ts[k].Text == "double" || ts[k].Text == "triple"
	}
	for j < len(ts) && !ts[j].Num {
		w := ts[j].Text
		if nw, ok := numberWords[w]; ok {
			ws = append(ws, nw)
			j++
			if nw.ordinal {
				break
			}
			continue
		}
		switch {
		case (w == "double" || w == "triple") && j+1 < len(ts) && !ts[j+1].Num:
			nw, ok := numberWords[ts[j+1].Text]
			if !ok || nw.kind != kUnit && nw.kind != kZero || nw.ordinal {
				return endRun(ws, j-i)
			}
			times := 2
			if w == "triple" {
				times = 3
			}
			for range times {
				ws = append(ws, numWord{val: nw.val, kind: kZero}) // each digit its own group
			}
			j += 2
			continue
		case w == "oh" || w == "o":
			// "oh" is zero only among other digits: "eight oh five".
			if len(ws) > 0 || isNum(j+1) {
				ws = append(ws, numWord{val: 0, kind: kZero})
				j++
				continue
			}
		case w == "a" && len(ws) == 0 && j+1 < len(ts):
			// "a hundred", "a thousand".
			if nw, ok := numberWords[ts[j+1].Text]; ok && (nw.kind == kHundredMul || nw.kind == kThousand) {
				ws = append(ws, numWord{val: 1, kind: kUnit})
				j++
				continue
			}
		case w == "and" && len(ws) > 0 && ws[len(ws)-1].kind == kHundredMul && isNum(j+1):
			// "one hundred and five".
			j++
			continue
		}
		break
	}
	return endRun(ws, j-i)
}

func endRun(ws []numWord, n int) ([]numWord, int) {
	if len(ws) == 0 {
		return nil, 0
	}
	return ws, n
}

// spell turns number words into digits. Words combine into one value while
// the grammar allows it (hundreds, then tens, then units); a word that
// cannot continue the value starts a new spoken group, and groups are
// written one after another, as a dictated phone or appeal number is.
func spell(ws []numWord) (string, bool) {
	var b strings.Builder
	var total, cur int
	var last kind
	open := false
	ordinal := false
	emit := func() {
		if open {
			b.WriteString(strconv.Itoa(total + cur))
		}
		total, cur, open = 0, 0, false
	}
	for _, w := range ws {
		ordinal = w.ordinal
		if open && !continues(last, cur, total, w) {
			emit()
		}
		switch w.kind {
		case kHundredMul:
			if cur == 0 {
				cur = 1
			}
			cur *= 100
		case kThousand:
			if cur == 0 {
				cur = 1
			}
			total += cur * 1000
			cur = 0
		default:
			cur += w.val
		}
		last = w.kind
		open = true
		if w.kind == kZero {
			emit()
		}
	}
	emit()
	return b.String(), ordinal
}

// continues reports whether w extends the number built so far.
func continues(last kind, cur, total int, w numWord) bool {
	switch w.kind {
	case kZero:
		return false
	case kUnit:
		return last == kTen || (last == kHundred || last == kHundredMul) && cur%100 == 0 || last == kThousand
	case kTeen, kTen:
		return (last == kHundred || last == kHundredMul) && cur%100 == 0 || last == kThousand
	case kHundred:
		return last == kThousand
	case kHundredMul:
		return (last == kUnit || last == kTeen) && cur < 100
	case kThousand:
		return total == 0 && cur > 0
	}
	return false
}
