package textprep

import "strings"

var (
	enUnits = [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
		"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	enTens   = [...]string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
	enScales = [...]string{"thousand", "million", "billion"}
	enMonths = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	// Ordinals that are not cardinal + "th".
	enOrd = map[string]string{"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
		"nine": "ninth", "twelve": "twelfth"}
)

func enBelow1000(n int64) []string {
	var w []string
	if h := n / 100; h > 0 {
		w = append(w, enUnits[h], "hundred")
	}
	n %= 100
	switch {
	case n >= 20:
		w = append(w, enTens[n/10])
		if n%10 > 0 {
			w = append(w, enUnits[n%10])
		}
	case n > 0:
		w = append(w, enUnits[n])
	}
	return w
}

func enCardinal(n int64) string {
	if n == 0 {
		return "zero"
	}
	var w []string
	if n < 0 {
		w = append(w, "minus")
		n = -n
	}
	var groups []int64
	for m := n; m > 0; m /= 1000 {
		groups = append(groups, m%1000)
	}
	if len(groups) > len(enScales)+1 {
		return enDigits(itoa(n))
	}
	for i := len(groups) - 1; i >= 0; i-- {
		if groups[i] == 0 {
			continue
		}
		w = append(w, enBelow1000(groups[i])...)
		if i > 0 {
			w = append(w, enScales[i-1])
		}
	}
	return strings.Join(w, " ")
}

func enOrdinal(n int64) string {
	w := strings.Fields(enCardinal(n))
	last := w[len(w)-1]
	switch {
	case enOrd[last] != "":
		last = enOrd[last]
	case strings.HasSuffix(last, "y"):
		last = strings.TrimSuffix(last, "y") + "ieth"
	default:
		last += "th"
	}
	w[len(w)-1] = last
	return strings.Join(w, " ")
}

// enYear reads years the way people say them: 1990 "nineteen ninety",
// 2025 "twenty twenty five", 2000 "two thousand", 2005 "two thousand five".
func enYear(y int64) string {
	if y >= 1100 && y < 10000 && y%100 != 0 && !(y >= 2000 && y < 2010) {
		return enCardinal(y/100) + " " + enPair(y%100)
	}
	return enCardinal(y)
}

func enPair(n int64) string {
	if n < 10 {
		return "oh " + enUnits[n]
	}
	return enCardinal(n)
}

func enDigits(s string) string {
	var w []string
	for _, c := range s {
		if c >= '0' && c <= '9' {
			w = append(w, enUnits[c-'0'])
		}
	}
	return strings.Join(w, " ")
}

func enClock(h, m int64) string {
	h12 := h % 12
	if h12 == 0 {
		h12 = 12
	}
	s := enCardinal(h12)
	switch {
	case m == 0 && h == 0:
		return "midnight"
	case m == 0 && h == 12:
		return "noon"
	case m == 0:
		s += " o'clock"
	default:
		s += " " + enPair(m)
	}
	// "in the morning" reads unambiguously in both engines, unlike a.m.
	switch {
	case h < 12:
		s += " in the morning"
	case h < 18:
		s += " in the afternoon"
	default:
		s += " in the evening"
	}
	return s
}

var enLang = &lang{
	cardinal: enCardinal,
	digits:   enDigits,
	phone: func(prefix string, groups []string) string {
		var w []string
		switch prefix {
		case "+7":
			w = append(w, "plus seven,")
		case "8", "7":
			w = append(w, enUnits[prefix[0]-'0']+",")
		}
		for i, g := range groups {
			s := enDigits(g)
			if g == "800" {
				s = "eight hundred"
			}
			if i < len(groups)-1 {
				s += ","
			}
			w = append(w, s)
		}
		return strings.Join(w, " ")
	},
	date: func(d, m, y int64) string {
		s := enMonths[m-1] + " " + enOrdinal(d)
		if y > 0 {
			s += ", " + enYear(y)
		}
		return s
	},
	time: enClock,
	timeRange: func(h1, m1, h2, m2 int64) string {
		return "from " + enClock(h1, m1) + " to " + enClock(h2, m2)
	},
	numRange: func(a, b int64) string { return "from " + enCardinal(a) + " to " + enCardinal(b) },
	decimal: func(i int64, frac string) string {
		return enCardinal(i) + " point " + enDigits(frac)
	},
	percent:     func(n int64) string { return enCardinal(n) + " percent" },
	percentFrac: "percent",
	rubles: func(n int64) string { // "rubles" in the text is consumed too
		if n == 1 {
			return "one ruble"
		}
		return enCardinal(n) + " rubles"
	},
	listSep: ",",
	symbols: map[string]string{
		"%": "percent", "№": "number", "+": "plus", "&": "and", "@": "at", "*": "star", "#": "hash",
		"=": "equals", "₽": "rubles", "$": "dollars", "€": "euros", "°": "degrees", "/": "slash",
		"24/7": "twenty four seven",
	},
	dot: "dot", slash: "slash", at: "at", dash: "dash", underscore: "underscore",
	spell:  enSpell,
	words:  enWords,
	script: latin,
	weekRange: func(a, b int) string {
		return enWeek[a] + " to " + enWeek[b]
	},
	weekday: func(a int) string { return enWeek[a] },
}

var enWeek = [...]string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

func enSpell(word string) string {
	var w []string
	for _, r := range strings.ToUpper(translitToLatin(word)) {
		switch {
		case r >= 'A' && r <= 'Z':
			w = append(w, string(r))
		case r >= '0' && r <= '9':
			w = append(w, enUnits[r-'0'])
		}
	}
	return strings.Join(w, " ")
}

// enWords: abbreviations and Russian terms as an English speaker should
// hear them.
var enWords = map[string]string{
	"SMS": "S M S", "PIN": "pin", "FAQ": "F A Q", "ID": "I D", "QR": "Q R", "PDF": "P D F",
	"МФЦ": "M F C", "ИНН": "I N N", "СНИЛС": "SNILS", "SNILS": "SNILS", "INN": "I N N", "MFC": "M F C",
	"Госуслуги": "Gosuslugi", "госуслуги": "Gosuslugi", "Gosuslugi": "Gosuslugi",
	"www": "W W W", "http": "", "https": "", "e-mail": "email", "Wi-Fi": "wi-fi",
	"т.е.": "that is", "т.д.": "and so on", "руб.": "rubles",
	"e.g.": "for example", "i.e.": "that is", "etc.": "et cetera", "approx.": "approximately",
	"min.": "minutes", "No.": "number", "Mr.": "Mister", "Mrs.": "Missus", "Dr.": "Doctor",
	"Mon": "Monday", "Tue": "Tuesday", "Wed": "Wednesday", "Thu": "Thursday", "Fri": "Friday", "Sat": "Saturday", "Sun": "Sunday",
}
