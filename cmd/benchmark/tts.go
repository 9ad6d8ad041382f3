package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/tts/espeak"
	"github.com/hotline-ivr/hotline/tts/festival"
)

// Replies the bot might speak: one sentence, and five.
var ttsReplies = map[string][2]string{
	tts.LangRU: {
		"Ваше обращение принято и будет рассмотрено в течение пяти рабочих дней.",
		"Ваше обращение принято и будет рассмотрено в течение пяти рабочих дней. " +
			"Номер обращения 2025-000123. Статус можно узнать на gosuslugi.ru или по телефону 8-800-100-70-10. " +
			"Операторы работают по будням с 08:00–20:00. Спасибо за обращение, всего доброго!",
	},
	tts.LangEN: {
		"Your application has been accepted and will be processed within five working days.",
		"Your application has been accepted and will be processed within five working days. " +
			"Your appeal number is 2025-000123. You can check the status at gosuslugi.ru or by phone. " +
			"Operators are available on weekdays from 08:00–20:00. Thank you for calling, goodbye!",
	},
}

// benchTTS writes the "Speech synthesis" section: time to first frame and
// real-time factor for a one- and a five-sentence reply per engine and
// language, cache hit latency, and throughput under concurrency.
func benchTTS(ctx context.Context, w io.Writer) error {
	fmt.Fprintf(w, "## Speech synthesis\n\n")
	fmt.Fprintf(w, "Command: `go run ./cmd/benchmark -only \"Speech synthesis\"`. Output at 8 kHz (telephone), "+
		"medians over %d runs after one warm-up. *First frame* is the time from Synthesize to the first 20 ms frame; "+
		"*RTF* is render time divided by audio duration (lower is faster). Goal: first audio under 50 ms "+
		"for a one-sentence reply.\n\n", ttsRuns)
	fmt.Fprintln(w, "| engine | lang | reply | audio | first frame | RTF | concurrent: audio s per wall s per core |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")

	type eng struct {
		name string
		open func() (tts.Synthesizer, func(), error)
	}
	engines := []eng{
		{"espeak", func() (tts.Synthesizer, func(), error) {
			e, err := espeak.New()
			if err != nil {
				return nil, nil, err
			}
			return e, func() { e.Close() }, nil
		}},
		{"festival", func() (tts.Synthesizer, func(), error) {
			e, err := festival.New()
			if err != nil {
				return nil, nil, err
			}
			return e, func() { e.Close() }, nil
		}},
	}
	var cacheLines []string
	for _, en := range engines {
		s, closeFn, err := en.open()
		if err != nil {
			fmt.Fprintf(w, "| %s | | | | not measured: %v | | |\n", en.name, err)
			continue
		}
		for _, lang := range []string{tts.LangRU, tts.LangEN} {
			for i, text := range ttsReplies[lang] {
				first, rtf, dur, err := ttsMeasure(ctx, s, tts.Request{Text: text, Lang: lang, Rate: audio.Rate8k})
				if err != nil {
					closeFn()
					return fmt.Errorf("%s %s: %w", en.name, lang, err)
				}
				conc := ""
				if i == 1 {
					tp, err := ttsThroughput(ctx, s, tts.Request{Text: text, Lang: lang, Rate: audio.Rate8k}, 2*runtime.NumCPU())
					if err != nil {
						closeFn()
						return err
					}
					conc = fmt.Sprintf("%.1f (%d streams)", tp, 2*runtime.NumCPU())
				}
				fmt.Fprintf(w, "| %s | %s | %d sentence(s) | %.1f s | %s | %.3f | %s |\n",
					en.name, lang, []int{1, 5}[i], dur.Seconds(), ttsMS(first), rtf, conc)
			}
			hit, err := ttsCacheHit(ctx, s, tts.Request{Text: ttsReplies[lang][0], Lang: lang, Rate: audio.Rate8k})
			if err != nil {
				closeFn()
				return err
			}
			cacheLines = append(cacheLines, fmt.Sprintf("%s %s %.0f µs", en.name, lang, float64(hit.Nanoseconds())/1000))
		}
		closeFn()
	}
	fmt.Fprintf(w, "\nCache hit, time to first frame (median of 200): %s.\n", joinComma(cacheLines))
	fmt.Fprintf(w, "\nMachine: %d cores. Festival renders each sentence in a forked server child, so its "+
		"concurrent throughput uses all cores; eSpeak renders in one worker thread per process "+
		"(the library is not thread-safe), so its throughput is one core's.\n", runtime.NumCPU())
	return nil
}

const ttsRuns = 7

// ttsMeasure renders req ttsRuns times (after a warm-up) and returns the
// median time to first frame, median RTF and the audio duration.
func ttsMeasure(ctx context.Context, s tts.Synthesizer, req tts.Request) (time.Duration, float64, time.Duration, error) {
	var firsts []time.Duration
	var rtfs []float64
	var dur time.Duration
	for i := range ttsRuns + 1 {
		start := time.Now()
		st, err := s.Synthesize(ctx, req)
		if err != nil {
			return 0, 0, 0, err
		}
		var first time.Duration
		n := 0
		for {
			f, err := st.ReadFrame()
			if err == io.EOF {
				break
			}
			if err != nil {
				st.Close()
				return 0, 0, 0, err
			}
			if n == 0 {
				first = time.Since(start)
			}
			n += len(f.Samples)
		}
		total := time.Since(start)
		st.Close()
		dur = time.Duration(n) * time.Second / time.Duration(req.Rate)
		if i == 0 {
			continue // warm-up
		}
		firsts = append(firsts, first)
		rtfs = append(rtfs, total.Seconds()/dur.Seconds())
	}
	slices.Sort(firsts)
	slices.Sort(rtfs)
	return firsts[len(firsts)/2], rtfs[len(rtfs)/2], dur, nil
}

// ttsThroughput renders req from n goroutines for a few seconds and returns
// seconds of audio per wall second per core.
func ttsThroughput(ctx context.Context, s tts.Synthesizer, req tts.Request, n int) (float64, error) {
	var mu sync.Mutex
	var audioSec float64
	var firstErr error
	deadline := time.Now().Add(4 * time.Second)
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				st, err := s.Synthesize(ctx, req)
				if err == nil {
					var samples []int16
					samples, _, err = tts.ReadAll(st)
					mu.Lock()
					audioSec += float64(len(samples)) / float64(req.Rate)
					mu.Unlock()
				}
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return audioSec / time.Since(start).Seconds() / float64(runtime.NumCPU()), nil
}

func ttsCacheHit(ctx context.Context, s tts.Synthesizer, req tts.Request) (time.Duration, error) {
	c := tts.NewCache(s)
	if err := c.Prerender(ctx, []tts.Request{req}); err != nil {
		return 0, err
	}
	var ds []time.Duration
	for range 200 {
		start := time.Now()
		st, err := c.Synthesize(ctx, req)
		if err != nil {
			return 0, err
		}
		if _, err := st.ReadFrame(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
		st.Close()
	}
	slices.Sort(ds)
	return ds[len(ds)/2], nil
}

func ttsMS(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
