package voice_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/voice"
)

func TestRunNeedsDependencies(t *testing.T) {
	_, err := voice.Run(context.Background(), newConn(8000), voice.Deps{}, voice.Config{})
	if !errors.Is(err, voice.ErrMissingDependency) {
		t.Fatalf("err = %v, want ErrMissingDependency", err)
	}
}

// TestEnglishQuestionBySpeech: the caller picks English with a key during
// the recording notice, then asks a question aloud; the bot answers it
// with audio.
func TestEnglishQuestionBySpeech(t *testing.T) {
	e := heavy(t)
	question := callerSpeech(t, e, "What are the operator hours?", 8000)
	c := startCall(t, voiceDeps(t, e), config(""))
	start := time.Now()
	c.conn.waitSpeaking(t, start, 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	c.conn.key("2") // during the (non-interruptible) recording notice
	c.conn.waitQuiet(t, start, 700*time.Millisecond, 40*time.Second)

	asked := time.Now()
	c.conn.say(question)
	c.conn.waitQuiet(t, asked.Add(time.Duration(len(question))*time.Second/8000), 1500*time.Millisecond, 40*time.Second)
	ws, _ := c.conn.snapshot()
	c.conn.hangup()
	res := c.wait(t, 3*time.Second)
	t.Logf("transcript:\n%s", transcript(res))

	said := strings.ToLower(strings.Join(callerSaid(res), " | "))
	if !strings.Contains(said, "dtmf 2") {
		t.Errorf("caller turns %q: the key 2 is missing", said)
	}
	if !strings.Contains(said, "operator") && !strings.Contains(said, "hours") {
		t.Errorf("caller turns %q: the question was not recognised (want operator/hours)", said)
	}
	if b := botSaid(res); !strings.Contains(b, "Monday to Friday 08:00 to 20:00") {
		t.Errorf("bot did not give the operator hours:\n%s", b)
	}
	// Reply audio after the question: several seconds, speech level.
	var n, loud int
	for _, w := range ws {
		if w.at.After(asked) {
			n++
			if w.rms > -40 {
				loud++
			}
		}
	}
	if n < 100 || loud < n/4 {
		t.Errorf("reply audio after the question: %d frames, %d at speech level", n, loud)
	}
	var spoken *voice.Turn
	for i := range res.Turns {
		t.Logf("turn %q: v2v %v (endpointing %v, recognition %v, understanding %v, waiting %v, synthesis %v)",
			res.Turns[i].Input, res.Turns[i].VoiceToVoice, res.Turns[i].Endpointing, res.Turns[i].Recognition,
			res.Turns[i].Understanding, res.Turns[i].Waiting, res.Turns[i].Synthesis)
		if res.Turns[i].Lang == "en" {
			spoken = &res.Turns[i]
		}
	}
	if spoken == nil || spoken.VoiceToVoice <= 0 || spoken.Endpointing <= 0 || spoken.VoiceToVoice > 5*time.Second {
		t.Errorf("spoken turn latency not measured or implausible: %+v", spoken)
	}
	if res.Reason != voice.ReasonHangup {
		t.Errorf("reason %q, want hangup", res.Reason)
	}
}

// TestBargeInStopsLongReply: the caller speaks over a long answer; the
// playback stops within 100 ms of the confirmation and the bot gets the
// new utterance. The recording notice before is not cut by speech.
func TestBargeInStopsLongReply(t *testing.T) {
	e := heavy(t)
	over := callerSpeech(t, e, "Hello, hello, can you hear me?", 8000)
	question := callerSpeech(t, e, "What are the operator hours?", 8000)
	interrupt := callerSpeech(t, e, "Goodbye.", 8000)
	c := startCall(t, voiceDeps(t, e), config("en"))
	start := time.Now()
	c.conn.waitSpeaking(t, start, 10*time.Second)
	c.conn.say(over) // over the recording notice
	c.conn.waitQuiet(t, start, 1500*time.Millisecond, 40*time.Second)
	_, clears := c.conn.snapshot()
	if len(clears) != 0 {
		t.Errorf("playback cleared %d times while the non-interruptible greeting played", len(clears))
	}

	asked := time.Now()
	c.conn.say(question)
	c.conn.waitSpeaking(t, asked.Add(time.Duration(len(question))*time.Second/8000+300*time.Millisecond), 20*time.Second)
	time.Sleep(1500 * time.Millisecond) // well into the answer
	cut := time.Now()
	c.conn.say(interrupt)
	res := c.wait(t, 30*time.Second) // "goodbye" ends the call
	t.Logf("transcript:\n%s", transcript(res))

	ws, clears := c.conn.snapshot()
	var bi *voice.BargeIn
	for i := range res.BargeIns {
		if res.BargeIns[i].Confirmed.After(cut) && res.BargeIns[i].By != "final" {
			bi = &res.BargeIns[i]
			break
		}
	}
	if bi == nil {
		t.Fatalf("no barge-in after the caller spoke over the answer: %+v", res.BargeIns)
	}
	t.Logf("barge-in by %s: confirmed %v after the caller started, playback stopped %v later",
		bi.By, bi.Confirmed.Sub(cut), bi.Latency())
	if bi.Latency() <= 0 || bi.Latency() > 100*time.Millisecond {
		t.Errorf("playback stopped %v after the confirmation, want within 100 ms", bi.Latency())
	}
	var clearAt time.Time
	for _, cl := range clears {
		if cl.After(bi.Confirmed) {
			clearAt = cl
			break
		}
	}
	after := 0
	for _, w := range ws {
		if w.at.After(bi.Confirmed) && (clearAt.IsZero() || !w.at.After(clearAt)) {
			after++
		}
	}
	if clearAt.IsZero() || after > 5 {
		t.Errorf("%d frames written after the confirmation before the clear (at %v), want ≤ 5", after, clearAt)
	}
	said := strings.ToLower(strings.Join(callerSaid(res), " | "))
	if !strings.Contains(said, "bye") {
		t.Errorf("the bot did not get the interrupting utterance: caller turns %q", said)
	}
	if res.Reason != bot.EndGoodbye {
		t.Errorf("reason %q, want goodbye", res.Reason)
	}
}

// TestHangupMidReply: the caller hangs up while the bot speaks; Run
// returns promptly and leaves no goroutine behind.
func TestHangupMidReply(t *testing.T) {
	e := heavy(t)
	deps := voiceDeps(t, e)
	before := runtime.NumGoroutine()
	c := startCall(t, deps, config("en"))
	c.conn.waitSpeaking(t, time.Now(), 10*time.Second)
	time.Sleep(time.Second)
	hung := time.Now()
	c.conn.hangup()
	res := c.wait(t, 2*time.Second)
	took := time.Since(hung)
	t.Logf("Run returned %v after the hang-up", took)
	if took > 500*time.Millisecond {
		t.Errorf("Run took %v to return after the hang-up", took)
	}
	if res.Reason != voice.ReasonHangup {
		t.Errorf("reason %q, want hangup", res.Reason)
	}
	var after int
	for range 100 {
		if after = runtime.NumGoroutine(); after <= before {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if after > before {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines %d before, %d after:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

// TestKeysOnlyCaller: a caller who only presses keys picks English and
// the appeal-status menu item, and is asked for the number.
func TestKeysOnlyCaller(t *testing.T) {
	e := heavy(t)
	cfg := config("")
	cfg.Speed = 1.5
	c := startCall(t, voiceDeps(t, e), cfg)
	start := time.Now()
	c.conn.waitSpeaking(t, start, 10*time.Second)
	c.conn.key("2")
	c.conn.waitQuiet(t, start, 700*time.Millisecond, 40*time.Second)
	pressed := time.Now()
	c.conn.key("1")
	c.conn.waitQuiet(t, pressed, 700*time.Millisecond, 20*time.Second)
	c.conn.hangup()
	res := c.wait(t, 3*time.Second)
	t.Logf("transcript:\n%s", transcript(res))
	if b := botSaid(res); !strings.Contains(b, "appeal number") {
		t.Errorf("the bot did not ask for the appeal number:\n%s", b)
	}
	for _, tr := range res.Turns {
		t.Logf("turn %q: v2v %v (understanding %v, waiting %v, synthesis %v)", tr.Input, tr.VoiceToVoice, tr.Understanding, tr.Waiting, tr.Synthesis)
	}
}

// TestOperatorHandoff: in operator hours, 0 asks for a person; the bot
// says the wait and the appeal number, then Run returns the handoff for
// the channel to transfer.
func TestOperatorHandoff(t *testing.T) {
	e := heavy(t)
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	monday := time.Date(2026, 3, 9, 12, 0, 0, 0, msk)
	cfg := config("en")
	cfg.Transfer = voice.TransferBridge
	c := startCall(t, voiceDepsAt(t, e, monday), cfg)
	start := time.Now()
	c.conn.waitSpeaking(t, start, 10*time.Second)
	c.conn.waitQuiet(t, start, 700*time.Millisecond, 30*time.Second)
	pressed := time.Now()
	c.conn.key("0")
	res := c.wait(t, 30*time.Second)
	t.Logf("transcript:\n%s", transcript(res))
	h := res.Handoff
	if res.Reason != bot.EndHandoff || h == nil {
		t.Fatalf("reason %q, handoff %+v: want a handoff", res.Reason, h)
	}
	if h.Queue == "" || len(h.AppealNumber) != 10 || h.Mode != voice.TransferBridge || h.HandoffID == "" {
		t.Errorf("handoff %+v: want queue, appeal number, id and the configured mode", h)
	}
	// The wait message was played before Run returned.
	ws, _ := c.conn.snapshot()
	n := 0
	for _, w := range ws {
		if w.at.After(pressed) {
			n++
		}
	}
	if n < 100 {
		t.Errorf("only %d frames of the wait message were played", n)
	}
	if !strings.Contains(botSaid(res), "appeal number") && !strings.Contains(botSaid(res), "number") {
		t.Errorf("the bot did not read the appeal number:\n%s", botSaid(res))
	}
}

// TestEchoDoesNotBargeIn: the line echoes the bot's voice back at -20 dB
// (a poor line); the answer plays whole and the echo is not taken for
// the caller. With the echo gate off the same echo cuts the bot off,
// which shows the line is echoing enough to matter.
func TestEchoDoesNotBargeIn(t *testing.T) {
	e := heavy(t)
	question := callerSpeech(t, e, "What are the operator hours?", 8000)
	cuts := func(res voice.Result) (n int) {
		for _, b := range res.BargeIns {
			if b.By == "speech" || b.By == "partial" {
				n++
			}
		}
		return n
	}
	t.Run("gated", func(t *testing.T) {
		conn := newConn(8000)
		conn.echoGain = 0.1
		c := startCallOn(t, conn, voiceDeps(t, e), config("en"))
		start := time.Now()
		c.conn.waitSpeaking(t, start, 10*time.Second)
		c.conn.waitQuiet(t, start, 1500*time.Millisecond, 30*time.Second)
		asked := time.Now()
		c.conn.say(question)
		c.conn.waitQuiet(t, asked.Add(time.Duration(len(question))*time.Second/8000), 2*time.Second, 40*time.Second)
		c.conn.hangup()
		res := c.wait(t, 3*time.Second)
		t.Logf("transcript:\n%s", transcript(res))
		if n := cuts(res); n > 0 {
			t.Errorf("the echo cut the bot off %d times: %+v", n, res.BargeIns)
		}
		if said := callerSaid(res); len(said) != 1 {
			t.Errorf("caller turns %q: want only the question (the echo is not the caller)", said)
		}
		if !strings.Contains(botSaid(res), "Monday to Friday") {
			t.Errorf("the answer was not given:\n%s", botSaid(res))
		}
	})
	t.Run("ungated", func(t *testing.T) {
		conn := newConn(8000)
		conn.echoGain = 0.1
		cfg := config("en")
		cfg.EchoMargin = -1
		c := startCallOn(t, conn, voiceDeps(t, e), cfg)
		c.conn.waitSpeaking(t, time.Now(), 10*time.Second)
		time.Sleep(8 * time.Second)
		c.conn.hangup()
		res := c.wait(t, 3*time.Second)
		t.Logf("transcript:\n%s", transcript(res))
		if cuts(res) == 0 {
			t.Errorf("without the gate the echo did not cut the bot off: the test line echoes too little to show anything")
		}
	})
}
