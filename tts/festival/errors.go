package festival

import "errors"

var (
	// ErrNotInstalled means the festival binary or a configured voice is
	// missing: install the Debian packages festival, festvox-us-slt-hts
	// and festvox-ru.
	ErrNotInstalled = errors.New("festival: not installed")

	// ErrServer means the Festival server did not start or answered
	// something other than the protocol.
	ErrServer = errors.New("festival: server failure")
)
