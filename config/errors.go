package config

import "errors"

// ErrInvalid wraps every configuration problem: unknown keys, bad values,
// unusable environment variables.
var ErrInvalid = errors.New("invalid configuration")
