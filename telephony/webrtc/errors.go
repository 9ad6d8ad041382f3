package webrtc

import (
	"errors"
	"net/http"
)

// Sentinel errors. Those a client can cause map to an HTTP problem
// response through Status; the rest are causes of a call's end
// (context.Cause of the handler's ctx, Call.Err).
var (
	// ErrBadToken: the call token is missing, malformed or its signature
	// does not verify (401).
	ErrBadToken = errors.New("webrtc: invalid call token")
	// ErrTokenExpired: the call token's lifetime is over (401).
	ErrTokenExpired = errors.New("webrtc: call token expired")
	// ErrTokenReused: a call was already started with this token; tokens
	// are single-use so a leaked one cannot start a second call (409).
	ErrTokenReused = errors.New("webrtc: call token already used")
	// ErrMalformedSDP: the offer does not parse or pion rejects it (400).
	ErrMalformedSDP = errors.New("webrtc: malformed SDP offer")
	// ErrNoAudio: the offer has no active audio section with Opus or PCMU
	// (422).
	ErrNoAudio = errors.New("webrtc: offer has no usable audio")
	// ErrTooManyCalls: the configured call limit is reached (503).
	ErrTooManyCalls = errors.New("webrtc: too many calls")
	// ErrServerClosed: the server is shutting down (503); also the cause
	// of calls ended by Close.
	ErrServerClosed = errors.New("webrtc: server closed")
	// ErrUnknownCall: no live call has this id (404).
	ErrUnknownCall = errors.New("webrtc: no such call")
	// ErrBadCandidate: a trickle ICE fragment could not be applied (400).
	ErrBadCandidate = errors.New("webrtc: bad ICE candidate")

	// ErrCallEnded is returned by Call methods once the call is over.
	ErrCallEnded = errors.New("webrtc: call ended")
	// ErrHangup is the cause when the app hung up (DELETE, Hangup).
	ErrHangup = errors.New("webrtc: hung up by the app")
	// ErrICEFailed is the cause when connectivity was lost for longer
	// than the ICE failed timeout (tab closed, network gone).
	ErrICEFailed = errors.New("webrtc: ICE connection failed")
	// ErrPeerClosed is the cause when the peer closed the connection.
	ErrPeerClosed = errors.New("webrtc: peer closed the connection")
	// ErrConnectTimeout is the cause when the peer never connected after
	// the answer was sent.
	ErrConnectTimeout = errors.New("webrtc: peer did not connect in time")
	// ErrEventsClosed: SendEvent after the data channel was closed (by the
	// peer or for abuse).
	ErrEventsClosed = errors.New("webrtc: events channel closed")
	// ErrEventsBackpressure: the peer is not reading events fast enough.
	ErrEventsBackpressure = errors.New("webrtc: events channel backlog full")
)

// Status maps an error from Server methods to an HTTP status and a short
// problem title. Unknown errors are 500.
func Status(err error) (int, string) {
	switch {
	case errors.Is(err, ErrBadToken), errors.Is(err, ErrTokenExpired):
		return http.StatusUnauthorized, "Invalid or expired call token"
	case errors.Is(err, ErrTokenReused):
		return http.StatusConflict, "Call token already used"
	case errors.Is(err, ErrMalformedSDP):
		return http.StatusBadRequest, "Malformed SDP offer"
	case errors.Is(err, ErrBadCandidate):
		return http.StatusBadRequest, "Bad ICE candidate"
	case errors.Is(err, ErrNoAudio):
		return http.StatusUnprocessableEntity, "No usable audio in the offer"
	case errors.Is(err, ErrTooManyCalls):
		return http.StatusServiceUnavailable, "Too many calls"
	case errors.Is(err, ErrServerClosed):
		return http.StatusServiceUnavailable, "Shutting down"
	case errors.Is(err, ErrUnknownCall), errors.Is(err, ErrCallEnded):
		return http.StatusNotFound, "No such call"
	}
	return http.StatusInternalServerError, "Internal error"
}
