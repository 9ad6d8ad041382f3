package voice

import "errors"

var (
	// ErrMissingDependency means Run was not given something it needs:
	// a synthesizer, a recogniser source or the bot's dependencies.
	ErrMissingDependency = errors.New("voice: missing dependency")
	// ErrNoRecognizer means no recogniser is available for a language; the
	// call goes on with keys (DTMF) only.
	ErrNoRecognizer = errors.New("voice: no recogniser for the language")
)
