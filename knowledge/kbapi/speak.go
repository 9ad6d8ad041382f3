package kbapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/knowledge"
	"github.com/hotline-ivr/hotline/tts"
)

// Speech for the editor's play button.
const (
	maxSpeakBody    = 64 << 10 // MaxTextLen characters of Cyrillic, JSON-escaped, fit
	speakRate       = audio.Rate16k
	speakTimeout    = 60 * time.Second
	speakConcurrent = 2 // renders at once; more wait, so a busy editor cannot starve calls
)

// WithSpeaker enables the play button: POST /api/v1/kb/speak renders text
// with s (the service's cached synthesizer, so playing an answer again is
// instant) and returns a WAV file. Without it the route does not exist and
// the editor keeps the button disabled.
func WithSpeaker(s tts.Synthesizer) Option {
	return func(h *handlers) {
		h.speaker = s
		h.speakSlots = make(chan struct{}, speakConcurrent)
	}
}

type speakInput struct {
	Text string `json:"text"`
	Lang string `json:"lang"`
	Rate int    `json:"rate"` // 8000, 16000 (default) or 48000
	// ID is the article the text belongs to, so its cached render is
	// dropped when the article changes.
	ID string `json:"id"`
}

// speakInfo tells the editor that speech synthesis is available.
func (h *handlers) speakInfo(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"available": true, "max_chars": tts.MaxTextLen, "rate": speakRate,
		"rates": []int{audio.Rate8k, audio.Rate16k, audio.Rate48k}})
}

// speak renders one text to a WAV file.
func (h *handlers) speak(c *gin.Context) {
	var in speakInput
	if !decodeJSON(c, &in) {
		return
	}
	if !slices.Contains(knowledge.Languages, in.Lang) {
		writeProblem(c, unknownLang(in.Lang))
		return
	}
	if strings.TrimSpace(in.Text) == "" {
		badRequest(c, "Nothing to say", "the text is empty")
		return
	}
	if n := utf8.RuneCountInString(in.Text); n > tts.MaxTextLen {
		writeProblem(c, newProblem(http.StatusRequestEntityTooLarge, "Text too long",
			fmt.Sprintf("%d characters; one play is limited to %d", n, tts.MaxTextLen)))
		return
	}
	if in.Rate == 0 {
		in.Rate = speakRate
	}
	if in.Rate != audio.Rate8k && in.Rate != audio.Rate16k && in.Rate != audio.Rate48k {
		badRequest(c, "Unsupported rate", fmt.Sprintf("rate %d Hz; use 8000 (telephone), 16000 or 48000", in.Rate))
		return
	}
	source := strings.TrimSpace(in.ID)
	if len(source) > 100 {
		source = ""
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), speakTimeout)
	defer cancel()
	select {
	case h.speakSlots <- struct{}{}:
		defer func() { <-h.speakSlots }()
	case <-ctx.Done():
		h.speakFailed(c, ctx.Err())
		return
	}
	st, err := h.speaker.Synthesize(ctx, tts.Request{Text: in.Text, Lang: in.Lang, Rate: in.Rate, Source: source})
	if err != nil {
		h.speakFailed(c, err)
		return
	}
	samples, rate, err := tts.ReadAll(st)
	if err != nil {
		h.speakFailed(c, err)
		return
	}
	if rate == 0 {
		rate = in.Rate
	}
	var buf bytes.Buffer
	if err := audio.WriteWAV(&buf, samples, rate); err != nil {
		h.speakFailed(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "audio/wav", buf.Bytes())
}

func (h *handlers) speakFailed(c *gin.Context, err error) {
	switch {
	case errors.Is(err, tts.ErrEmptyText):
		badRequest(c, "Nothing to say", "the text has nothing speakable in it")
	case errors.Is(err, tts.ErrTextTooLong):
		writeProblem(c, newProblem(http.StatusRequestEntityTooLarge, "Text too long", err.Error()))
	case errors.Is(err, tts.ErrUnsupportedLanguage), errors.Is(err, tts.ErrUnsupportedRate), errors.Is(err, tts.ErrUnknownVoice):
		badRequest(c, "Cannot speak this", err.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, tts.ErrTimeout):
		c.Header("Retry-After", "5")
		writeProblem(c, newProblem(http.StatusServiceUnavailable, "Busy", "speech synthesis took too long; try again"))
	default:
		h.log.Error("speech synthesis failed", "error", err)
		writeProblem(c, newProblem(http.StatusBadGateway, "Speech synthesis failed", "the voice engine failed; try again"))
	}
}
