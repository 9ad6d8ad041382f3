package voice_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/asr/sphinx"
	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/bot/adapters"
	"github.com/hotline-ivr/hotline/voice"
)

var (
	earlyOnce sync.Once
	earlyRec  *sphinx.Engine
	earlyErr  error
)

// earlyDeps are voiceDeps with semantic endpointing: the recogniser's VAD
// reports a 300 ms pause (hangover 700 ms) and the nlu decides.
func earlyDeps(t *testing.T, e engines) voice.Deps {
	t.Helper()
	earlyOnce.Do(func() {
		vad := audio.DefaultVADConfig()
		vad.Pause = 300 * time.Millisecond
		earlyRec, earlyErr = sphinx.New(sphinx.WithVAD(vad))
	})
	if earlyErr != nil {
		t.Skipf("sphinx: %v", earlyErr)
	}
	d := voiceDeps(t, e)
	d.Recognizers = func(lang string) (asr.Recognizer, error) {
		if lang == "en" {
			return earlyRec, nil
		}
		return nil, voice.ErrNoRecognizer
	}
	d.Completer = voice.UnderstandingCompleter(voice.CompleterConfig{
		Understander: adapters.Understander{P: e.nlu.Parser},
		ValidAppeal:  func(s string) bool { return appeal.ValidNumber(s) == nil },
	})
	return d
}

// askInEnglish presses 2 during the notice, says the caller's audio once
// the bot is quiet, and returns the call's result after the answer.
func askInEnglish(t *testing.T, deps voice.Deps, speech []int16) voice.Result {
	t.Helper()
	c := startCall(t, deps, config(""))
	start := time.Now()
	c.conn.waitSpeaking(t, start, 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	c.conn.key("2")
	c.conn.waitQuiet(t, start, 700*time.Millisecond, 40*time.Second)
	asked := time.Now()
	c.conn.say(speech)
	c.conn.waitQuiet(t, asked.Add(time.Duration(len(speech))*time.Second/8000), 1500*time.Millisecond, 40*time.Second)
	c.conn.hangup()
	res := c.wait(t, 3*time.Second)
	t.Logf("transcript:\n%s", transcript(res))
	return res
}

func spokenTurns(t *testing.T, res voice.Result) []voice.Turn {
	var out []voice.Turn
	for _, tr := range res.Turns {
		if tr.Lang == "en" {
			t.Logf("turn %q: ended by %s, endpointing %v, v2v %v", tr.Input, tr.EndedBy, tr.Endpointing, tr.VoiceToVoice)
			out = append(out, tr)
		}
	}
	return out
}

// TestEarlyEndpointCompleteQuestion: a whole question ends at the short
// pause, well before the 700 ms hangover.
func TestEarlyEndpointCompleteQuestion(t *testing.T) {
	e := heavy(t)
	res := askInEnglish(t, earlyDeps(t, e), callerSpeech(t, e, "What are the operator hours?", 8000))
	turns := spokenTurns(t, res)
	if len(turns) != 1 {
		t.Fatalf("%d spoken turns, want 1", len(turns))
	}
	tr := turns[0]
	if tr.EndedBy != voice.EndedByEarly {
		t.Errorf("turn %q ended by %q, want %q", tr.Input, tr.EndedBy, voice.EndedByEarly)
	}
	// Endpointing is measured from the audio instant speech stopped: the
	// 300 ms pause plus the decision, not the 700 ms hangover.
	if tr.Endpointing <= 0 || tr.Endpointing >= 550*time.Millisecond {
		t.Errorf("endpointing %v, want under 550 ms (hangover 700 ms)", tr.Endpointing)
	}
	if b := botSaid(res); !strings.Contains(b, "Monday to Friday 08:00 to 20:00") {
		t.Errorf("bot did not give the operator hours:\n%s", b)
	}
}

// TestEarlyEndpointWaitsMidNumber: the caller asks about an appeal and
// reads out its number (the bot asks for it when it understood); a 500 ms pause in the middle of it (longer than the early pause,
// shorter than the hangover) does not end the turn: the number is one
// turn, ended by the hangover.
func TestEarlyEndpointWaitsMidNumber(t *testing.T) {
	e := heavy(t)
	ask := callerSpeech(t, e, "What is the status of my application?", 8000)
	first := trimSilence(callerSpeech(t, e, "one two three four five", 8000))
	second := trimSilence(callerSpeech(t, e, "six seven eight nine zero", 8000))
	number := append(append(first, make([]int16, 8000/2)...), second...)
	number = append(number, make([]int16, 8000)...)

	c := startCall(t, earlyDeps(t, e), config(""))
	start := time.Now()
	c.conn.waitSpeaking(t, start, 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	c.conn.key("2")
	c.conn.waitQuiet(t, start, 700*time.Millisecond, 40*time.Second)
	asked := time.Now()
	c.conn.say(ask)
	c.conn.waitQuiet(t, asked.Add(time.Duration(len(ask))*time.Second/8000), 1500*time.Millisecond, 40*time.Second)
	said := time.Now()
	c.conn.say(number)
	c.conn.waitQuiet(t, said.Add(time.Duration(len(number))*time.Second/8000), 1500*time.Millisecond, 40*time.Second)
	c.conn.hangup()
	res := c.wait(t, 3*time.Second)
	t.Logf("transcript:\n%s", transcript(res))
	turns := spokenTurns(t, res)
	if len(turns) != 2 {
		t.Fatalf("%d spoken turns, want 2 (the request, the number): the pause cut the number", len(turns))
	}
	if turns[1].EndedBy != voice.EndedByHangover {
		t.Errorf("number turn %q ended by %q, want %q", turns[1].Input, turns[1].EndedBy, voice.EndedByHangover)
	}
}

// trimSilence cuts the synthesiser's leading and trailing silence, so that
// a gap inserted between two phrases is the pause the caller makes.
func trimSilence(pcm []int16) []int16 {
	loud := func(v int16) bool { return v > 500 || v < -500 }
	i, j := 0, len(pcm)
	for i < j && !loud(pcm[i]) {
		i++
	}
	for j > i && !loud(pcm[j-1]) {
		j--
	}
	return pcm[i:j]
}
