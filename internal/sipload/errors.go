package sipload

import "errors"

var (
	// ErrConfig is a load run that cannot start (bad target, codec, caps).
	ErrConfig = errors.New("sipload: bad config")
	// ErrNoAnswer is a call the server did not answer with 200.
	ErrNoAnswer = errors.New("sipload: call not answered")
	// ErrSDP is an answer whose SDP we cannot use.
	ErrSDP = errors.New("sipload: bad SDP answer")
)
