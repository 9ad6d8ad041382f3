// Package ttstest holds checks shared by the engine tests: plausible
// duration and level of rendered speech, cancellation within one frame,
// and concurrent renders equal to sequential ones.
package ttstest

import (
	"context"
	"io"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/tts/textprep"
)

// Sentences are hotline-like replies used across engine tests.
var Sentences = map[string][]string{
	tts.LangRU: {
		"Здравствуйте! Вы позвонили на горячую линию госуслуг.",
		"Ваше обращение 2025-000123 принято и будет рассмотрено в течение пяти рабочих дней.",
		"Операторы работают с 08:00–20:00 по будням, телефон 8-800-555-35-35.",
	},
	tts.LangEN: {
		"Hello, you have reached the public services hotline.",
		"Your application has been accepted and will be processed within five working days.",
		"Operators are available from Monday to Friday, from eight in the morning to eight in the evening.",
	},
}

// Render synthesises one request and returns the samples.
func Render(t testing.TB, s tts.Synthesizer, req tts.Request) []int16 {
	t.Helper()
	st, err := s.Synthesize(context.Background(), req)
	if err != nil {
		t.Fatalf("synthesize %q: %v", req.Text, err)
	}
	samples, rate, err := tts.ReadAll(st)
	if err != nil {
		t.Fatalf("render %q: %v", req.Text, err)
	}
	if want := max(req.Rate, audio.Rate8k); rate != want {
		t.Fatalf("rate %d, want %d", rate, want)
	}
	return samples
}

// CheckPlausible renders every sentence in both languages at 8 and
// 16 kHz and checks duration (roughly proportional to words: 0.15–0.9 s a
// word, and 1.5–15 s a sentence) and level (RMS -35..-6 dBFS, not
// clipped).
func CheckPlausible(t *testing.T, s tts.Synthesizer, langs ...string) {
	for _, lang := range langs {
		for _, rate := range []int{audio.Rate8k, audio.Rate16k} {
			for _, text := range Sentences[lang] {
				samples := Render(t, s, tts.Request{Text: text, Lang: lang, Rate: rate})
				sec := float64(len(samples)) / float64(rate)
				// Words as spoken: phone numbers and times become many.
				words := float64(len(strings.Fields(textprep.Prepare(text, lang))))
				rms, peak := audio.RMSdBFS(samples), audio.PeakdBFS(samples)
				t.Logf("%s %d Hz: %.2f s (%.2f s/word), RMS %.1f dBFS, peak %.1f dBFS: %q", lang, rate, sec, sec/words, rms, peak, text)
				if sec < 1.5 || sec > 15 || sec/words < 0.15 || sec/words > 0.9 {
					t.Errorf("%s %d Hz: implausible duration %.2f s for %d words", lang, rate, sec, int(words))
				}
				if rms < -35 || rms > -6 {
					t.Errorf("%s %d Hz: RMS %.1f dBFS outside -35..-6", lang, rate, rms)
				}
				if audio.ClippedRatio(samples) > 0.001 {
					t.Errorf("%s %d Hz: clipped", lang, rate)
				}
			}
		}
	}
}

// Open opens an engine with open, fails the test with need (what must
// be installed) and the error when it cannot, and closes the engine when
// the test ends.
func Open[E interface{ Close() error }](t testing.TB, need string, open func() (E, error)) E {
	t.Helper()
	e, err := open()
	if err != nil {
		t.Fatalf("%s: %v", need, err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// Suite is what the engine tests check of one engine.
type Suite struct {
	Plausible []string // CheckPlausible's languages
	Cancel    string   // CheckCancel's language
	Workers   int      // CheckConcurrent's workers, in English then Russian
}

// Run runs the suite's checks as subtests, each with its own engine.
func (c Suite) Run(t *testing.T, newEngine func(*testing.T) tts.Synthesizer) {
	t.Run("Plausible", func(t *testing.T) {
		CheckPlausible(t, newEngine(t), c.Plausible...)
	})
	t.Run("Cancel", func(t *testing.T) {
		CheckCancel(t, newEngine(t), c.Cancel)
	})
	t.Run("Concurrent", func(t *testing.T) {
		e := newEngine(t)
		CheckConcurrent(t, e, tts.LangEN, c.Workers)
		CheckConcurrent(t, e, tts.LangRU, c.Workers)
	})
}

// CheckCancel starts a long reply, takes a few frames, cancels (by context
// or by Close) and checks that no further frame comes and everything
// stops within one frame time.
func CheckCancel(t *testing.T, s tts.Synthesizer, lang string) {
	CheckStop(t, s, tts.Request{Text: strings.Repeat(Sentences[lang][1]+" ", 10), Lang: lang, Rate: audio.Rate8k}, 3)
}

// CheckStop renders req, reads frames frames, cancels (by context, then
// in a second run by Close) and checks that no further frame comes, that
// Close (twice: it is idempotent) returns within one frame time and that
// the stream's goroutines end.
func CheckStop(t *testing.T, s tts.Synthesizer, req tts.Request, frames int) {
	t.Helper()
	before := runtime.NumGoroutine()
	for _, byClose := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		st, err := s.Synthesize(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for range frames {
			if _, err := st.ReadFrame(); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		if byClose {
			st.Close()
		} else {
			cancel()
		}
		if f, err := st.ReadFrame(); err == nil {
			t.Fatalf("got %v after cancellation", f)
		}
		st.Close() // waits for the goroutine; idempotent
		st.Close()
		if d := time.Since(start); d > audio.FrameDuration {
			t.Errorf("close=%v: stopping took %v, more than one frame", byClose, d)
		}
		cancel()
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d after, %d before", n, before)
	}
}

// CheckConcurrent renders the same replies from several goroutines and
// compares each with a sequential render.
func CheckConcurrent(t *testing.T, s tts.Synthesizer, lang string, workers int) {
	want := map[string][]int16{}
	for _, text := range Sentences[lang] {
		want[text] = Render(t, s, tts.Request{Text: text, Lang: lang, Rate: audio.Rate16k})
	}
	// The metric must tell different audio apart, or the check is void.
	if d := Difference(want[Sentences[lang][0]], want[Sentences[lang][1]][:len(want[Sentences[lang][0]])], audio.Rate16k); d < 2*maxDiffDB {
		t.Fatalf("envelope difference of two different sentences is only %.1f dB", d)
	}
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			for k := range 2 {
				text := Sentences[lang][(i+k)%len(Sentences[lang])]
				st, err := s.Synthesize(context.Background(), tts.Request{Text: text, Lang: lang, Rate: audio.Rate16k})
				if err != nil {
					t.Error(err)
					return
				}
				got, _, err := tts.ReadAll(st)
				if err != nil {
					t.Error(err)
					return
				}
				if d := Difference(got, want[text], audio.Rate16k); d > maxDiffDB {
					t.Errorf("worker %d: concurrent render of %q differs from sequential (%d vs %d samples, envelope %.1f dB apart)", i, text, len(got), len(want[text]), d)
				}
			}
		})
	}
	wg.Wait()
}

// maxDiffDB bounds the envelope difference of two renders of one text.
const maxDiffDB = 5

// Difference compares two renders of the same text: +Inf when their
// lengths differ by more than 3%, else the mean absolute difference of
// their 20 ms level envelopes in dB at the best alignment within ±5
// frames. Renders are not sample-identical (eSpeak adds random jitter and
// its pauses depend on the sentence rendered before), but a render mixed
// with another stream's audio or missing chunks is far apart.
func Difference(a, b []int16, rate int) float64 {
	if la, lb := float64(len(a)), float64(len(b)); la > 1.03*lb || lb > 1.03*la {
		return math.Inf(1)
	}
	env := func(x []int16) []float64 {
		var e []float64
		for _, f := range audio.Split(x, rate) {
			e = append(e, max(-60, audio.RMSdBFS(f.Samples)))
		}
		return e
	}
	ea, eb := env(a), env(b)
	best := math.Inf(1)
	for shift := -5; shift <= 5; shift++ {
		var sum float64
		n := 0
		for i := range ea {
			if j := i + shift; j >= 0 && j < len(eb) {
				sum += math.Abs(ea[i] - eb[j])
				n++
			}
		}
		if n > 0 {
			best = min(best, sum/float64(n))
		}
	}
	return best
}

// Drain reads a stream to the end and counts frames.
func Drain(st tts.Stream) (int, error) {
	defer st.Close()
	n := 0
	for {
		_, err := st.ReadFrame()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}
