package vosk

import "errors"

// errNoModel means the configuration names no model folder for a language.
var errNoModel = errors.New("vosk: no model configured")

// Model download errors (see Puller).
var (
	// ErrUnreachable means the model site could not be reached; the error
	// text says where to put a model by hand.
	ErrUnreachable = errors.New("vosk: model site unreachable")
	// ErrChecksum means the download does not match the pinned SHA-256.
	ErrChecksum = errors.New("vosk: model archive checksum mismatch")
	// ErrUnsafeArchive means the archive has an entry that would land
	// outside the target folder, a link, or an absurd size.
	ErrUnsafeArchive = errors.New("vosk: unsafe model archive")
)
