package textprep

import (
	"strings"
	"testing"
)

func TestPrepare(t *testing.T) {
	cases := []struct{ lang, in, want string }{
		// Phone numbers in groups, the way people dictate them.
		{"ru", "8-800-555-35-35", "восемь восемьсот пятьсот пятьдесят пять, тридцать пять, тридцать пять"},
		{"ru", "+7 (495) 123-45-67", "плюс семь четыреста девяносто пять сто двадцать три, сорок пять, шестьдесят семь"},
		{"ru", "8 800 100-70-10", "восемь восемьсот сто, семьдесят, десять"},
		{"ru", "88005553535", "восемь восемьсот пятьсот пятьдесят пять, тридцать пять, тридцать пять"},
		{"ru", "8-800-200-05-00", "восемь восемьсот двести, ноль пять, ноль ноль"},
		{"en", "8-800-555-35-35", "eight, eight hundred, five five five, three five, three five"},
		{"en", "+7 (495) 123-45-67", "plus seven, four nine five, one two three, four five, six seven"},
		// Times and ranges.
		{"ru", "в 8:00", "в восемь часов"},
		{"ru", "в 21:00", "в двадцать один час"},
		{"ru", "в 14:30", "в четырнадцать тридцать"},
		{"ru", "с 08:00–20:00", "с восьми до двадцати часов"},
		{"ru", "09:00-18:30", "с девяти до восемнадцати тридцати"},
		{"ru", "Пн–Пт", "с понедельника по пятницу"},
		{"en", "at 8:00", "at eight o'clock in the morning"},
		{"en", "08:00–20:00", "from eight o'clock in the morning to eight o'clock in the evening"},
		{"en", "Mon–Fri", "Monday to Friday"},
		// Dates.
		{"ru", "01.02.2025", "первое февраля две тысячи двадцать пятого года"},
		{"ru", "23.12.2000 г.", "двадцать третье декабря двухтысячного года"},
		{"ru", "31.05.1999", "тридцать первое мая тысяча девятьсот девяносто девятого года"},
		{"en", "01.02.2025", "February first, twenty twenty five"},
		{"en", "22.03.2008", "March twenty second, two thousand eight"},
		// Appeal numbers digit by digit.
		{"ru", "обращение 2025-000123", "обращение два ноль два пять, ноль ноль ноль один два три"},
		{"ru", "№ 123456", "номер один два три, четыре пять шесть"},
		{"en", "appeal 123456", "appeal one two three, four five six"},
		// Numbers, percents, sums.
		{"ru", "21 день", "двадцать один день"},
		{"ru", "1 500 руб.", "тысяча пятьсот рублей"},
		{"ru", "2 рубля", "два рубля"},
		{"ru", "15%", "пятнадцать процентов"},
		{"ru", "3%", "три процента"},
		{"ru", "1 000 000", "один миллион"},
		{"ru", "2 000", "две тысячи"},
		{"ru", "с 9 до 18", "от девяти до восемнадцати"},
		{"en", "15%", "fifteen percent"},
		{"en", "1 250", "one thousand two hundred fifty"},
		{"en", "2.5", "two point five"},
		// Abbreviations.
		{"ru", "МФЦ, ИНН, СНИЛС, SMS", "эм эф цэ, и эн эн, снилс, эс эм эс"},
		{"ru", "ПИН-код", "пин код"},
		{"ru", "т.е. так", "то есть так"},
		{"en", "МФЦ and SMS", "M F C and S M S"},
		// URLs and addresses.
		{"ru", "на gosuslugi.ru", "на госуслуги точка ру"},
		{"ru", "https://www.gosuslugi.ru/help", "вэ вэ вэ точка госуслуги точка ру слэш хелп"},
		{"en", "gosuslugi.ru", "gosuslugi dot ru"},
		{"en", "write to help@mfc.ru.", "write to help at M F C dot ru."},
		// Symbols.
		{"ru", "24/7", "круглосуточно"},
		{"en", "24/7", "twenty four seven"},
		{"ru", "нажмите * или #", "нажмите звёздочка или решётка"},
		{"en", "A & B", "A and B"},
		// Other scripts and pictographs are dropped; the other
		// language's script is transliterated.
		{"ru", "Привет 🙂 中文", "Привет"},
		{"en", "Госуслуги portal", "Gosuslugi portal"},
		{"ru", "портал Gosuslugi", "портал госуслуги"},
		{"ru", "🙂🙂", ""},
	}
	for _, c := range cases {
		if got := Prepare(c.in, c.lang); got != c.want {
			t.Errorf("Prepare(%q, %s)\n got %q\nwant %q", c.in, c.lang, got, c.want)
		}
	}
}

func TestRussianNumbers(t *testing.T) {
	cases := map[int64]string{
		0: "ноль", 1: "один", 11: "одиннадцать", 40: "сорок", 101: "сто один", 1001: "тысяча один",
		2002: "две тысячи два", 5000: "пять тысяч", 21000: "двадцать одна тысяча", 1000000: "один миллион",
		3200450: "три миллиона двести тысяч четыреста пятьдесят",
	}
	for n, want := range cases {
		if got := ruCardinal(n, false); got != want {
			t.Errorf("ruCardinal(%d) = %q, want %q", n, got, want)
		}
	}
	ords := map[int64]string{1: "первое", 3: "третье", 20: "двадцатое", 22: "двадцать второе", 40: "сороковое"}
	for n, want := range ords {
		if got := ruOrdinal(n, false); got != want {
			t.Errorf("ruOrdinal(%d) = %q, want %q", n, got, want)
		}
	}
	if got := ruOrdinal(2023, true); got != "две тысячи двадцать третьего" {
		t.Errorf("ruOrdinal(2023, gen) = %q", got)
	}
}

func TestEnglishNumbers(t *testing.T) {
	cases := map[int64]string{0: "zero", 13: "thirteen", 40: "forty", 105: "one hundred five", 1000000: "one million"}
	for n, want := range cases {
		if got := enCardinal(n); got != want {
			t.Errorf("enCardinal(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{1: "first", 2: "second", 12: "twelfth", 20: "twentieth", 31: "thirty first"} {
		if got := enOrdinal(n); got != want {
			t.Errorf("enOrdinal(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestPrepareLeavesNoDigitsOrStrayDots: engines must never see digits, and
// no dot may remain inside a sentence (the splitter would cut there).
func TestPrepareLeavesNoDigitsOrStrayDots(t *testing.T) {
	in := "Звоните 8-800-555-35-35 с 08:00–20:00, срок 01.02.2025, т.е. 10 дней; заявка 2025-000123; 3,5% на gosuslugi.ru/x."
	for _, l := range []string{"ru", "en"} {
		out := Prepare(in, l)
		if strings.ContainsAny(out, "0123456789") {
			t.Errorf("%s: digits left: %q", l, out)
		}
		if i := strings.Index(out, "."); i >= 0 && i != len(out)-1 {
			t.Errorf("%s: dot inside: %q", l, out)
		}
	}
}

func TestPrepareHugeInput(t *testing.T) {
	in := strings.Repeat("Позвоните 8-800-555-35-35 в 9:00. ", 3000) // ~100 KB
	out := Prepare(in, "ru")
	if !strings.HasPrefix(out, "Позвоните восемь восемьсот") {
		t.Fatalf("unexpected start %q", out[:80])
	}
}
