// Package asr is streaming speech recognition as the bot consumes it: a
// Recognizer opens a Stream per utterance or per call, 20 ms audio frames go
// in, partial hypotheses, speech start/end events and final results come out
// while the caller speaks.
//
// Engines (asr/vosk, asr/sphinx) only implement a synchronous Decoder; the
// goroutine, resampling, voice-activity endpointing, back-pressure and
// cleanup live once in this package (see NewStream).
package asr

import (
	"context"
	"time"

	"github.com/hotline-ivr/hotline/audio"
)

// Recognizer opens recognition streams. Each stream holds one of the
// engine's limited slots until it is closed.
type Recognizer interface {
	NewStream(ctx context.Context, cfg StreamConfig) (Stream, error)
}

// Endpointing selects how a stream cuts audio into utterances.
type Endpointing int

const (
	// EndpointVAD cuts utterances with the voice-activity detector: a final
	// result follows each stretch of speech once the hangover of silence
	// has passed. Audio outside speech is not decoded, which is what makes
	// many idle callers cheap. This is the default for calls.
	EndpointVAD Endpointing = iota
	// EndpointNone decodes all audio as one utterance; the final result
	// comes on Flush or Finish. For transcribing files.
	EndpointNone
)

// StreamConfig is what one stream needs; the zero value of every field but
// Lang has a sensible default.
type StreamConfig struct {
	// Lang is "ru" or "en".
	Lang string
	// SampleRate is the rate of the frames that will be written: 8000,
	// 16000 or 48000. Zero takes the rate of the first frame. The stream
	// converts to what the engine needs.
	SampleRate int
	// Alternatives asks for up to this many n-best hypotheses in final
	// results, where the engine gives them.
	Alternatives int
	// Endpointing picks the utterance segmentation.
	Endpointing Endpointing
	// VAD overrides the engine's voice-activity settings for this stream.
	// Nil uses the engine's.
	VAD *audio.VADConfig
}

// Stream is one recognition session. Write is called from one goroutine;
// Results must be read concurrently (finals wait for the reader, partials
// are dropped when the reader falls behind).
type Stream interface {
	// Write queues a frame. It blocks while the decoder lags more than a
	// short queue behind (back-pressure, never unbounded buffering) and
	// returns ErrClosed after Close or Finish or when the stream's context
	// ends.
	Write(audio.Frame) error
	// Results delivers events in audio order. It is closed when the stream
	// ends (Finish, Close, or the context given to NewStream ending).
	Results() <-chan Result
	// Flush makes the stream emit a final result for speech written so far
	// without waiting for the end-of-speech silence; the stream stays open.
	Flush() error
	// Finish marks the end of audio: what was said gets a final result,
	// then Results is closed. Close must still be called.
	Finish() error
	// Reset drops the utterance in progress (no final result for it), for
	// example when the bot decides to ignore what came before a prompt.
	Reset() error
	// Close stops the stream, waits for its goroutine and frees the decoder
	// slot. It is idempotent and safe to call from any goroutine.
	Close() error
	// Err returns the engine error that ended the stream early, if any;
	// check it after Results is closed.
	Err() error
}

// Kind says what a Result reports.
type Kind int

const (
	// Partial is an interim hypothesis of the utterance in progress; it may
	// change and is superseded by the Final.
	Partial Kind = iota + 1
	// Final is the settled result of one utterance.
	Final
	// SpeechStart reports that the caller started speaking (the bot stops
	// its prompt: barge-in). Start is when speech began.
	SpeechStart
	// SpeechEnd reports that the caller stopped speaking (the hangover of
	// silence passed). End is when speech stopped. The Final of the
	// utterance follows right after.
	SpeechEnd
	// Pause reports a short break within speech (the VAD's Pause setting,
	// shorter than its hangover): End is when speech stopped and Text the
	// hypothesis so far. The utterance goes on unless the reader decides
	// it is complete and calls Flush; speech may resume.
	Pause
)

func (k Kind) String() string {
	switch k {
	case Partial:
		return "partial"
	case Final:
		return "final"
	case SpeechStart:
		return "speech_start"
	case SpeechEnd:
		return "speech_end"
	case Pause:
		return "pause"
	}
	return "unknown"
}

// Result is one event of a stream. Times are audio time since the first
// frame written to the stream, so they line up with a call recording.
type Result struct {
	Kind Kind
	// Text is the hypothesis (Partial, Final); empty for speech events and
	// for a Final of an utterance in which nothing was recognised.
	Text string
	// Confidence is in [0, 1] where the engine estimates it, -1 when it
	// does not.
	Confidence float64
	// Words holds per-word timings where the engine gives them.
	Words []Word
	// Alternatives are n-best hypotheses beyond Text, best first, when
	// asked for with StreamConfig.Alternatives and the engine gives them.
	Alternatives []Alternative
	// Start and End bound the utterance (Final, Partial) or mark the event
	// (SpeechStart at Start, SpeechEnd and Pause at End).
	Start, End time.Duration
}

// Word is one recognised word with its audio time.
type Word struct {
	Text       string
	Start, End time.Duration
	// Confidence is in [0, 1], or -1 when not known.
	Confidence float64
}

// Alternative is an n-best hypothesis.
type Alternative struct {
	Text       string
	Confidence float64 // [0, 1] or -1; engines' scores are not comparable
}
