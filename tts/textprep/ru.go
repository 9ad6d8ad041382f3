package textprep

import "strings"

var (
	ruUnits    = [...]string{"ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"}
	ruTeens    = [...]string{"десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать", "шестнадцать", "семнадцать", "восемнадцать", "девятнадцать"}
	ruTens     = [...]string{"", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят", "девяносто"}
	ruHundreds = [...]string{"", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот", "восемьсот", "девятьсот"}
	// ruScales: forms for one, few (2–4) and many, and whether the scale
	// word is feminine (одна тысяча, две тысячи).
	ruScales = [...]struct {
		one, few, many string
		fem            bool
	}{
		{"тысяча", "тысячи", "тысяч", true},
		{"миллион", "миллиона", "миллионов", false},
		{"миллиард", "миллиарда", "миллиардов", false},
	}
	ruMonthsGen = [...]string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"}
)

// ruPlural picks the form agreeing with n: 1 час, 2 часа, 5 часов,
// 11 часов, 21 час.
func ruPlural(n int64, one, few, many string) string {
	n %= 100
	if n >= 11 && n <= 14 {
		return many
	}
	switch n % 10 {
	case 1:
		return one
	case 2, 3, 4:
		return few
	}
	return many
}

// ruBelow1000 spells 1..999; fem selects одна/две for feminine nouns.
func ruBelow1000(n int64, fem bool) []string {
	var w []string
	if h := n / 100; h > 0 {
		w = append(w, ruHundreds[h])
	}
	n %= 100
	switch {
	case n >= 20:
		w = append(w, ruTens[n/10])
		if n%10 > 0 {
			w = append(w, ruUnit(n%10, fem))
		}
	case n >= 10:
		w = append(w, ruTeens[n-10])
	case n > 0:
		w = append(w, ruUnit(n, fem))
	}
	return w
}

func ruUnit(n int64, fem bool) string {
	if fem && n == 1 {
		return "одна"
	}
	if fem && n == 2 {
		return "две"
	}
	return ruUnits[n]
}

// ruCardinal spells n in the nominative, masculine unless fem.
func ruCardinal(n int64, fem bool) string {
	if n == 0 {
		return "ноль"
	}
	var w []string
	if n < 0 {
		w = append(w, "минус")
		n = -n
	}
	groups := []int64{}
	for m := n; m > 0; m /= 1000 {
		groups = append(groups, m%1000)
	}
	if len(groups) > len(ruScales)+1 {
		return ruDigits(itoa(n))
	}
	for i := len(groups) - 1; i >= 0; i-- {
		g := groups[i]
		if g == 0 {
			continue
		}
		if i == 0 {
			w = append(w, ruBelow1000(g, fem)...)
			continue
		}
		sc := ruScales[i-1]
		if !(i == 1 && g == 1) { // "тысяча", not "одна тысяча"
			w = append(w, ruBelow1000(g, sc.fem)...)
		}
		w = append(w, ruPlural(g, sc.one, sc.few, sc.many))
	}
	return strings.Join(w, " ")
}

var ruGenitive = map[string]string{
	"ноль": "ноля", "один": "одного", "одна": "одной", "два": "двух", "две": "двух", "три": "трёх", "четыре": "четырёх",
	"пять": "пяти", "шесть": "шести", "семь": "семи", "восемь": "восьми", "девять": "девяти",
	"десять": "десяти", "одиннадцать": "одиннадцати", "двенадцать": "двенадцати", "тринадцать": "тринадцати",
	"четырнадцать": "четырнадцати", "пятнадцать": "пятнадцати", "шестнадцать": "шестнадцати",
	"семнадцать": "семнадцати", "восемнадцать": "восемнадцати", "девятнадцать": "девятнадцати",
	"двадцать": "двадцати", "тридцать": "тридцати", "сорок": "сорока", "пятьдесят": "пятидесяти",
	"шестьдесят": "шестидесяти", "семьдесят": "семидесяти", "восемьдесят": "восьмидесяти", "девяносто": "девяноста",
	"сто": "ста", "двести": "двухсот", "триста": "трёхсот", "четыреста": "четырёхсот", "пятьсот": "пятисот",
	"шестьсот": "шестисот", "семьсот": "семисот", "восемьсот": "восьмисот", "девятьсот": "девятисот",
	"тысяча": "тысячи", "тысячи": "тысяч", "миллион": "миллиона", "миллиона": "миллионов",
}

// ruCardinalGen spells n in the genitive ("с восьми до двадцати").
func ruCardinalGen(n int64) string {
	w := strings.Fields(ruCardinal(n, false))
	for i, x := range w {
		if g, ok := ruGenitive[x]; ok {
			w[i] = g
		}
	}
	return strings.Join(w, " ")
}

// Ordinal stems; the ending is added by case.
var (
	ruOrdUnits = [...]string{"", "перв", "втор", "трет", "четвёрт", "пят", "шест", "седьм", "восьм", "девят"}
	ruOrdTeens = [...]string{"десят", "одиннадцат", "двенадцат", "тринадцат", "четырнадцат", "пятнадцат", "шестнадцат", "семнадцат", "восемнадцат", "девятнадцат"}
	ruOrdTens  = [...]string{"", "", "двадцат", "тридцат", "сороков", "пятидесят", "шестидесят", "семидесят", "восьмидесят", "девяност"}
	ruOrdHund  = [...]string{"", "сот", "двухсот", "трёхсот", "четырёхсот", "пятисот", "шестисот", "семисот", "восьмисот", "девятисот"}
)

// ruOrdinal spells n (1..9999) as an ordinal with the ending for neuter
// nominative ("ое": первое число) or genitive ("ого": года).
func ruOrdinal(n int64, genitive bool) string {
	end := "ое"
	if genitive {
		end = "ого"
	}
	stemEnd := func(stem string) string {
		if stem == "трет" { // третье, третьего
			if genitive {
				return "третьего"
			}
			return "третье"
		}
		return stem + end
	}
	// The words before the last non-zero part stay cardinal.
	var prefix []string
	var last string
	switch {
	case n%1000 == 0:
		th := n / 1000
		if th == 1 {
			last = stemEnd("тысячн")
		} else {
			gen := strings.ReplaceAll(ruCardinalGen(th), " ", "")
			last = stemEnd(gen + "тысячн")
		}
		return last
	case n%100 == 0:
		if n >= 1000 {
			prefix = append(prefix, ruCardinal(n/1000*1000, false))
		}
		last = stemEnd(ruOrdHund[n%1000/100])
	default:
		if n >= 100 {
			prefix = append(prefix, ruCardinal(n/100*100, false))
		}
		r := n % 100
		switch {
		case r >= 20 && r%10 == 0:
			last = stemEnd(ruOrdTens[r/10])
		case r >= 20:
			prefix = append(prefix, ruTens[r/10])
			last = stemEnd(ruOrdUnits[r%10])
		case r >= 10:
			last = stemEnd(ruOrdTeens[r-10])
		default:
			last = stemEnd(ruOrdUnits[r])
		}
	}
	return strings.Join(append(prefix, last), " ")
}

func ruDigits(s string) string {
	var w []string
	for _, c := range s {
		if c >= '0' && c <= '9' {
			w = append(w, ruUnits[c-'0'])
		}
	}
	return strings.Join(w, " ")
}

// ruGroup reads a phone-number group: as a number, with its leading zeros
// read out ("05" → "ноль пять").
func ruGroup(g string) string {
	var w []string
	for len(g) > 1 && g[0] == '0' {
		w = append(w, "ноль")
		g = g[1:]
	}
	w = append(w, ruCardinal(atoi(g), false))
	if len(w) > 1 && w[len(w)-1] == "ноль" {
		w = w[:len(w)-1]
		w = append(w, "ноль")
	}
	return strings.Join(w, " ")
}

var ruLang = &lang{
	cardinal: func(n int64) string { return ruCardinal(n, false) },
	digits:   ruDigits,
	phone: func(prefix string, groups []string) string {
		// "8-800-555-35-35" → "восемь восемьсот пятьсот пятьдесят
		// пять, тридцать пять, тридцать пять": the last two groups
		// after pauses, as people dictate them.
		var w []string
		switch prefix {
		case "+7":
			w = append(w, "плюс семь")
		case "8", "7":
			w = append(w, ruUnits[prefix[0]-'0'])
		}
		head := []string{}
		for _, g := range groups[:len(groups)-2] {
			head = append(head, ruGroup(g))
		}
		w = append(w, strings.Join(head, " "))
		for _, g := range groups[len(groups)-2:] {
			w[len(w)-1] += ","
			w = append(w, ruGroup(g))
		}
		return strings.Join(w, " ")
	},
	date: func(d, m, y int64) string {
		s := ruOrdinal(d, false) + " " + ruMonthsGen[m-1]
		if y > 0 {
			s += " " + ruOrdinal(y, true) + " года"
		}
		return s
	},
	time: func(h, m int64) string {
		if m == 0 {
			return ruCardinal(h, false) + " " + ruPlural(h, "час", "часа", "часов")
		}
		return ruCardinal(h, false) + " " + ruGroup(pad2(m))
	},
	timeRange: func(h1, m1, h2, m2 int64) string {
		a := ruCardinalGen(h1)
		if m1 != 0 {
			a += " " + ruGroupGen(m1)
		}
		b := ruCardinalGen(h2)
		if m2 != 0 {
			b += " " + ruGroupGen(m2)
		}
		s := "с " + a + " до " + b
		if m2 == 0 {
			s += " " + ruPlural(h2, "часа", "часов", "часов")
		}
		return s
	},
	numRange: func(a, b int64) string {
		if b < 1000 {
			return "от " + ruCardinalGen(a) + " до " + ruCardinalGen(b)
		}
		return ruCardinal(a, false) + " — " + ruCardinal(b, false)
	},
	decimal: func(i int64, frac string) string {
		return ruCardinal(i, false) + " запятая " + ruGroup(frac)
	},
	percent: func(n int64) string {
		return ruCardinal(n, false) + " " + ruPlural(n, "процент", "процента", "процентов")
	},
	percentFrac: "процента",
	rubles: func(n int64) string {
		return ruCardinal(n, false) + " " + ruPlural(n, "рубль", "рубля", "рублей")
	},
	listSep: ",",
	symbols: map[string]string{
		"%": "процент", "№": "номер", "+": "плюс", "&": "и", "@": "собака", "*": "звёздочка",
		"#": "решётка", "=": "равно", "₽": "рублей", "$": "долларов", "€": "евро", "°": "градусов",
		"/": "слэш", "24/7": "круглосуточно",
	},
	dot: "точка", slash: "слэш", at: "собака", dash: "дефис", underscore: "нижнее подчёркивание",
	spell:  ruSpell,
	words:  ruWords,
	script: cyrillic,
	weekRange: func(a, b int) string {
		return "с " + ruWeekGen[a] + " по " + ruWeekAcc[b]
	},
	weekday: func(a int) string { return ruWeekNom[a] },
}

func ruGroupGen(m int64) string {
	if m < 10 {
		return "ноль " + ruCardinalGen(m)
	}
	return ruCardinalGen(m)
}

var (
	ruWeekNom = [...]string{"понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"}
	ruWeekGen = [...]string{"понедельника", "вторника", "среды", "четверга", "пятницы", "субботы", "воскресенья"}
	ruWeekAcc = [...]string{"понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье"}
)

// Letter names for spelling abbreviations aloud.
var ruLetterNames = map[rune]string{
	'А': "а", 'Б': "бэ", 'В': "вэ", 'Г': "гэ", 'Д': "дэ", 'Е': "е", 'Ё': "ё", 'Ж': "жэ", 'З': "зэ", 'И': "и",
	'Й': "и краткое", 'К': "ка", 'Л': "эл", 'М': "эм", 'Н': "эн", 'О': "о", 'П': "пэ", 'Р': "эр", 'С': "эс",
	'Т': "тэ", 'У': "у", 'Ф': "эф", 'Х': "ха", 'Ц': "цэ", 'Ч': "че", 'Ш': "ша", 'Щ': "ща", 'Ъ': "твёрдый знак",
	'Ы': "ы", 'Ь': "мягкий знак", 'Э': "э", 'Ю': "ю", 'Я': "я",
	// Latin letters as Russians name them ("SMS" → "эс эм эс").
	'A': "эй", 'B': "би", 'C': "си", 'D': "ди", 'E': "и", 'F': "эф", 'G': "джи", 'H': "эйч", 'I': "ай", 'J': "джей",
	'K': "кей", 'L': "эл", 'M': "эм", 'N': "эн", 'O': "оу", 'P': "пи", 'Q': "кью", 'R': "ар", 'S': "эс", 'T': "ти",
	'U': "ю", 'V': "ви", 'W': "дабл ю", 'X': "икс", 'Y': "уай", 'Z': "зед",
}

func ruSpell(word string) string {
	var w []string
	for _, r := range strings.ToUpper(word) {
		if n, ok := ruLetterNames[r]; ok {
			w = append(w, n)
		} else if r >= '0' && r <= '9' {
			w = append(w, ruUnits[r-'0'])
		}
	}
	return strings.Join(w, " ")
}

// ruWords holds abbreviations and foreign words with their reading. Keys are
// matched case-sensitively first, then in lower case. Abbreviations read as
// a word (СНИЛС, ЗАГС) are here; other all-capital words are spelled.
var ruWords = map[string]string{
	"МФЦ": "эм эф цэ", "ИНН": "и эн эн", "СНИЛС": "снилс", "SMS": "эс эм эс", "СМС": "эс эм эс", "смс": "эс эм эс",
	"ЗАГС": "загс", "ВУЗ": "вуз", "ГИБДД": "гэ и бэ дэ дэ", "ЖКХ": "жэ ка ха", "ЕГЭ": "е гэ э", "РФ": "эр эф",
	"ФНС": "эф эн эс", "ПФР": "пэ эф эр", "СФР": "эс эф эр", "ОМС": "о эм эс", "ФИО": "фио", "ПИН": "пин",
	"ЕСИА": "е эс и а", "МВД": "эм вэ дэ", "НДФЛ": "эн дэ эф эл", "ОКВЭД": "оквэд", "ИП": "и пэ", "ООО": "о о о",
	"PIN": "пин", "QR": "кью ар", "ID": "ай ди", "IT": "ай ти", "PDF": "пи ди эф", "FAQ": "фак",
	"email": "имейл", "e-mail": "имейл", "online": "онлайн", "Госуслуги": "Госуслуги", "gosuslugi": "госуслуги",
	"www": "вэ вэ вэ", "http": "", "https": "", "app": "апп", "Wi-Fi": "вай фай", "wi-fi": "вай фай",
	"Telegram": "телеграм", "WhatsApp": "вотсап", "Android": "андроид", "iPhone": "айфон", "iOS": "ай о эс",
	"Google": "гугл", "App Store": "эп стор", "Max": "макс",
	"т.е.": "то есть", "т.д.": "так далее", "т.п.": "тому подобное", "др.": "другие", "руб.": "рублей",
	"коп.": "копеек", "мин.": "минут", "тел.": "телефон", "ул.": "улица",
	"Пн": "понедельник", "Вт": "вторник", "Ср": "среда", "Чт": "четверг", "Пт": "пятница", "Сб": "суббота", "Вс": "воскресенье",
}
