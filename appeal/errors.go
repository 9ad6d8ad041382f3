package appeal

import "errors"

var (
	// ErrNotFound means no appeal has the number.
	ErrNotFound = errors.New("appeal: not found")
	// ErrMalformedNumber means the text is not ten digits.
	ErrMalformedNumber = errors.New("appeal: a number has ten digits")
	// ErrCheckDigit means the number's check digit does not match: a digit
	// was probably misheard or two were swapped.
	ErrCheckDigit = errors.New("appeal: the number's check digit does not match: probably misheard")
	// ErrTransition means the status change is not allowed from the current status.
	ErrTransition = errors.New("appeal: status change not allowed")
	// ErrReasonRequired means a rejection came without a reason.
	ErrReasonRequired = errors.New("appeal: a rejection needs a reason")
	// ErrIdempotencyConflict means the idempotency key was used for a different request.
	ErrIdempotencyConflict = errors.New("appeal: idempotency key reused with a different request")
	// ErrTranscriptTooLarge means the transcript would pass the size limits.
	ErrTranscriptTooLarge = errors.New("appeal: transcript too large")
	// ErrInvalid means a field is missing or malformed.
	ErrInvalid = errors.New("appeal: invalid")
	// ErrLookupFailed means no appeal matches the number and second factor.
	// Unknown numbers and wrong factors give the same error on purpose.
	ErrLookupFailed = errors.New("appeal: no appeal with this number for this caller")
	// ErrRateLimited means too many failed lookups of one number.
	ErrRateLimited = errors.New("appeal: too many attempts, try later")
	// ErrNoKey means a sealed contact names a key the keyring does not hold.
	ErrNoKey = errors.New("appeal: encryption key not configured")

	// ErrDuplicateNumber is returned by a Repository when the number is taken.
	ErrDuplicateNumber = errors.New("appeal: number already taken")
	// ErrDuplicateKey is returned by a Repository when the idempotency key is taken.
	ErrDuplicateKey = errors.New("appeal: idempotency key already taken")
	// ErrStale is returned by a Repository when the status changed meanwhile.
	ErrStale = errors.New("appeal: status changed concurrently")
)
