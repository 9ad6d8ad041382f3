package calls

import (
	"context"
	"errors"
	"strings"

	"github.com/hotline-ivr/hotline/telephony/sip"
	"github.com/hotline-ivr/hotline/voice"
)

// SIPHandler adapts h to the SIP server: each answered call runs through
// h.Handle. Dialling the user "en" or "ru" (sip:en@host) picks the
// language up front, as does an X-Hotline-Lang header from a PBX menu.
func SIPHandler(h *Handler) sip.CallHandler {
	return sip.HandlerFunc(func(ctx context.Context, c *sip.Call) error {
		return h.Handle(ctx, sipConn{c}, CallInfo{ID: c.ID, Channel: "sip", From: c.From, To: c.To,
			Codec: c.Codec(), Rate: c.SampleRate(), Lang: langOf(c.To, c.Headers["X-Hotline-Lang"])})
	})
}

// sipConn is a *sip.Call (a voice.Conn and a Transferer) that also
// reports its packet counts.
type sipConn struct{ *sip.Call }

func (c sipConn) Packets() (in, out uint64) {
	s := c.Stats()
	return s.PacketsReceived, s.PacketsSent
}

// EndReason implements EndReasoner from the call's cancel cause.
func (c sipConn) EndReason() string {
	switch err := c.Err(); {
	case errors.Is(err, sip.ErrRemoteHangup):
		return voice.ReasonHangup
	case errors.Is(err, sip.ErrRTPTimeout):
		return "rtp_timeout"
	case errors.Is(err, sip.ErrSessionExpired):
		return "session_expired"
	case errors.Is(err, sip.ErrShuttingDown):
		return "shutdown"
	}
	return ""
}

func langOf(user, header string) string {
	for _, v := range []string{header, user} {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "en", "english":
			return "en"
		case "ru", "russian":
			return "ru"
		}
	}
	return ""
}
