package textprep

import "strings"

var toLatin = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "yo", 'ж': "zh", 'з': "z", 'и': "i",
	'й': "y", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t",
	'у': "u", 'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "",
	'э': "e", 'ю': "yu", 'я': "ya",
}

// translitToLatin writes a Russian word in Latin letters so an English
// voice can read it ("Госуслуги" → "Gosuslugi").
func translitToLatin(s string) string {
	var b strings.Builder
	for _, r := range s {
		lower := []rune(strings.ToLower(string(r)))[0]
		t, ok := toLatin[lower]
		if !ok {
			b.WriteRune(r)
			continue
		}
		if lower != r && t != "" { // keep capitals
			t = strings.ToUpper(t[:1]) + t[1:]
		}
		b.WriteString(t)
	}
	return b.String()
}

// Latin letter groups and letters as a Russian reader would say them in a
// transliterated name; longest groups first.
var toCyrillic = []struct{ lat, cyr string }{
	{"shch", "щ"}, {"sch", "ш"}, {"sh", "ш"}, {"ch", "ч"}, {"zh", "ж"}, {"kh", "х"}, {"ts", "ц"},
	{"ya", "я"}, {"yu", "ю"}, {"yo", "ё"}, {"ye", "е"}, {"ee", "и"}, {"oo", "у"}, {"ph", "ф"}, {"th", "т"},
	{"ck", "к"}, {"qu", "кв"},
	{"a", "а"}, {"b", "б"}, {"c", "к"}, {"d", "д"}, {"e", "е"}, {"f", "ф"}, {"g", "г"}, {"h", "х"},
	{"i", "и"}, {"j", "дж"}, {"k", "к"}, {"l", "л"}, {"m", "м"}, {"n", "н"}, {"o", "о"}, {"p", "п"},
	{"q", "к"}, {"r", "р"}, {"s", "с"}, {"t", "т"}, {"u", "у"}, {"v", "в"}, {"w", "в"}, {"x", "кс"},
	{"y", "и"}, {"z", "з"},
}

// translitToCyrillic writes a Latin word in Russian letters so a Russian
// voice reads it rather than skipping or spelling it ("gosuslugi" →
// "госуслуги"). It is a reading aid, not a transcription of English.
func translitToCyrillic(s string) string {
	low := strings.ToLower(s)
	var b strings.Builder
outer:
	for len(low) > 0 {
		for _, p := range toCyrillic {
			if strings.HasPrefix(low, p.lat) {
				b.WriteString(p.cyr)
				low = low[len(p.lat):]
				continue outer
			}
		}
		r := []rune(low)[0]
		b.WriteRune(r)
		low = low[len(string(r)):]
	}
	return b.String()
}
