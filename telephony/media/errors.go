package media

import "errors"

var (
	// ErrClosed is returned by ReadFrame and WriteFrame after Close, and
	// by ReadFrame once the session has stopped.
	ErrClosed = errors.New("media: session closed")
	// ErrNoPorts means every port of the configured RTP range is taken.
	ErrNoPorts = errors.New("media: no free RTP port in range")
	// ErrBadDigit is returned by SendDTMF for a character that is not a
	// DTMF key.
	ErrBadDigit = errors.New("media: not a DTMF digit")
	// ErrBadCrypto: a malformed SDES a=crypto attribute (syntax, base64,
	// key length).
	ErrBadCrypto = errors.New("media: bad a=crypto attribute")
	// ErrUnsupportedCrypto: a well-formed a=crypto attribute asking for
	// what we do not implement (suite, MKI, session parameters).
	ErrUnsupportedCrypto = errors.New("media: unsupported a=crypto attribute")
)
