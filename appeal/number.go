package appeal

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
)

// NumberLen is the length of an appeal number: nine digits and a check digit.
const NumberLen = 10

// damm is the quasigroup of order 10 with a zero diagonal used by the Damm
// algorithm (H. M. Damm, 2004). Every single-digit substitution and every
// transposition of two adjacent digits changes the interim digit.
var damm = [10][10]byte{
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
	{7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
	{3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
	{8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}

// CheckDigit returns the Damm check digit of the decimal digits in s.
func CheckDigit(digits string) byte {
	var interim byte
	for i := 0; i < len(digits); i++ {
		interim = damm[interim][digits[i]-'0']
	}
	return '0' + interim
}

// NormalizeNumber drops the spaces, dashes and dots people put in numbers.
func NormalizeNumber(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '\u00a0', '\t':
			return -1
		}
		return r
	}, s)
}

// ValidNumber reports whether s (spaces and dashes allowed) is a well-formed
// appeal number: ErrMalformedNumber or ErrCheckDigit when not.
func ValidNumber(s string) error {
	n := NormalizeNumber(s)
	if len(n) != NumberLen {
		return ErrMalformedNumber
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return ErrMalformedNumber
		}
	}
	if CheckDigit(n) != '0' { // the whole number, check digit included, reduces to 0
		return ErrCheckDigit
	}
	return nil
}

// ParseNumber normalises and validates s.
func ParseNumber(s string) (string, error) {
	if err := ValidNumber(s); err != nil {
		return "", err
	}
	return NormalizeNumber(s), nil
}

// NewNumber returns a random appeal number. Uniqueness is the repository's
// job; the caller retries on ErrDuplicateNumber.
func NewNumber() (string, error) {
	// 100000000..999999999: nine digits with a non-zero first digit, so the
	// number never loses a digit when read as an integer.
	v, err := rand.Int(rand.Reader, big.NewInt(900_000_000))
	if err != nil {
		return "", fmt.Errorf("appeal: random number: %w", err)
	}
	body := fmt.Sprintf("%09d", v.Int64()+100_000_000)
	return body + string(CheckDigit(body)), nil
}

// FormatNumber groups a number for reading and speech: "123 456 789 0".
func FormatNumber(n string) string {
	n = NormalizeNumber(n)
	if len(n) != NumberLen {
		return n
	}
	return n[0:3] + " " + n[3:6] + " " + n[6:9] + " " + n[9:]
}
