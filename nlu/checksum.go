package nlu

// ValidSNILS checks the 11-digit SNILS (Russian individual insurance
// account number) check sum: the first nine digits weighted 9..1, summed,
// reduced modulo 101, with 100 written as 00. Numbers up to 001-001-998
// were issued before check sums and are accepted as they are.
func ValidSNILS(d string) bool {
	if len(d) != 11 || !allDigits(d) {
		return false
	}
	if d[:9] <= "001001998" {
		return true
	}
	sum := 0
	for i := range 9 {
		sum += int(d[i]-'0') * (9 - i)
	}
	sum %= 101
	if sum == 100 {
		sum = 0
	}
	return sum == int(d[9]-'0')*10+int(d[10]-'0')
}

// ValidINN checks the check digits of a 10-digit (organisation) or
// 12-digit (person) INN, Russian taxpayer number.
func ValidINN(d string) bool {
	if !allDigits(d) {
		return false
	}
	check := func(weights []int) int {
		s := 0
		for i, w := range weights {
			s += w * int(d[i]-'0')
		}
		return s % 11 % 10
	}
	switch len(d) {
	case 10:
		return check([]int{2, 4, 10, 3, 5, 9, 4, 6, 8}) == int(d[9]-'0')
	case 12:
		return check([]int{7, 2, 4, 10, 3, 5, 9, 4, 6, 8}) == int(d[10]-'0') &&
			check([]int{3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8}) == int(d[11]-'0')
	}
	return false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
