package voice_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/appeal/sqlitestore"
	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/asr/sphinx"
	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/bot/adapters"
	"github.com/hotline-ivr/hotline/handoff"
	"github.com/hotline-ivr/hotline/nlu"
	"github.com/hotline-ivr/hotline/store"
	"github.com/hotline-ivr/hotline/telephony/media"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/tts/espeak"
	"github.com/hotline-ivr/hotline/tts/festival"
	"github.com/hotline-ivr/hotline/voice"
)

// memConn is the media side of a call in memory: caller audio is played
// from a queue at real time (silence when empty), what the pipeline
// writes is recorded with the time it was written and paced like the SIP
// sender (blocking while 200 ms are queued). It is the test double of the
// channel only; the pipeline, engines and bot are real.
type memConn struct {
	rate int
	dtmf chan media.Digit
	done chan struct{}
	once sync.Once
	next time.Time // when the next caller frame is due

	mu      sync.Mutex
	in      []audio.Frame
	writes  []write
	clears  []time.Time
	playEnd time.Time // when the audio queued so far ends
	// echoGain > 0 sends the bot's audio back into the caller's, as a
	// line with that much echo return (0.1 is -20 dB) would.
	echoGain float64
	echo     []audio.Frame
}

type write struct {
	at  time.Time
	rms float64
	n   int
}

func newConn(rate int) *memConn {
	return &memConn{rate: rate, dtmf: make(chan media.Digit, 16), done: make(chan struct{})}
}

func (c *memConn) ReadFrame() (audio.Frame, error) {
	if c.next.IsZero() {
		c.next = time.Now()
	}
	c.next = c.next.Add(audio.FrameDuration)
	select {
	case <-c.done:
		return audio.Frame{}, errors.New("memconn: call ended")
	case <-time.After(time.Until(c.next)):
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f := audio.Frame{Rate: c.rate, Samples: make([]int16, audio.SamplesPerFrame(c.rate))}
	if len(c.in) > 0 {
		f = c.in[0]
		c.in = c.in[1:]
	}
	if len(c.echo) > 0 {
		e := c.echo[0]
		c.echo = c.echo[1:]
		mixed := make([]int16, len(f.Samples))
		for i := range mixed {
			v := float64(f.Samples[i])
			if i < len(e.Samples) {
				v += c.echoGain * float64(e.Samples[i])
			}
			mixed[i] = int16(max(min(v, 32767), -32768))
		}
		f.Samples = mixed
	}
	return f, nil
}

func (c *memConn) WriteFrame(f audio.Frame) error {
	select {
	case <-c.done:
		return errors.New("memconn: call ended")
	default:
	}
	c.mu.Lock()
	now := time.Now()
	if c.playEnd.Before(now) {
		c.playEnd = now
	}
	c.playEnd = c.playEnd.Add(f.Duration())
	wait := time.Until(c.playEnd) - 200*time.Millisecond
	c.writes = append(c.writes, write{at: now, rms: audio.RMSdBFS(f.Samples), n: len(f.Samples)})
	if c.echoGain > 0 {
		c.echo = append(c.echo, f.Clone())
	}
	c.mu.Unlock()
	if wait > 0 {
		select {
		case <-time.After(wait):
		case <-c.done:
		}
	}
	return nil
}

func (c *memConn) ClearPlayback() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clears = append(c.clears, time.Now())
	c.echo = nil // dropped audio is never played, so never echoed
	n := int(time.Until(c.playEnd) / audio.FrameDuration)
	c.playEnd = time.Now()
	return max(n, 0)
}

func (c *memConn) DTMF() <-chan media.Digit { return c.dtmf }
func (c *memConn) Done() <-chan struct{}    { return c.done }
func (c *memConn) hangup()                  { c.once.Do(func() { close(c.done) }) }

// say queues caller audio (after what is still queued).
func (c *memConn) say(samples []int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.in = append(c.in, audio.Split(samples, c.rate)...)
}

func (c *memConn) key(keys string) {
	for _, k := range []byte(keys) {
		c.dtmf <- media.Digit{Key: k}
	}
}

func (c *memConn) snapshot() ([]write, []time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]write(nil), c.writes...), append([]time.Time(nil), c.clears...)
}

// waitQuiet waits until the bot has spoken (a frame written after from)
// and then written nothing for gap: its turn has been played.
func (c *memConn) waitQuiet(t *testing.T, from time.Time, gap, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ws, _ := c.snapshot()
		if n := len(ws); n > 0 && ws[n-1].at.After(from) && time.Since(ws[n-1].at) > gap {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the bot did not finish speaking within %v", timeout)
}

// waitSpeaking waits until frames are being written after from.
func (c *memConn) waitSpeaking(t *testing.T, from time.Time, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ws, _ := c.snapshot()
		if n := len(ws); n > 0 && ws[n-1].at.After(from) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the bot did not start speaking within %v", timeout)
}

// engines are shared by the package's tests: loading them takes seconds.
type engines struct {
	rec      *sphinx.Engine
	espeak   *espeak.Engine
	festival *festival.Engine
	nlu      *nlu.Embedded
}

var (
	engOnce sync.Once
	eng     engines
	engErr  error
)

func heavy(t *testing.T) engines {
	t.Helper()
	if testing.Short() {
		t.Skip("runs PocketSphinx, eSpeak, Festival and the trained nlu in real time; skipped with -short")
	}
	engOnce.Do(func() {
		if eng.rec, engErr = sphinx.New(); engErr != nil {
			engErr = fmt.Errorf("sphinx: %w", engErr)
			return
		}
		if eng.espeak, engErr = espeak.New(); engErr != nil {
			engErr = fmt.Errorf("espeak: %w", engErr)
			return
		}
		if eng.festival, engErr = festival.New(); engErr != nil {
			engErr = fmt.Errorf("festival: %w", engErr)
			return
		}
		eng.nlu, engErr = nlu.OpenEmbedded(context.Background(), nil,
			nlu.WithAppealValidator(func(s string) bool { return appeal.ValidNumber(s) == nil }))
	})
	if engErr != nil {
		t.Skipf("engines not available here: %v", engErr)
	}
	return eng
}

// callerSpeech renders what the caller says with Festival SLT (the voice
// PocketSphinx recognises best), at the line's rate.
func callerSpeech(t *testing.T, e engines, text string, rate int) []int16 {
	t.Helper()
	st, err := e.festival.Synthesize(context.Background(), tts.Request{Text: text, Lang: "en", Rate: rate})
	if err != nil {
		t.Fatal(err)
	}
	pcm, _, err := tts.ReadAll(st)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// botDeps is the real bot: nlu and knowledge shipped in the binary,
// appeals in SQLite, the handoff center with its default queues.
// A zero at uses the wall clock; otherwise appeals, hours and the bot
// see that fixed time (timers stay real).
func botDeps(t *testing.T, e engines, at time.Time) bot.Deps {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "hotline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	repo, err := sqlitestore.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := appeal.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := appeal.NewService(repo, keys)
	if err != nil {
		t.Fatal(err)
	}
	queues, err := handoff.DefaultQueues()
	if err != nil {
		t.Fatal(err)
	}
	var opts []handoff.Option
	var clock bot.Clock
	if !at.IsZero() {
		opts = append(opts, handoff.WithClock(func() time.Time { return at }))
		clock = fixedClock{at}
	}
	center, err := handoff.New(queues, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { center.Close() })
	return bot.Deps{
		Understander: adapters.Understander{P: e.nlu.Parser}, Answerer: adapters.Answerer{S: e.nlu.KB},
		Appeals: adapters.Appeals{S: svc}, Router: adapters.Router{C: center}, Clock: clock,
	}
}

// fixedClock is a fixed now with real timers.
type fixedClock struct{ now time.Time }

func (c fixedClock) Now() time.Time { return c.now }
func (c fixedClock) AfterFunc(d time.Duration, f func()) bot.Timer {
	return time.AfterFunc(d, f)
}

// voiceDeps: English on PocketSphinx; no Russian recogniser here.
func voiceDeps(t *testing.T, e engines) voice.Deps { return voiceDepsAt(t, e, time.Time{}) }

func voiceDepsAt(t *testing.T, e engines, at time.Time) voice.Deps {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if !testing.Verbose() {
		log = slog.New(slog.DiscardHandler)
	}
	return voice.Deps{
		Recognizers: func(lang string) (asr.Recognizer, error) {
			if lang == "en" {
				return e.rec, nil
			}
			return nil, fmt.Errorf("%w: %s (no Vosk model in tests)", voice.ErrNoRecognizer, lang)
		},
		Synth: e.espeak,
		Bot:   botDeps(t, e, at),
		Log:   log,
	}
}

// call runs the pipeline in the background; wait returns its result.
type call struct {
	conn *memConn
	done chan struct{}
	res  voice.Result
	err  error
}

func startCall(t *testing.T, deps voice.Deps, cfg voice.Config) *call {
	return startCallOn(t, newConn(cfg.Rate), deps, cfg)
}

func startCallOn(t *testing.T, conn *memConn, deps voice.Deps, cfg voice.Config) *call {
	t.Helper()
	c := &call{conn: conn, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(c.done)
		c.res, c.err = voice.Run(ctx, c.conn, deps, cfg)
	}()
	t.Cleanup(func() {
		cancel()
		c.conn.hangup()
		<-c.done
	})
	return c
}

func (c *call) wait(t *testing.T, timeout time.Duration) voice.Result {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(timeout):
		t.Fatalf("Run did not return within %v", timeout)
	}
	if c.err != nil {
		t.Fatalf("Run: %v", c.err)
	}
	return c.res
}

func transcript(r voice.Result) string {
	var b strings.Builder
	for _, t := range r.Transcript {
		fmt.Fprintf(&b, "%s: %s\n", t.Speaker, t.Text)
	}
	return b.String()
}

func callerSaid(r voice.Result) []string {
	var out []string
	for _, t := range r.Transcript {
		if t.Speaker == bot.SpeakerCaller {
			out = append(out, t.Text)
		}
	}
	return out
}

func botSaid(r voice.Result) string {
	var out []string
	for _, t := range r.Transcript {
		if t.Speaker == bot.SpeakerBot {
			out = append(out, t.Text)
		}
	}
	return strings.Join(out, "\n")
}

// config is the tests' call: an 8 kHz phone line, keys gathered briefly.
func config(lang string) voice.Config {
	return voice.Config{Rate: audio.Rate8k, DTMFGap: 300 * time.Millisecond,
		Bot: bot.Config{Lang: lang, NoInput: 30 * time.Second}}
}
