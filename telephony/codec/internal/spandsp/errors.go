package spandsp

import "errors"

// ErrInit means libspandsp could not allocate a codec state.
var ErrInit = errors.New("spandsp: g722 initialisation failed")
