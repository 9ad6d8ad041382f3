package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/asr/sphinx"
	"github.com/hotline-ivr/hotline/asr/vosk"
	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/speechdata"
)

type engine interface {
	asr.Recognizer
	Close() error
}

// candidate is an engine/language pair to measure.
type candidate struct {
	engine, lang string
	open         func(maxStreams int) (engine, error)
	skip         string // why it is not measured
}

func candidates(b *bench) []candidate {
	cs := []candidate{{engine: "sphinx", lang: "en", open: func(n int) (engine, error) {
		return sphinx.New(sphinx.WithMaxStreams(n), sphinx.WithStreamWait(time.Minute))
	}}}
	for _, lang := range []string{"en", "ru"} {
		dir := filepath.Join(b.data, "models", vosk.OfficialModels[lang])
		c := candidate{engine: "vosk", lang: lang}
		switch {
		case !vosk.Available:
			c.skip = "built without libvosk (novosk tag)"
		case vosk.CheckModel(dir) != nil:
			c.skip = fmt.Sprintf("no model in `%s` (`hotline models pull %s`; the model site is not reachable from this machine)", dir, lang)
		default:
			c.open = func(n int) (engine, error) {
				e, err := vosk.New(vosk.WithModel(lang, dir), vosk.WithMaxStreams(n), vosk.WithStreamWait(time.Minute))
				if err != nil {
					return nil, err
				}
				if err := e.Load(lang); err != nil {
					e.Close()
					return nil, err
				}
				return e, nil
			}
		}
		cs = append(cs, c)
	}
	return cs
}

type utterance struct {
	text string
	pcm  []int16 // 16 kHz
}

func loadCorpus(lang string) ([]utterance, string, time.Duration, error) {
	us, src, err := speechdata.Corpus(lang)
	if err != nil {
		return nil, "", 0, err
	}
	var out []utterance
	var total time.Duration
	for _, u := range us {
		pcm, info, err := audio.ReadWAVFile(u.Path)
		if err != nil {
			return nil, "", 0, err
		}
		if info.Rate != 16000 {
			if pcm, err = audio.Resample(pcm, info.Rate, 16000); err != nil {
				continue
			}
		}
		out = append(out, utterance{u.Text, pcm})
		total += samplesDur(len(pcm))
	}
	return out, src, total, nil
}

func samplesDur(n int) time.Duration { return time.Duration(n) * time.Second / 16000 }

func speechRecognition(ctx context.Context, b *bench, w io.Writer) error {
	fmt.Fprintf(w, "All runs stream 20 ms frames of 16 kHz audio through `asr.Stream` with VAD endpointing, as a call does. "+
		"RTF (real-time factor) is processing time over audio time. \"Continuous-speech streams\" assumes every caller talks "+
		"without pause; silence is not decoded, so real calls (the caller listens to the bot much of the time) cost less.\n")
	for _, c := range candidates(b) {
		fmt.Fprintf(w, "\n### %s (%s)\n\n", c.engine, c.lang)
		if c.skip != "" {
			fmt.Fprintf(w, "Not measured: %s.\n", c.skip)
			continue
		}
		if err := measure(ctx, b, w, c); err != nil {
			fmt.Fprintf(w, "**Failed: %v**\n", err)
			b.log.Error("measure", "engine", c.engine, "lang", c.lang, "err", err)
		}
	}
	return nil
}

func measure(ctx context.Context, b *bench, w io.Writer, c candidate) error {
	corpus, src, corpusDur, err := loadCorpus(c.lang)
	if err != nil {
		return err
	}
	b.log.Info("corpus", "lang", c.lang, "utterances", len(corpus), "audio", corpusDur)
	cfg := asr.StreamConfig{Lang: c.lang, SampleRate: 16000}

	// Memory: the loaded model, then each further stream.
	const perStreamProbe = 4
	rss0 := rssKB()
	t0 := time.Now()
	e, err := c.open(16)
	if err != nil {
		return err
	}
	defer e.Close()
	loadTime := time.Since(t0)
	rss1 := rssKB()
	var streams []asr.Stream
	for range perStreamProbe {
		s, err := e.NewStream(ctx, cfg)
		if err != nil {
			return err
		}
		go func() {
			for range s.Results() {
			}
		}()
		for _, f := range audio.Split(corpus[0].pcm, 16000) {
			s.Write(f)
		}
		streams = append(streams, s)
	}
	for _, s := range streams {
		s.Flush()
	}
	time.Sleep(200 * time.Millisecond)
	rss2 := rssKB()
	for _, s := range streams {
		s.Close()
	}
	modelMB := float64(rss1-rss0) / 1024
	streamMB := float64(rss2-rss1) / 1024 / perStreamProbe

	// WER and single-stream speed.
	var wer asr.ErrorCounts
	cpu0, wall0 := cpuTime(), time.Now()
	for _, u := range corpus {
		rs, err := asr.Transcribe(ctx, e, cfg, u.pcm)
		if err != nil {
			return err
		}
		wer = wer.Add(asr.WER(u.text, asr.FinalText(rs)))
	}
	wall, cpu := time.Since(wall0), cpuTime()-cpu0
	rtfWall := wall.Seconds() / corpusDur.Seconds()
	rtfCPU := cpu.Seconds() / corpusDur.Seconds()

	// Throughput with N parallel streams, as fast as they go.
	type tp struct {
		n      int
		speed  float64 // seconds of audio per wall second, all streams
		cpuRTF float64
	}
	var tps []tp
	for _, n := range []int{1, 2, 4} {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if b.quick && n > 2 {
			break
		}
		cpu0, wall0 := cpuTime(), time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range corpus {
					u := corpus[(k+i*3)%len(corpus)]
					if _, err := asr.Transcribe(ctx, e, cfg, u.pcm); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return err
		}
		audioSec := float64(n) * corpusDur.Seconds()
		tps = append(tps, tp{n, audioSec / time.Since(wall0).Seconds(), (cpuTime() - cpu0).Seconds() / audioSec})
		b.log.Info("throughput", "engine", c.engine, "streams", n, "speed", tps[len(tps)-1].speed)
	}
	capacity := 0.0
	for _, t := range tps {
		capacity = max(capacity, t.speed)
	}

	// Latency, one stream fed in real time.
	single, err := realtime(ctx, e, cfg, corpus, 1, b.quick)
	if err != nil {
		return err
	}
	// Verify the capacity: that many continuous-speech streams in real
	// time must keep up (writers never held back by more than half a
	// second, finals within 1.5 s at p95); otherwise try one fewer.
	nRT := max(1, int(capacity))
	var loaded rtResult
	var failed []string
	for {
		loaded, err = realtime(ctx, e, cfg, corpus, nRT, b.quick)
		if err != nil {
			return err
		}
		ok := loaded.maxLag < 500*time.Millisecond && pctDur(loaded.final, 95) < 1500*time.Millisecond
		b.log.Info("real-time check", "engine", c.engine, "streams", nRT, "ok", ok, "lag", loaded.maxLag, "final_p95", pctDur(loaded.final, 95))
		if ok || nRT == 1 {
			break
		}
		failed = append(failed, fmt.Sprintf("%d streams fell behind (writer lag %s, final p95 %s)",
			nRT, loaded.maxLag.Round(time.Millisecond), pct(loaded.final, 95)))
		if loaded.maxLag > 5*time.Second {
			nRT = max(1, min(nRT-1, nRT*2/3)) // far off: take a bigger step
		} else {
			nRT--
		}
	}

	fmt.Fprintf(w, "Corpus: %d recordings, %.1f s of audio, from `%s`.\n\n", len(corpus), corpusDur.Seconds(), src)
	fmt.Fprintf(w, "| measure | value |\n|---|---:|\n")
	fmt.Fprintf(w, "| WER (streaming, normalised) | **%.3f** (%d edits / %d words: %d sub, %d ins, %d del) |\n",
		wer.Rate(), wer.Errors(), wer.RefWords, wer.Substitutions, wer.Insertions, wer.Deletions)
	fmt.Fprintf(w, "| RTF per stream, wall (single stream) | %.3f |\n", rtfWall)
	fmt.Fprintf(w, "| RTF per stream, CPU time | %.3f (%.1f continuous-speech streams per core) |\n", rtfCPU, 1/rtfCPU)
	for _, t := range tps {
		fmt.Fprintf(w, "| %d parallel streams, as fast as possible | %.2f× real time in total (CPU RTF %.3f per stream) |\n", t.n, t.speed, t.cpuRTF)
	}
	fmt.Fprintf(w, "| concurrent real-time continuous-speech streams before RTF passes 1 | **%d** on %d cores (measured throughput %.2f× real time) |\n", nRT, runtime.NumCPU(), capacity)
	for _, f := range failed {
		fmt.Fprintf(w, "| real-time check that failed | %s |\n", f)
	}
	fmt.Fprintf(w, "| model load time | %s |\n", loadTime.Round(time.Millisecond))
	fmt.Fprintf(w, "| memory per loaded model (RSS) | %.0f MB |\n", modelMB)
	fmt.Fprintf(w, "| memory per extra stream (RSS, mean of %d) | %.1f MB |\n", perStreamProbe, streamMB)
	fmt.Fprintf(w, "| first-partial latency, 1 stream (p50 / max) | %s / %s |\n", pct(single.firstPartial, 50), pct(single.firstPartial, 100))
	fmt.Fprintf(w, "| final-result latency after speech end + hangover, 1 stream (p50 / max) | %s / %s |\n", pct(single.final, 50), pct(single.final, 100))
	fmt.Fprintf(w, "| %d real-time streams: final latency (p50 / p95 / max) | %s / %s / %s |\n", nRT, pct(loaded.final, 50), pct(loaded.final, 95), pct(loaded.final, 100))
	fmt.Fprintf(w, "| %d real-time streams: writers' worst lag behind real time | %s |\n", nRT, loaded.maxLag.Round(time.Millisecond))
	fmt.Fprintf(w, "\nFirst-partial latency runs from the wall time the first frame of speech was written to the first non-empty partial; "+
		"it includes the VAD's %s minimum speech and the %s partial interval. Final latency runs from the write of the frame on which the VAD "+
		"declared the end of speech (after the %s hangover of silence) to the final result.\n",
		audio.DefaultVADConfig().MinSpeech, 100*time.Millisecond, audio.DefaultVADConfig().Hangover)
	if c.engine == "sphinx" {
		fmt.Fprintf(w, "\nPocketSphinx loads the whole model per decoder, so \"memory per extra stream\" is a full model copy; decoders are pooled and reused up to `asr.max_streams`.\n")
	}
	return nil
}

type rtResult struct {
	firstPartial, final []time.Duration
	maxLag              time.Duration
}

// realtime feeds n streams in real time with the corpus (each utterance
// between 1 s of silence before and 1.5 s after) and measures latencies.
func realtime(ctx context.Context, e engine, cfg asr.StreamConfig, corpus []utterance, n int, quick bool) (rtResult, error) {
	budget := 30 * time.Second
	if quick {
		budget = 12 * time.Second
	}
	// Open every stream first: an engine may load a decoder per new
	// stream (PocketSphinx), which must not count against real time.
	streams := make([]asr.Stream, n)
	for i := range streams {
		s, err := e.NewStream(ctx, cfg)
		if err != nil {
			for _, s := range streams[:i] {
				s.Close()
			}
			return rtResult{}, err
		}
		streams[i] = s
	}
	start := time.Now().Add(100 * time.Millisecond)
	var mu sync.Mutex
	var res rtResult
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := realtimeStream(streams[i], corpus, i, budget, start)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			res.firstPartial = append(res.firstPartial, r.firstPartial...)
			res.final = append(res.final, r.final...)
			res.maxLag = max(res.maxLag, r.maxLag)
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	return res, <-errs
}

func realtimeStream(s asr.Stream, corpus []utterance, offset int, budget time.Duration, start time.Time) (rtResult, error) {
	rng := rand.New(rand.NewPCG(uint64(offset), 7))
	quiet := func(d time.Duration) []int16 {
		s := make([]int16, int(d.Seconds()*16000))
		for i := range s {
			s[i] = int16(rng.IntN(41) - 20)
		}
		return s
	}
	var pcm []int16
	var onsets []int // sample index where each utterance's speech starts
	for k := 0; samplesDur(len(pcm)) < budget; k++ {
		u := corpus[(k+offset*5)%len(corpus)]
		pcm = append(pcm, quiet(time.Second)...)
		onsets = append(onsets, len(pcm))
		pcm = append(pcm, u.pcm...)
		pcm = append(pcm, quiet(1500*time.Millisecond)...)
	}
	frames := audio.Split(pcm, 16000)
	written := make([]time.Time, len(frames))

	defer s.Close()
	var res rtResult
	done := make(chan struct{})
	go func() {
		defer close(done)
		seen := map[int]bool{}
		for r := range s.Results() {
			now := time.Now()
			switch {
			case r.Kind == asr.Partial && r.Text != "":
				pos := int(r.End.Seconds() * 16000)
				u := -1
				for i, o := range onsets {
					if o <= pos {
						u = i
					}
				}
				if u >= 0 && !seen[u] {
					seen[u] = true
					res.firstPartial = append(res.firstPartial, now.Sub(written[onsets[u]/320]))
				}
			case r.Kind == asr.Final:
				idx := int(r.End/audio.FrameDuration) - 1
				if idx >= 0 && idx < len(written) && !written[idx].IsZero() {
					res.final = append(res.final, now.Sub(written[idx]))
				}
			}
		}
	}()
	for i, f := range frames {
		due := start.Add(time.Duration(i) * audio.FrameDuration)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		res.maxLag = max(res.maxLag, time.Since(due))
		written[i] = time.Now()
		if err := s.Write(f); err != nil {
			return rtResult{}, err
		}
	}
	if err := s.Finish(); err != nil && !errors.Is(err, asr.ErrClosed) {
		return rtResult{}, err
	}
	<-done
	return res, s.Err()
}

func pctDur(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[max(1, min(len(s), (len(s)*p+99)/100))-1]
}

// pct is the p-th percentile (nearest rank), "n/a" without samples.
func pct(ds []time.Duration, p int) string {
	if len(ds) == 0 {
		return "n/a"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	i = max(1, min(len(s), i))
	return s[i-1].Round(time.Millisecond).String()
}
