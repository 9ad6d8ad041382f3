package vosk

import "errors"

// errNoModel means the configuration names no model folder for a language.
var errNoModel = errors.New("vosk: no model configured")
