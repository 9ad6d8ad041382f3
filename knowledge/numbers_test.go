package knowledge

import "testing"

func TestNumberNormalizer(t *testing.T) {
	n := newNumberNormalizer()
	cases := []struct{ in, want string }{
		{"восемь восемьсот", "8 800"},
		{"позвоните на восемь восемьсот пятьсот пятьдесят пять", "позвоните на 8 800 555"},
		{"one hundred", "100"},
		{"eight hundred", "800"},
		{"twenty-five dollars", "25 dollars"},
		{"two thousand twenty four", "2024"},
		{"сто двадцать пять рублей", "125 рублей"},
		{"ноль два", "02"},
		{"один два три", "123"},
		{"восьмисотый номер", "800 номер"},
		{"три тысячи", "3000"},
		{"пятнадцать минут", "15 минут"},
		{"oh well", "oh well"},
		{"five oh five", "505"},
		{"Код: пять. Два", "Код: 5. 2"},
		{"Ёлка и восемь", "Ёлка и 8"},
		{"нет чисел", "нет чисел"},
		{"", ""},
		{"  сорок два!", "  42!"},
	}
	for _, c := range cases {
		if got := n.Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzNumberNormalizer(f *testing.F) {
	n := newNumberNormalizer()
	for _, s := range []string{"восемь восемьсот", "one hundred and five", "ноль-два", "—пять—"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = n.Normalize(s) // must not panic
	})
}
