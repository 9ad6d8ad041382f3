package voice

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/bot"
)

// fakeUnderstander knows a few utterances; anything else is unsure.
type fakeUnderstander struct{}

func (fakeUnderstander) Parse(_ context.Context, text string, h bot.Hint) (bot.Understanding, error) {
	u := bot.Understanding{Slots: map[string]string{}}
	var digits strings.Builder
	for _, w := range lowerWords(text) {
		if d, ok := map[string]string{"one": "1", "two": "2", "three": "3", "five": "5", "пять": "5", "один": "1"}[w]; ok {
			digits.WriteString(d)
		} else if strings.Trim(w, "0123456789") == "" {
			digits.WriteString(w)
		}
	}
	if digits.Len() > 0 {
		u.Slots[bot.SlotDigits] = digits.String()
		if h.Expect == bot.ExpectAppealNumber && digits.Len() >= 5 {
			u.Slots[bot.SlotAppealNumber] = digits.String()
		}
		if h.Expect == bot.ExpectPhone {
			u.Slots[bot.SlotPhone] = digits.String()
		}
	}
	t := strings.ToLower(text)
	switch {
	case strings.Contains(t, "operator hours"), strings.Contains(t, "часы работы"):
		u.Intent, u.Confidence = bot.IntentFAQ, 0.9
	case strings.Contains(t, "status"), strings.Contains(t, "статус"):
		u.Intent, u.Confidence = bot.IntentCheckStatus, 0.8
	case t == "yes please" || t == "sure thing":
		u.Intent, u.Confidence = bot.IntentYes, 0.7
	case strings.Contains(t, "weather"):
		u.Intent, u.Confidence = bot.IntentFAQ, 0.3
	}
	return u, nil
}

func TestUnderstandingCompleter(t *testing.T) {
	complete := UnderstandingCompleter(CompleterConfig{
		Understander: fakeUnderstander{},
		// A check digit for the test: the digits sum to a multiple of 10.
		ValidAppeal: func(d string) bool {
			if len(d) != 10 {
				return false
			}
			sum := 0
			for _, c := range d {
				sum += int(c - '0')
			}
			return sum%10 == 0
		},
	})
	tests := []struct {
		name, partial, expect string
		want                  bool
	}{
		{"complete question", "What are the operator hours?", bot.ExpectNone, true},
		{"complete question ru", "какие часы работы", bot.ExpectNone, true},
		{"unsure question", "what is the weather", bot.ExpectNone, false},
		{"nothing", "  ", bot.ExpectNone, false},
		{"trailing and", "what are the operator hours and", bot.ExpectNone, false},
		{"trailing um", "what are the operator hours um", bot.ExpectNone, false},
		{"trailing и", "какие часы работы и", bot.ExpectNone, false},
		{"trailing ну", "статус ну", bot.ExpectNone, false},
		{"my number is", "check my status my number is", bot.ExpectNone, false},
		{"number being read", "check my status five five one", bot.ExpectNone, false},
		{"мой номер пять пять один", "мой номер пять пять один", bot.ExpectNone, false},
		{"appeal number half", "12345", bot.ExpectAppealNumber, false},
		{"appeal number bad check digit", "1234567891", bot.ExpectAppealNumber, false},
		{"appeal number too long", "1234567891 0", bot.ExpectAppealNumber, false},
		{"appeal number valid whole", "1234567895", bot.ExpectAppealNumber, true},
		{"appeal number as words trailing filler", "1234567895 and", bot.ExpectAppealNumber, false},
		{"phone short", "five five five one", bot.ExpectPhone, false},
		{"phone whole", "9161234567", bot.ExpectPhone, true},
		{"yes", "Yes.", bot.ExpectYesNo, true},
		{"да", "да", bot.ExpectYesNo, true},
		{"нет", "Нет", bot.ExpectYesNo, true},
		{"yes by nlu", "yes please", bot.ExpectYesNo, true},
		{"yes trailing but", "yes but", bot.ExpectYesNo, false},
		{"bare yes without a question is unsure", "yes", bot.ExpectNone, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := complete(tt.partial, tt.expect); got != tt.want {
				t.Errorf("complete(%q, %q) = %v, want %v", tt.partial, tt.expect, got, tt.want)
			}
		})
	}
	if UnderstandingCompleter(CompleterConfig{})("what are the operator hours", "") {
		t.Error("without an understander only yes/no can be complete")
	}
}

// fakeRec opens fakeStreams.
type fakeRec struct{ st *fakeStream }

func (r fakeRec) NewStream(context.Context, asr.StreamConfig) (asr.Stream, error) { return r.st, nil }

// fakeStream delivers the results the test pushes and counts Flushes.
type fakeStream struct {
	res     chan asr.Result
	flushed chan struct{}
}

func (s *fakeStream) Write(audio.Frame) error    { return nil }
func (s *fakeStream) Results() <-chan asr.Result { return s.res }
func (s *fakeStream) Flush() error               { s.flushed <- struct{}{}; return nil }
func (s *fakeStream) Finish() error              { return nil }
func (s *fakeStream) Reset() error               { return nil }
func (s *fakeStream) Close() error               { return nil }
func (s *fakeStream) Err() error                 { return nil }

func TestListenerEndsTurnEarlyOnlyWhenComplete(t *testing.T) {
	for _, tt := range []struct {
		name      string
		completer Completer
		partial   string
		wantFlush bool
	}{
		{"complete", func(p, e string) bool { return e == bot.ExpectYesNo && p == "yes" }, "yes", true},
		{"incomplete", func(p, e string) bool { return false }, "my number is", false},
		{"no completer", nil, "yes", false},
		{"empty partial", func(p, e string) bool { return true }, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			st := &fakeStream{res: make(chan asr.Result, 8), flushed: make(chan struct{}, 1)}
			out := make(chan heard, 8)
			frames := make(chan audio.Frame)
			l := &listener{log: slog.New(slog.DiscardHandler), recs: func(string) (asr.Recognizer, error) { return fakeRec{st}, nil },
				now: time.Now, frames: frames, langs: make(chan string, 1), out: out, confirm: 200 * time.Millisecond,
				margin: -1, complete: tt.completer, flushes: make(chan int, 1)}
			l.setExpect(bot.ExpectYesNo)
			done := make(chan struct{})
			go func() { defer close(done); l.run(ctx, "en", true) }()

			st.res <- asr.Result{Kind: asr.SpeechStart}
			if tt.partial != "" {
				st.res <- asr.Result{Kind: asr.Partial, Text: tt.partial}
			}
			// The stream's own hypothesis may be empty: the last partial counts.
			st.res <- asr.Result{Kind: asr.Pause, End: 500 * time.Millisecond}
			var kinds []asr.Kind
			timeout := time.After(300 * time.Millisecond)
		loop:
			for {
				select {
				case h := <-out:
					kinds = append(kinds, h.res.Kind)
				case <-st.flushed:
					if !tt.wantFlush {
						t.Fatal("flushed an incomplete turn")
					}
					break loop
				case <-timeout:
					if tt.wantFlush {
						t.Fatal("a complete turn was not flushed at the pause")
					}
					break loop
				}
			}
			// Drain what came with the flush.
			for len(out) > 0 {
				h := <-out
				kinds = append(kinds, h.res.Kind)
			}
			gotPause := false
			for _, k := range kinds {
				gotPause = gotPause || k == asr.Pause
			}
			if gotPause != tt.wantFlush {
				t.Errorf("controller got a Pause: %v, want %v (results %v)", gotPause, tt.wantFlush, kinds)
			}
			cancel()
			close(st.res)
			<-done
		})
	}
}
