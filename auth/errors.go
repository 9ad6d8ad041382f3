package auth

import "errors"

var (
	// ErrInvalidCredentials is returned for a wrong password, an unknown
	// user or a disabled account alike, so login answers do not reveal which
	// user names exist.
	ErrInvalidCredentials = errors.New("auth: invalid user name or password")
	// ErrRateLimited means too many failed logins for this user from this
	// address; the caller should wait before trying again.
	ErrRateLimited = errors.New("auth: too many failed login attempts")
	// ErrNoSession means the request carries no session, or one that is
	// unknown, expired or belongs to a disabled user.
	ErrNoSession = errors.New("auth: not logged in")
	// ErrForbidden means the user lacks the role a route needs.
	ErrForbidden = errors.New("auth: permission denied")
	// ErrCSRF means a cookie-authenticated state-changing request came
	// without the matching X-Hotline-CSRF header.
	ErrCSRF = errors.New("auth: missing or wrong CSRF token")
	// ErrUserExists is returned when creating a user name that is taken.
	ErrUserExists = errors.New("auth: user already exists")
	// ErrUserNotFound is returned when a named user does not exist.
	ErrUserNotFound = errors.New("auth: no such user")
	// ErrInvalidUser wraps a description of a bad user name, role or
	// password.
	ErrInvalidUser = errors.New("auth: invalid user")
	// ErrNoPasswordFile means Bootstrap has nowhere to write the initial
	// admin password (see WithInitialPasswordFile).
	ErrNoPasswordFile = errors.New("auth: no initial password file configured")
)
