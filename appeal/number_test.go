package appeal

import (
	"errors"
	"testing"
)

func TestCheckDigitCatchesSingleErrorsAndTranspositions(t *testing.T) {
	// Exhaustive over a sample of numbers: every position × every other
	// digit, and every adjacent swap of two different digits.
	for i := 0; i < 2000; i++ {
		n, err := NewNumber()
		if err != nil {
			t.Fatal(err)
		}
		if err := ValidNumber(n); err != nil {
			t.Fatalf("fresh number %s invalid: %v", n, err)
		}
		b := []byte(n)
		for pos := range b {
			orig := b[pos]
			for d := byte('0'); d <= '9'; d++ {
				if d == orig {
					continue
				}
				b[pos] = d
				if ValidNumber(string(b)) == nil {
					t.Fatalf("%s with digit %d changed to %c passes", n, pos, d)
				}
			}
			b[pos] = orig
		}
		for pos := 0; pos+1 < len(b); pos++ {
			if b[pos] == b[pos+1] {
				continue
			}
			b[pos], b[pos+1] = b[pos+1], b[pos]
			if err := ValidNumber(string(b)); !errors.Is(err, ErrCheckDigit) {
				t.Fatalf("%s with digits %d,%d swapped: %v", n, pos, pos+1, err)
			}
			b[pos], b[pos+1] = b[pos+1], b[pos]
		}
	}
}

func TestDammTableIsWeakTotallyAntiSymmetric(t *testing.T) {
	// The property that makes every adjacent transposition detectable:
	// (c*x)*y == (c*y)*x implies x == y, and a zero diagonal.
	for c := 0; c < 10; c++ {
		if damm[c][c] != 0 {
			t.Fatalf("diagonal %d is %d", c, damm[c][c])
		}
		for x := 0; x < 10; x++ {
			for y := 0; y < 10; y++ {
				if x != y && damm[damm[c][x]][y] == damm[damm[c][y]][x] {
					t.Fatalf("c=%d x=%d y=%d collide", c, x, y)
				}
			}
		}
	}
	// Latin square: each row and column is a permutation (single errors).
	for i := 0; i < 10; i++ {
		var row, col [10]bool
		for j := 0; j < 10; j++ {
			row[damm[i][j]], col[damm[j][i]] = true, true
		}
		for d := 0; d < 10; d++ {
			if !row[d] || !col[d] {
				t.Fatalf("row or column %d is not a permutation", i)
			}
		}
	}
}

func TestNumberFormatAndParse(t *testing.T) {
	n := "572" + "000" + "001"
	n += string(CheckDigit(n))
	spoken := FormatNumber(n)
	if spoken != n[0:3]+" "+n[3:6]+" "+n[6:9]+" "+n[9:] {
		t.Fatalf("FormatNumber = %q", spoken)
	}
	if got, err := ParseNumber(spoken); err != nil || got != n {
		t.Fatalf("ParseNumber(%q) = %q, %v", spoken, got, err)
	}
	for _, bad := range []string{"", "12345", "12345678901", "12345678a0"} {
		if err := ValidNumber(bad); !errors.Is(err, ErrMalformedNumber) {
			t.Errorf("ValidNumber(%q) = %v, want ErrMalformedNumber", bad, err)
		}
	}
}

func TestTransitions(t *testing.T) {
	allowed := map[[2]Status]bool{
		{Accepted, InProgress}: true, {Accepted, Rejected}: true,
		{InProgress, UnderApproval}: true, {InProgress, Done}: true, {InProgress, Rejected}: true,
		{UnderApproval, InProgress}: true, {UnderApproval, Done}: true, {UnderApproval, Rejected}: true,
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			if got := CanTransition(from, to); got != allowed[[2]Status{from, to}] {
				t.Errorf("CanTransition(%s, %s) = %v", from, to, got)
			}
		}
		if from.Label("ru") == string(from) || from.Meaning("en") == "" {
			t.Errorf("%s lacks a label or meaning", from)
		}
	}
	if CanTransition("bogus", Done) || Status("bogus").Valid() {
		t.Error("unknown status accepted")
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"+7 (912) 345-67-89": "79123456789",
		"8 912 345 67 89":    "79123456789",
		"9123456789":         "79123456789",
		"+44 20 7946 0958":   "442079460958",
		"":                   "",
	} {
		if got := NormalizePhone(in); got != want {
			t.Errorf("NormalizePhone(%q) = %q, want %q", in, got, want)
		}
	}
}
