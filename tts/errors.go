package tts

import "errors"

// Sentinel errors. Engines and helpers wrap them with %w and add the detail
// (the voice, the length, the language), so callers test with errors.Is and
// log the message.
var (
	// ErrEmptyText means the request has nothing speakable: no text, only
	// spaces, or only characters that cannot be read aloud (emoji,
	// control characters).
	ErrEmptyText = errors.New("tts: empty text")

	// ErrTextTooLong means the text exceeds MaxTextLen characters. The bot
	// should not read such a text aloud at all: a caller cannot follow
	// minutes of speech. It should speak a summary or the first paragraphs
	// (split at paragraph or sentence ends below MaxTextLen, one request
	// each) and offer to send the rest by SMS.
	ErrTextTooLong = errors.New("tts: text too long")

	// ErrUnsupportedLanguage means the engine has no voice for the
	// requested language.
	ErrUnsupportedLanguage = errors.New("tts: unsupported language")

	// ErrUnknownVoice means the requested voice does not exist in the
	// engine or does not speak the requested language.
	ErrUnknownVoice = errors.New("tts: unknown voice")

	// ErrUnsupportedRate means the requested output rate is not one of
	// 8000, 16000 or 48000 Hz.
	ErrUnsupportedRate = errors.New("tts: unsupported sample rate")

	// ErrClosed is returned by a Stream after Close, and by an engine
	// after its Close.
	ErrClosed = errors.New("tts: closed")

	// ErrEngine means the engine failed (the Festival server died, the
	// speech endpoint answered garbage); the message says how.
	ErrEngine = errors.New("tts: engine failure")

	// ErrTimeout means an engine did not deliver audio in time.
	ErrTimeout = errors.New("tts: timeout")
)
