package asr

import (
	"math"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"  Hello,   World! ", "hello world"},
		{"Don't stop—now.", "dont stopnow"},
		{"Ёлка, ЁЖ и щётка", "елка еж и щетка"},
		{"ten\tof\nclubs", "ten of clubs"},
		{"«Привет», сказал он - и ушёл…", "привет сказал он и ушел"},
		{"room 101", "room 101"},
	} {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWER(t *testing.T) {
	for _, tc := range []struct {
		ref, hyp      string
		sub, ins, del int
		rate          float64
	}{
		{"ten of clubs", "ten of clubs", 0, 0, 0, 0},
		{"ten of clubs", "Ten of clubs.", 0, 0, 0, 0},
		{"ten of clubs", "i've been up close", 3, 1, 0, 4.0 / 3},
		{"seven of clubs", "seven clubs", 0, 0, 1, 1.0 / 3},
		{"seven of clubs", "seven of the clubs", 0, 1, 0, 1.0 / 3},
		{"a b c d", "x b c y", 2, 0, 0, 0.5},
		{"a b c", "", 0, 0, 3, 1},
		{"", "", 0, 0, 0, 0},
		{"", "noise", 0, 1, 0, 1},
		{"ёж в тумане", "ЕЖ В ТУМАНЕ", 0, 0, 0, 0},
	} {
		c := WER(tc.ref, tc.hyp)
		if c.Substitutions != tc.sub || c.Insertions != tc.ins || c.Deletions != tc.del || math.Abs(c.Rate()-tc.rate) > 1e-9 {
			t.Errorf("WER(%q, %q) = %+v rate %.3f, want S%d I%d D%d rate %.3f", tc.ref, tc.hyp, c, c.Rate(), tc.sub, tc.ins, tc.del, tc.rate)
		}
	}
}

func TestCorpusWERIsTotalOverTotal(t *testing.T) {
	a := WER("a b c d e f g h i j", "a b c d e f g h i j") // 0/10
	b := WER("x", "y")                                     // 1/1
	sum := a.Add(b)
	if sum.RefWords != 11 || sum.Errors() != 1 || math.Abs(sum.Rate()-1.0/11) > 1e-9 {
		t.Fatalf("sum %+v rate %.3f, want 1/11", sum, sum.Rate())
	}
}

func FuzzWER(f *testing.F) {
	f.Add("ten of clubs", "i've been up close")
	f.Add("ёж", "")
	f.Fuzz(func(t *testing.T, ref, hyp string) {
		c := WER(ref, hyp)
		r, h := len(Words(ref)), len(Words(hyp))
		if c.RefWords != r || c.Substitutions+c.Deletions > r || c.Substitutions+c.Insertions > h {
			t.Fatalf("inconsistent counts %+v for %d ref and %d hyp words", c, r, h)
		}
		if c.Errors() < abs(r-h) || c.Errors() > max(r, h) {
			t.Fatalf("distance %d out of bounds for lengths %d, %d", c.Errors(), r, h)
		}
	})
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
