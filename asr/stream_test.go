package asr

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/speechdata"
)

// fakeDecoder stands in for an engine: it counts what it gets and reports
// "n samples" as its hypothesis.
type fakeDecoder struct {
	mu       sync.Mutex
	utt      int // samples in the current utterance
	total    int
	finals   int
	closed   atomic.Bool
	delay    time.Duration // per Accept, to simulate a slow engine
	endEvery int           // report an engine endpoint after this many samples
}

func (d *fakeDecoder) SampleRate() int { return 16000 }

func (d *fakeDecoder) Accept(pcm []int16) (bool, error) {
	if d.closed.Load() {
		return false, errors.New("accept after close")
	}
	if d.delay > 0 {
		time.Sleep(d.delay)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.utt += len(pcm)
	d.total += len(pcm)
	return d.endEvery > 0 && d.utt >= d.endEvery, nil
}

func (d *fakeDecoder) Partial() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return fmt.Sprintf("%d samples", d.utt)
}

func (d *fakeDecoder) Final() (Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.utt
	d.utt = 0
	d.finals++
	return Result{Text: fmt.Sprintf("%d samples", n), Confidence: 1,
		Words: []Word{{Text: "w", Start: 0, End: time.Duration(n) * time.Second / 16000}}}, nil
}

func (d *fakeDecoder) Reset() {
	d.mu.Lock()
	d.utt = 0
	d.mu.Unlock()
}

func (d *fakeDecoder) Close() error {
	d.closed.Store(true)
	return nil
}

func collect(s Stream) <-chan []Result {
	out := make(chan []Result, 1)
	go func() {
		var rs []Result
		for r := range s.Results() {
			rs = append(rs, r)
		}
		out <- rs
	}()
	return out
}

// speechWithPauses returns a real recording with silence (low noise) before
// and after, at 16 kHz.
func speechWithPauses(t testing.TB, before, after time.Duration) []int16 {
	t.Helper()
	us, _, err := speechdata.Corpus("en")
	if err != nil {
		t.Skip(err)
	}
	pcm, info, err := audio.ReadWAVFile(us[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Rate != 16000 {
		t.Fatalf("%s: %d Hz", us[0].Path, info.Rate)
	}
	out := noise(int(before.Seconds()*16000), 30)
	out = append(out, pcm...)
	return append(out, noise(int(after.Seconds()*16000), 30)...)
}

// noise is quiet white noise (a line is never digitally silent).
func noise(n int, amp int) []int16 {
	r := rand.New(rand.NewPCG(1, 2))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(r.IntN(2*amp+1) - amp)
	}
	return s
}

func writeAll(t testing.TB, s Stream, pcm []int16, rate int) {
	t.Helper()
	for _, f := range audio.Split(pcm, rate) {
		if err := s.Write(f); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
}

func TestStreamVADSegmentsUtterance(t *testing.T) {
	pcm := speechWithPauses(t, time.Second, 2*time.Second)
	dec := &fakeDecoder{}
	released := 0
	s, err := NewStream(context.Background(), dec, StreamConfig{SampleRate: 16000}, StreamOptions{
		VAD: audio.DefaultVADConfig(), Release: func() { released++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(s)
	writeAll(t, s, pcm, 16000)
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	rs := <-got
	s.Close()
	var kinds []Kind
	for _, r := range rs {
		if len(kinds) == 0 || kinds[len(kinds)-1] != r.Kind {
			kinds = append(kinds, r.Kind)
		}
	}
	want := []Kind{SpeechStart, Partial, SpeechEnd, Final}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("event kinds %v, want %v", kinds, want)
	}
	final := rs[len(rs)-1]
	start := rs[0].Start
	if start < 700*time.Millisecond || start > 1300*time.Millisecond {
		t.Errorf("speech start at %v, want about 1s", start)
	}
	if final.Start > start || final.Start < start-500*time.Millisecond {
		t.Errorf("utterance starts at %v, speech at %v: pre-roll missing or too long", final.Start, start)
	}
	if final.Words[0].Start != final.Start {
		t.Errorf("word time %v not offset to stream time %v", final.Words[0].Start, final.Start)
	}
	// The silence around the speech is not decoded.
	if dec.total >= len(pcm)*3/4 {
		t.Errorf("decoder got %d of %d samples: silence was decoded", dec.total, len(pcm))
	}
	if !dec.closed.Load() || released != 1 {
		t.Errorf("decoder closed %v, released %d times", dec.closed.Load(), released)
	}
}

func TestStreamEndpointNone(t *testing.T) {
	for _, rate := range []int{8000, 16000, 48000} {
		dec := &fakeDecoder{}
		s, err := NewStream(context.Background(), dec, StreamConfig{SampleRate: rate, Endpointing: EndpointNone}, StreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := collect(s)
		writeAll(t, s, noise(rate*2, 1000), rate) // 2 s
		s.Flush()
		writeAll(t, s, noise(rate, 1000), rate) // 1 s
		s.Finish()
		rs := <-got
		s.Close()
		var finals []Result
		for _, r := range rs {
			if r.Kind == Final {
				finals = append(finals, r)
			}
		}
		if len(finals) != 2 || finals[0].End != 2*time.Second || finals[1].Start != 2*time.Second || finals[1].End != 3*time.Second {
			t.Fatalf("%d Hz: finals %+v, want [0,2s] and [2s,3s]", rate, finals)
		}
		// Every input second reaches the decoder as 16000 samples, give or
		// take the resampler's filter delay.
		if d := dec.total - 3*16000; d > 0 || d < -200 {
			t.Errorf("%d Hz: decoder got %d samples for 3 s", rate, dec.total)
		}
	}
}

func TestStreamEngineEndpoint(t *testing.T) {
	dec := &fakeDecoder{endEvery: 16000}
	s, _ := NewStream(context.Background(), dec, StreamConfig{SampleRate: 16000, Endpointing: EndpointNone}, StreamOptions{})
	got := collect(s)
	writeAll(t, s, noise(16000*3, 1000), 16000)
	s.Finish()
	rs := <-got
	s.Close()
	n := 0
	for _, r := range rs {
		if r.Kind == Final && r.Text != "0 samples" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d non-empty finals for 3 engine endpoints", n)
	}
}

func TestStreamReset(t *testing.T) {
	dec := &fakeDecoder{}
	s, _ := NewStream(context.Background(), dec, StreamConfig{SampleRate: 16000, Endpointing: EndpointNone}, StreamOptions{})
	got := collect(s)
	writeAll(t, s, noise(16000, 1000), 16000)
	s.Reset()
	writeAll(t, s, noise(8000, 1000), 16000)
	s.Finish()
	rs := <-got
	s.Close()
	last := rs[len(rs)-1]
	if last.Kind != Final || last.Text != "8000 samples" {
		t.Fatalf("after Reset the final is %+v, want 8000 samples only", last)
	}
}

func TestStreamUseAfterClose(t *testing.T) {
	dec := &fakeDecoder{}
	s, _ := NewStream(context.Background(), dec, StreamConfig{SampleRate: 16000}, StreamOptions{})
	if err := s.Write(audio.Frame{Rate: 16000, Samples: noise(320, 10)}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Fatalf("close %d: %v", i, err)
		}
	}
	f := audio.Frame{Rate: 16000, Samples: noise(320, 10)}
	for name, err := range map[string]error{"Write": s.Write(f), "Flush": s.Flush(), "Reset": s.Reset(), "Finish": s.Finish()} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if _, ok := <-s.Results(); ok {
		t.Error("Results not closed after Close")
	}
	if !dec.closed.Load() {
		t.Error("decoder not closed")
	}

	// Write after Finish, and Close after Finish.
	s, _ = NewStream(context.Background(), &fakeDecoder{}, StreamConfig{SampleRate: 16000}, StreamOptions{})
	got := collect(s)
	s.Finish()
	<-got
	if err := s.Write(f); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Finish: %v, want ErrClosed", err)
	}
	s.Close()

	// The context given to NewStream is the stream's scope.
	ctx, cancel := context.WithCancel(context.Background())
	dec = &fakeDecoder{}
	s, _ = NewStream(ctx, dec, StreamConfig{SampleRate: 16000}, StreamOptions{})
	cancel()
	for range s.Results() {
	}
	if err := s.Write(f); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after context end: %v, want ErrClosed", err)
	}
	s.Close()
	if !dec.closed.Load() {
		t.Error("decoder not closed when the context ended")
	}
}

func TestStreamRates(t *testing.T) {
	released := 0
	dec := &fakeDecoder{}
	_, err := NewStream(context.Background(), dec, StreamConfig{SampleRate: 22050}, StreamOptions{Release: func() { released++ }})
	if !errors.Is(err, ErrUnsupportedRate) || !dec.closed.Load() || released != 1 {
		t.Fatalf("22050 Hz stream: err %v, decoder closed %v, released %d", err, dec.closed.Load(), released)
	}
	s, _ := NewStream(context.Background(), &fakeDecoder{}, StreamConfig{}, StreamOptions{})
	defer s.Close()
	if err := s.Write(audio.Frame{Rate: 44100, Samples: make([]int16, 882)}); !errors.Is(err, ErrUnsupportedRate) {
		t.Errorf("44.1 kHz frame: %v", err)
	}
	if err := s.Write(audio.Frame{Rate: 8000, Samples: make([]int16, 160)}); err != nil {
		t.Errorf("8 kHz frame: %v", err)
	}
	if err := s.Write(audio.Frame{Rate: 16000, Samples: make([]int16, 320)}); !errors.Is(err, ErrUnsupportedRate) {
		t.Errorf("rate change mid-stream: %v", err)
	}
}

// A slow decoder must hold the writer back, not let audio pile up; Close
// must free a blocked writer.
func TestStreamBackPressure(t *testing.T) {
	dec := &fakeDecoder{delay: 20 * time.Millisecond}
	s, _ := NewStream(context.Background(), dec, StreamConfig{SampleRate: 16000, Endpointing: EndpointNone}, StreamOptions{})
	go func() {
		for range s.Results() {
		}
	}()
	var written atomic.Int64
	done := make(chan error, 1)
	go func() {
		f := audio.Frame{Rate: 16000, Samples: noise(320, 1000)}
		for range 1000 {
			if err := s.Write(f); err != nil {
				done <- err
				return
			}
			written.Add(1)
		}
		done <- nil
	}()
	time.Sleep(300 * time.Millisecond)
	// About 15 frames decoded in 300 ms; the queue holds queueFrames more.
	if n := written.Load(); n > queueFrames+40 {
		t.Errorf("%d frames accepted in 300 ms by a decoder doing 50/s: no back-pressure", n)
	}
	s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("blocked Write returned %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not unblock Write")
	}
}

func TestStreamNoLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	lim := NewLimiter(4, time.Second)
	ctx := context.Background()
	pcm := noise(16000, 2000)
	for i := range 300 {
		release, err := lim.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewStream(ctx, &fakeDecoder{}, StreamConfig{SampleRate: 16000}, StreamOptions{Release: release})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range audio.Split(pcm[:i%10*320], 16000) {
			s.Write(f)
		}
		if i%2 == 0 {
			s.Finish()
		}
		s.Close() // nobody read Results: Close must not hang
	}
	if lim.InUse() != 0 {
		t.Errorf("%d limiter slots still taken", lim.InUse())
	}
	waitGoroutines(t, before)
}

func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > want {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines, %d before:\n%s", n, want, buf[:runtime.Stack(buf, true)])
	}
}

func TestLimiter(t *testing.T) {
	lim := NewLimiter(2, 50*time.Millisecond)
	ctx := context.Background()
	r1, err1 := lim.Acquire(ctx)
	_, err2 := lim.Acquire(ctx)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	start := time.Now()
	if _, err := lim.Acquire(ctx); !errors.Is(err, ErrBusy) {
		t.Fatalf("third acquire: %v, want ErrBusy", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("ErrBusy after %v, want after the 50ms wait", d)
	}
	go func() { time.Sleep(10 * time.Millisecond); r1(); r1() }()
	r3, err := lim.Acquire(ctx)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	r3()
	if lim.InUse() != 1 {
		t.Errorf("in use %d, want 1 (release is idempotent)", lim.InUse())
	}
	cctx, cancel := context.WithCancel(ctx)
	lim.Acquire(ctx)
	cancel()
	if _, err := lim.Acquire(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("acquire with cancelled context: %v", err)
	}
}

func TestStreamPause(t *testing.T) {
	pcm := speechWithPauses(t, time.Second, 2*time.Second)
	vcfg := audio.DefaultVADConfig()
	vcfg.Pause = 300 * time.Millisecond
	s, err := NewStream(context.Background(), &fakeDecoder{}, StreamConfig{SampleRate: 16000}, StreamOptions{VAD: vcfg})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rs []Result
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r := range s.Results() {
			rs = append(rs, r)
		}
	}()
	for _, f := range audio.Split(pcm, 16000) {
		if err := s.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	<-done
	var pause *Result
	for i := range rs {
		if rs[i].Kind == Pause && pause == nil {
			pause = &rs[i]
		}
	}
	if pause == nil {
		t.Fatalf("no Pause result: %v", rs)
	}
	if pause.Text == "" || pause.End <= rs[0].Start {
		t.Errorf("pause %+v: want the hypothesis and the end of speech", *pause)
	}
}
