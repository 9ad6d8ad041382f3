package bot

import "errors"

var (
	// ErrClosed means the session has ended: it takes no more input.
	ErrClosed = errors.New("bot: session closed")
	// ErrMalformedNumber means an appeal number does not have ten digits.
	ErrMalformedNumber = errors.New("bot: an appeal number has ten digits")
	// ErrCheckDigit means an appeal number's check digit does not match:
	// probably a digit misheard.
	ErrCheckDigit = errors.New("bot: appeal number check digit mismatch")
	// ErrLookupFailed means no appeal matches the number and the second
	// factor; unknown numbers and wrong factors are not told apart.
	ErrLookupFailed = errors.New("bot: no appeal for this number and phone")
	// ErrRateLimited means too many failed lookups of one number.
	ErrRateLimited = errors.New("bot: too many attempts")
	// ErrMissingDependency means New was not given something it needs.
	ErrMissingDependency = errors.New("bot: missing dependency")
)
