package sphinx

import "errors"

// errInit means ps_init failed on files that passed the checks, for example
// a truncated acoustic model. It is wrapped together with asr.ErrModelBroken.
var errInit = errors.New("sphinx: decoder initialisation failed")
