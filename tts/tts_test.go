package tts

import (
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/audio"
)

// fakeEngine renders 300 ms of a tone per word at 22050 Hz in 10 ms
// chunks, with an optional delay per chunk, like a real engine's callback.
type fakeEngine struct {
	delay   time.Duration
	fail    error
	renders atomic.Int64
	hang    bool
}

func (e *fakeEngine) Render(ctx context.Context, s Sentence, emit func([]int16, int) error) error {
	e.renders.Add(1)
	if e.fail != nil {
		return e.fail
	}
	if e.hang {
		<-ctx.Done()
		return ctx.Err()
	}
	const rate = 22050
	words := len(strings.Fields(s.Text))
	n := words * rate * 3 / 10
	chunk := make([]int16, rate/100)
	for i := 0; i < n; i += len(chunk) {
		for j := range chunk {
			chunk[j] = int16(8000 * math.Sin(2*math.Pi*440*float64(i+j)/rate))
		}
		if err := emit(chunk, rate); err != nil {
			return err
		}
		if e.delay > 0 {
			select {
			case <-time.After(e.delay):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

func (e *fakeEngine) Synthesize(ctx context.Context, req Request) (Stream, error) {
	req, err := req.Normalize()
	if err != nil {
		return nil, err
	}
	req.Voice = "fake"
	return NewStream(ctx, e, req, StreamOptions{})
}

func TestStreamFramesAtEachRate(t *testing.T) {
	e := &fakeEngine{}
	for _, rate := range []int{8000, 16000, 48000} {
		st, err := e.Synthesize(context.Background(), Request{Text: "One two three. Four five!", Lang: "en", Rate: rate})
		if err != nil {
			t.Fatal(err)
		}
		var frames int
		for {
			f, err := st.ReadFrame()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Rate != rate || len(f.Samples) != audio.SamplesPerFrame(rate) {
				t.Fatalf("frame %v at %d Hz", f, rate)
			}
			frames++
		}
		st.Close()
		// 5 words × 300 ms = 1.5 s = 75 frames.
		if frames < 74 || frames > 76 {
			t.Errorf("%d Hz: %d frames, want 75", rate, frames)
		}
	}
}

func TestRequestErrors(t *testing.T) {
	e := &fakeEngine{}
	cases := []struct {
		req  Request
		want error
	}{
		{Request{Text: "", Lang: "en"}, ErrEmptyText},
		{Request{Text: "   \n", Lang: "en"}, ErrEmptyText},
		{Request{Text: "🙂🙂", Lang: "en"}, ErrEmptyText},
		{Request{Text: strings.Repeat("a", MaxTextLen+1), Lang: "en"}, ErrTextTooLong},
		{Request{Text: strings.Repeat("Hello there. ", 8000), Lang: "ru"}, ErrTextTooLong}, // 100 KB
		{Request{Text: "hi", Lang: "de"}, ErrUnsupportedLanguage},
		{Request{Text: "hi"}, ErrUnsupportedLanguage},
		{Request{Text: "hi", Lang: "en", Rate: 44100}, ErrUnsupportedRate},
	}
	for _, c := range cases {
		_, err := e.Synthesize(context.Background(), c.req)
		if !errors.Is(err, c.want) {
			t.Errorf("%.20q/%s/%d: err %v, want %v", c.req.Text, c.req.Lang, c.req.Rate, err, c.want)
		}
	}
}

func TestStreamEngineErrorWrapped(t *testing.T) {
	e := &fakeEngine{fail: errors.New("boom")}
	st, err := e.Synthesize(context.Background(), Request{Text: "hi", Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = ReadAll(st)
	if !errors.Is(err, ErrEngine) {
		t.Fatalf("err %v, want ErrEngine", err)
	}
}

// TestStreamRendersAhead: rendering pauses when the listener falls behind.
func TestStreamRendersAhead(t *testing.T) {
	e := &fakeEngine{}
	st, err := e.Synthesize(context.Background(), Request{Text: strings.Repeat("A b c d e f g h i j. ", 20), Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.ReadFrame()
	time.Sleep(100 * time.Millisecond)
	if n := e.renders.Load(); n > 3 {
		t.Errorf("%d sentences rendered ahead of a listener that took one frame", n)
	}
}

func TestSplitSentences(t *testing.T) {
	got := SplitSentences("Здравствуйте! Вы позвонили на горячую линию, слушаю вас. Чем помочь?", false)
	want := []string{"Здравствуйте!", "Вы позвонили на горячую линию, слушаю вас.", "Чем помочь?"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q", got)
	}
	got = SplitSentences("Hello, the hotline is open now. Bye.", true)
	if len(got) != 3 || got[0] != "Hello, the hotline is open now."[:0]+"Hello," && got[0] != "Hello, the hotline is open now." {
		t.Logf("first clause split: %q", got)
	}
	long := strings.Repeat("слово, ", 60) + "конец."
	for _, c := range SplitSentences(long, false) {
		if len([]rune(c)) > maxChunk {
			t.Errorf("chunk of %d characters", len([]rune(c)))
		}
	}
	if got := SplitSentences(" ... !!! ", false); len(got) != 0 {
		t.Errorf("punctuation only gave %q", got)
	}
}

func TestCache(t *testing.T) {
	e := &fakeEngine{}
	c := NewCache(e, WithCacheBytes(1<<20), WithCacheName("fake"))
	req := Request{Text: "Hello there.", Lang: "en", Rate: 8000, Source: "article-1"}
	play := func(r Request) []int16 {
		st, err := c.Synthesize(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		s, _, err := ReadAll(st)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := play(req)
	b := play(req)
	if e.renders.Load() != 1 {
		t.Errorf("%d renders, want 1 (second play from cache)", e.renders.Load())
	}
	if len(a) != len(b) || len(a) == 0 {
		t.Errorf("cached %d samples, rendered %d", len(b), len(a))
	}
	play(Request{Text: "Hello there.", Lang: "en", Rate: 16000})
	if e.renders.Load() != 2 {
		t.Error("another rate must not hit")
	}
	c.InvalidateSource("article-1")
	play(req)
	if e.renders.Load() != 3 {
		t.Error("invalidated source still cached")
	}
	// A stream closed early is not stored.
	st, _ := c.Synthesize(context.Background(), Request{Text: "Partial reply.", Lang: "en"})
	st.ReadFrame()
	st.Close()
	play(Request{Text: "Partial reply.", Lang: "en"})
	if e.renders.Load() != 5 {
		t.Errorf("renders %d, want 5", e.renders.Load())
	}
	// Prerendered prompts survive Purge and eviction.
	if err := c.Prerender(context.Background(), []Request{{Text: "Welcome.", Lang: "en"}}); err != nil {
		t.Fatal(err)
	}
	c.Purge()
	for i := range 40 { // 40 × ~10 KB > 1 MiB budget/4... evicts
		play(Request{Text: strings.Repeat("x ", 20) + string(rune('a'+i%26)) + string(rune('a'+i/26)), Lang: "en"})
	}
	n := e.renders.Load()
	play(Request{Text: "Welcome.", Lang: "en"})
	if e.renders.Load() != n {
		t.Error("pinned prompt was evicted")
	}
	if s := c.Stats(); s.Bytes > 1<<20+200_000 {
		t.Errorf("cache holds %d bytes over budget", s.Bytes)
	}
}

// TestConcurrentSynthesis: streams from many goroutines give the same
// samples as a sequential render.
func TestConcurrentSynthesis(t *testing.T) {
	e := &fakeEngine{}
	c := NewCache(e)
	want, _, err := ReadAll(must(e.Synthesize(context.Background(), Request{Text: "One two. Three.", Lang: "en"})))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			var s Synthesizer = e
			if i%2 == 0 {
				s = c
			}
			got, _, err := ReadAll(must(s.Synthesize(context.Background(), Request{Text: "One two. Three.", Lang: "en"})))
			if err != nil || !equal(got, want) {
				t.Errorf("goroutine %d: err %v, %d samples differ from sequential render", i, err, len(got))
			}
		})
	}
	wg.Wait()
}

func must(st Stream, err error) Stream {
	if err != nil {
		panic(err)
	}
	return st
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFallback(t *testing.T) {
	good := &fakeEngine{}
	for name, primary := range map[string]*fakeEngine{
		"error": {fail: errors.New("endpoint down")},
		"hang":  {hang: true},
	} {
		f := NewFallback(primary, good, 100*time.Millisecond, nil)
		start := time.Now()
		st, err := f.Synthesize(context.Background(), Request{Text: "Hello.", Lang: "en", Voice: "nova"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s, _, err := ReadAll(st)
		if err != nil || len(s) == 0 {
			t.Fatalf("%s: fallback gave %d samples, err %v", name, len(s), err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v", name, d)
		}
	}
	// Request errors are not retried on the secondary.
	f := NewFallback(&fakeEngine{}, good, time.Second, nil)
	if _, err := f.Synthesize(context.Background(), Request{Text: "", Lang: "en"}); !errors.Is(err, ErrEmptyText) {
		t.Errorf("empty text: %v", err)
	}
	if _, err := (ByLang{"ru": good}).Synthesize(context.Background(), Request{Text: "hi", Lang: "en"}); !errors.Is(err, ErrUnsupportedLanguage) {
		t.Errorf("ByLang: %v", err)
	}
}
