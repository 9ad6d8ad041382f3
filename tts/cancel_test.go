package tts_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/tts/internal/ttstest"
)

// TestCancelWithinOneFrame: after cancellation no further frame is
// delivered and the stream's goroutine ends promptly.
func TestCancelWithinOneFrame(t *testing.T) {
	ttstest.CheckStop(t, tts.NewFakeEngine(time.Millisecond),
		tts.Request{Text: strings.Repeat("word ", 200), Lang: "en", Rate: 8000}, 5)
}
