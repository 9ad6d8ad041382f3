package calls

import "errors"

var (
	// ErrNotFound means no call has that id.
	ErrNotFound = errors.New("calls: no such call")
	// ErrMissingDependency means New was not given something it needs.
	ErrMissingDependency = errors.New("calls: missing dependency")
)
