package codec

import "errors"

var (
	// ErrUnsupported is returned by New for a codec name this package
	// does not implement.
	ErrUnsupported = errors.New("codec: unsupported codec")
	// ErrInit means the codec library could not create its state.
	ErrInit = errors.New("codec: initialisation failed")
)
