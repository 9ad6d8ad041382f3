package nlu

import (
	"bufio"
	"context"
	"embed"
	"strings"
	"sync"
	"testing"
	"time"
)

//go:embed data/test_ru.tsv data/test_en.tsv
var testData embed.FS

var (
	sharedOnce   sync.Once
	sharedParser *Parser
	sharedErr    error
)

// testParser is trained once per test binary on the embedded articles.
func testParser(t testing.TB) *Parser {
	t.Helper()
	sharedOnce.Do(func() {
		arts, err := EmbeddedArticles()
		if err != nil {
			sharedErr = err
			return
		}
		sharedParser, sharedErr = New(WithArticles(arts), WithClock(func() time.Time {
			return time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		}))
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedParser
}

func BenchmarkParse(b *testing.B) {
	p := testParser(b)
	texts := []string{
		"ну э соедините с оператором по пенсиям",
		"хочу узнать статус заявления номер сорок два ноль ноль семнадцать шестьдесят",
		"не могу войти в личный кабинет пишет ошибку куда звонить",
		"can you call me back on eight nine one six five five five two two three three",
		"what are the operator hours on saturday",
	}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := p.Parse(ctx, texts[i%len(texts)], Hint{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	arts, err := EmbeddedArticles()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := New(WithArticles(arts)); err != nil {
			b.Fatal(err)
		}
	}
}

// heldOut reads data/test_<lang>.tsv: utterances written apart from the
// training data, never trained on.
func heldOut(t *testing.T, lang string) []Sample {
	t.Helper()
	b, err := testData.ReadFile("data/test_" + lang + ".tsv")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSamples(lang, string(b))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIntentAccuracyHeldOut(t *testing.T) {
	p := testParser(t)
	for _, lang := range []string{"ru", "en"} {
		samples := heldOut(t, lang)
		ok := 0
		var rightConf, wrongConf float64
		var wrong int
		for _, s := range samples {
			r, err := p.Parse(context.Background(), s.Text, Hint{Lang: lang})
			if err != nil {
				t.Fatal(err)
			}
			if r.Intent == s.Intent {
				ok++
				rightConf += r.Confidence
			} else {
				wrong++
				wrongConf += r.Confidence
				t.Logf("%s: %q: want %s, got %s (%.2f)", lang, s.Text, s.Intent, r.Intent, r.Confidence)
			}
		}
		acc := float64(ok) / float64(len(samples))
		t.Logf("%s: held-out intent accuracy %.1f%% (%d/%d)", lang, 100*acc, ok, len(samples))
		if acc < 0.85 {
			t.Errorf("%s: held-out intent accuracy %.2f < 0.85", lang, acc)
		}
		// Calibration sanity: mistakes are made with less confidence.
		if wrong > 0 && ok > 0 && wrongConf/float64(wrong) >= rightConf/float64(ok) {
			t.Errorf("%s: mean confidence of errors %.2f >= of correct answers %.2f", lang, wrongConf/float64(wrong), rightConf/float64(ok))
		}
	}
}

func TestTrainingDataWellFormed(t *testing.T) {
	for _, lang := range []string{"ru", "en"} {
		s, err := builtinSamples(lang)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		per := map[string]int{}
		for _, x := range s {
			per[x.Intent]++
			if seen[x.Text] {
				t.Errorf("%s: duplicate training line %q", lang, x.Text)
			}
			seen[x.Text] = true
		}
		for _, in := range Intents {
			if per[in] < 10 {
				t.Errorf("%s: intent %s has only %d training lines", lang, in, per[in])
			}
		}
		// Held-out sentences must not leak into training.
		for _, h := range heldOut(t, lang) {
			if seen[h.Text] {
				t.Errorf("%s: held-out line %q is also a training line", lang, h.Text)
			}
		}
	}
}

func TestParseSamplesRejectsBadLines(t *testing.T) {
	for _, in := range []string{"faq\tgeneral", "nope\tgeneral\ttext", "faq\tnowhere\ttext", "faq\tgeneral\t  "} {
		if _, err := ParseSamples("x", in); err == nil {
			t.Errorf("ParseSamples(%q) = nil error", in)
		}
	}
	s, err := ParseSamples("x", "# comment\n\nyes\tgeneral\tда\n")
	if err != nil || len(s) != 1 {
		t.Errorf("ParseSamples = %v, %v", s, err)
	}
}

func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
