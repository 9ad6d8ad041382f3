package sip

import (
	"errors"
	"net/http"
)

// Sentinel errors. Those that end an INVITE carry the SIP status the
// caller's side receives (see Status).
var (
	// ErrForbidden: the source address is not on the allow-list (403).
	ErrForbidden = errors.New("sip: source address not allowed")
	// ErrUnauthorized: digest authentication missing or stale (401).
	ErrUnauthorized = errors.New("sip: authentication required")
	// ErrBadCredentials: digest response wrong for a known nonce (403).
	ErrBadCredentials = errors.New("sip: wrong credentials")
	// ErrNotAcceptable: no audio, no common codec, SRTP not acceptable
	// under the policy (no usable a=crypto line, plain RTP while SRTP is
	// required) or malformed SDP (488 with a Warning header).
	ErrNotAcceptable = errors.New("sip: offer not acceptable")
	// ErrMalformedSDP is wrapped by ErrNotAcceptable for unparsable SDP.
	ErrMalformedSDP = errors.New("sip: malformed SDP")
	// ErrShuttingDown: new calls are refused while the server drains (503).
	ErrShuttingDown = errors.New("sip: server shutting down")
	// ErrBusy: the configured call limit is reached (486).
	ErrBusy = errors.New("sip: too many calls")
	// ErrNoMedia: no RTP port could be allocated (503).
	ErrNoMedia = errors.New("sip: no media port available")
	// ErrCallEnded is returned by Call methods once the call is over.
	ErrCallEnded = errors.New("sip: call ended")
	// ErrRTPTimeout is the cause of a call ended because the peer
	// stopped sending RTP (context.Cause of the handler's ctx).
	ErrRTPTimeout = errors.New("sip: no RTP from peer")
	// ErrRemoteHangup is the cause when the caller sent BYE.
	ErrRemoteHangup = errors.New("sip: caller hung up")
	// ErrSessionExpired is the cause of a call ended because its session
	// timer (RFC 4028) ran out: the refresh did not come, or ours failed.
	// The peer's signalling is gone even if RTP may not show it (hold).
	ErrSessionExpired = errors.New("sip: session expired (no session refresh)")
	// ErrIntervalTooSmall: Session-Expires below our Min-SE from a peer
	// that supports timers (422 with Min-SE).
	ErrIntervalTooSmall = errors.New("sip: session interval too small")
	// ErrBadRequest: a header we rely on is malformed (400), e.g.
	// Session-Expires or Min-SE.
	ErrBadRequest = errors.New("sip: bad request")
	// ErrTransferFailed: REFER refused or the transfer target failed.
	ErrTransferFailed = errors.New("sip: transfer failed")
)

// Status maps an error to the SIP response code and reason phrase sent
// for a refused INVITE.
func Status(err error) (int, string) {
	switch {
	case errors.Is(err, ErrForbidden), errors.Is(err, ErrBadCredentials):
		return 403, "Forbidden"
	case errors.Is(err, ErrUnauthorized):
		return 401, "Unauthorized"
	case errors.Is(err, ErrNotAcceptable):
		return 488, "Not Acceptable Here"
	case errors.Is(err, ErrIntervalTooSmall):
		return 422, "Session Interval Too Small"
	case errors.Is(err, ErrBadRequest):
		return 400, "Bad Request"
	case errors.Is(err, ErrBusy):
		return 486, "Busy Here"
	case errors.Is(err, ErrShuttingDown), errors.Is(err, ErrNoMedia):
		return 503, "Service Unavailable"
	}
	return 500, http.StatusText(500)
}
