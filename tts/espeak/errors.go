package espeak

import "errors"

// ErrInit means libespeak-ng could not be initialised: its data folder
// (espeak-ng-data) is missing or unreadable. Install the Debian packages
// espeak-ng and libespeak-ng1.
var ErrInit = errors.New("espeak: cannot initialise libespeak-ng")
