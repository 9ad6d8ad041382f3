package textnorm

import "testing"

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		// Russian numbers.
		{"восемь восемьсот пятьсот пять", "8800505"},
		{"двадцать пять", "25"},
		{"двадцати пяти", "25"},
		{"одна тысяча", "1000"},
		{"две тысячи двадцать пятый год", "2025 год"},
		{"восемьсот", "800"},
		{"восемь девять один шесть", "8916"},
		{"ноль", "0"},
		{"номер три три пять ноль восемь один", "номер 335081"},
		{"сорок два ноль ноль семнадцать шестьдесят", "42001760"},
		{"шестьсот двенадцать четыреста тридцать что с ним", "612430 что с ним"},
		{"восемь девятьсот двадцать пять три ноль ноль сорок сорок семь", "89253004047"},
		{"двадцать пятого марта", "25 марта"},
		{"первого числа", "1 числа"},
		{"до третьего", "до 3"},
		{"сто двадцать три", "123"},
		{"пятисот", "500"},
		{"одиннадцать", "11"},
		{"девятнадцатого", "19"},
		{"тридцать первое декабря", "31 декабря"},
		// English numbers.
		{"one two three", "123"},
		{"eight hundred", "800"},
		{"eight hundred and five", "805"},
		{"eight oh five", "805"},
		{"oh no", "oh no"},
		{"double five", "55"},
		{"triple seven one", "7771"},
		{"twenty five", "25"},
		{"March twenty fifth", "march 25"},
		{"the 25th of March", "the 25 of march"},
		{"a hundred", "100"},
		{"two thousand twenty five", "2025"},
		{"five five two zero one eight nine", "5520189"},
		{"nineteen eighty", "1980"},
		{"wait a second", "wait a second"},
		// Typed digits stay as typed groups.
		{"8 916 123-45-67", "8 916 123 45 67"},
		{"Номер 40512377.", "номер 40512377"},
		// Case, ё, punctuation.
		{"Всё! Ещё?", "все еще"},
		{"ПО-РУССКИ", "по русски"},
		{"can't log in, it's broken", "cant log in its broken"},
		// Fillers and repeats.
		{"ну э короче я я хочу", "я хочу"},
		{"эээ а можно с оператором", "а можно с оператором"},
		{"ммм как бы да", "да"},
		{"um so like can i talk to like an operator", "so can i talk to an operator"},
		{"I'd like to apply", "id like to apply"},
		{"что что не расслышал", "что не расслышал"},
		{"не не надо", "не надо"},
		{"", ""},
		{"   ,,, !!! ", ""},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTokensJoinedAndOrdinal(t *testing.T) {
	ts := Tokens("123-45-67 25.03 5-го")
	want := []Token{
		{Text: "123", Num: true},
		{Text: "45", Num: true, Joined: true, Sep: '-'},
		{Text: "67", Num: true, Joined: true, Sep: '-'},
		{Text: "25", Num: true},
		{Text: "03", Num: true, Joined: true, Sep: '.'},
		{Text: "5", Num: true, Ordinal: true},
	}
	if len(ts) != len(want) {
		t.Fatalf("Tokens = %+v", ts)
	}
	for i := range want {
		g := ts[i]
		g.spaced = false
		if g != want[i] {
			t.Errorf("token %d = %+v, want %+v", i, g, want[i])
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"восемь восемьсот", "double oh", "a hundred and", "25th", "ё-моё 1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = Normalize(s)
	})
}
