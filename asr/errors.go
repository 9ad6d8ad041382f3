package asr

import "errors"

// Sentinel errors. Engines wrap them with %w and add the detail (which
// language, which folder, what is missing), so callers branch with errors.Is
// and log or print the message as is.
var (
	// ErrClosed is returned for any use of a stream after Close or Finish.
	ErrClosed = errors.New("asr: stream closed")

	// ErrBusy means every recognition slot stayed taken for the configured
	// wait. The bot answers it like "all lines busy", not as a failure.
	ErrBusy = errors.New("asr: all recognition streams busy")

	// ErrUnsupportedLanguage means the engine has no model for the language.
	ErrUnsupportedLanguage = errors.New("asr: unsupported language")

	// ErrUnsupportedRate means frames come at a rate the audio path does not
	// convert (Hotline uses 8, 16 and 48 kHz) or change rate mid-stream.
	ErrUnsupportedRate = errors.New("asr: unsupported sample rate")

	// ErrModelMissing means the configured model folder does not exist.
	ErrModelMissing = errors.New("asr: model not installed")

	// ErrModelBroken means the model folder exists but cannot be loaded:
	// required files are missing, truncated or unreadable.
	ErrModelBroken = errors.New("asr: model broken")

	// ErrEngineUnavailable means the engine was left out of this build
	// (for example the novosk build tag) or its library cannot be used.
	ErrEngineUnavailable = errors.New("asr: engine not available in this build")
)
