package sip

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// Option configures a Server.
type Option func(*Server) error

type listenSpec struct {
	network string // udp, tcp, tls
	addr    string
	tls     *tls.Config
}

// WithListen adds a listener: network "udp" or "tcp", addr "host:port"
// (port 0 picks a free one; see Server.Addr).
func WithListen(network, addr string) Option {
	return func(s *Server) error {
		if network != "udp" && network != "tcp" {
			return fmt.Errorf("sip: listen network %q: want udp or tcp", network)
		}
		s.listens = append(s.listens, listenSpec{network: network, addr: addr})
		return nil
	}
}

// WithTLS adds a SIP-over-TLS listener with the given certificates.
func WithTLS(addr string, conf *tls.Config) Option {
	return func(s *Server) error {
		if conf == nil || (len(conf.Certificates) == 0 && conf.GetCertificate == nil) {
			return fmt.Errorf("sip: TLS listener %s needs certificates", addr)
		}
		s.listens = append(s.listens, listenSpec{network: "tls", addr: addr, tls: conf})
		return nil
	}
}

// WithPublicAddress is the host (IP or name) put in Contact, Via and the
// SDP connection line when it differs from the bound address (NAT, a
// container, a proxy in front).
func WithPublicAddress(host string) Option {
	return func(s *Server) error { s.publicHost = host; return nil }
}

// WithRTP sets the address RTP binds to and the port range.
func WithRTP(bindIP string, minPort, maxPort int) Option {
	return func(s *Server) error {
		s.rtpIP, s.rtpMin, s.rtpMax = bindIP, minPort, maxPort
		return nil
	}
}

// WithAllowList restricts INVITE/OPTIONS/... to sources in these CIDRs
// (trunk providers, the SIP proxy). Empty: everyone.
func WithAllowList(cidrs ...string) Option {
	return func(s *Server) error {
		for _, c := range cidrs {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				a, err2 := netip.ParseAddr(c)
				if err2 != nil {
					return fmt.Errorf("sip: allow-list entry %q: %w", c, err)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			s.allow = append(s.allow, p.Masked())
		}
		return nil
	}
}

// WithDigestAuth requires digest authentication (RFC 3261 §22) of INVITEs
// with these user → password credentials.
func WithDigestAuth(realm string, users map[string]string) Option {
	return func(s *Server) error {
		if realm == "" || len(users) == 0 {
			return fmt.Errorf("sip: digest auth needs a realm and users")
		}
		s.realm = realm
		s.users = users
		return nil
	}
}

// WithNoRTPTimeout ends calls whose peer sent no RTP for d (the peer
// vanished without BYE). Default 30 s; the check is suspended on hold.
func WithNoRTPTimeout(d time.Duration) Option {
	return func(s *Server) error { s.noRTP = d; return nil }
}

// WithSessionExpires is the session interval (RFC 4028) we ask for when
// the caller's INVITE names none: the 200 carries Session-Expires with
// it, the caller refreshing if it supports timers, we otherwise. Default
// 30 min; 0 asks for none (a caller's own Session-Expires is still
// honoured). It is rounded up to whole seconds and raised to the Min-SE.
func WithSessionExpires(d time.Duration) Option {
	return func(s *Server) error {
		if d < 0 {
			return fmt.Errorf("sip: session expires %s: must not be negative", d)
		}
		s.sessionExpires = wholeSeconds(d)
		return nil
	}
}

// WithMinSE is the shortest session interval we accept: a caller that
// supports timers and asks for less gets 422 with this Min-SE, one that
// does not (a proxy added the header) is raised to it. Default 90 s, the
// RFC 4028 floor; lower values are for tests. Rounded up to whole seconds.
func WithMinSE(d time.Duration) Option {
	return func(s *Server) error {
		if d <= 0 {
			return fmt.Errorf("sip: min SE %s: must be positive", d)
		}
		s.minSE = wholeSeconds(d)
		return nil
	}
}

func wholeSeconds(d time.Duration) time.Duration {
	return (d + time.Second - 1) / time.Second * time.Second
}

// WithRingTime is how long we send 180 Ringing before answering.
func WithRingTime(d time.Duration) Option {
	return func(s *Server) error { s.ringTime = d; return nil }
}

// WithMaxCalls limits concurrent calls (486 Busy Here beyond). 0: no limit.
func WithMaxCalls(n int) Option {
	return func(s *Server) error { s.maxCalls = n; return nil }
}

// WithShutdownGrace is how long calls may continue after shutdown starts
// (Call.Draining is closed at once) before they are hung up. Default 30 s.
func WithShutdownGrace(d time.Duration) Option {
	return func(s *Server) error { s.grace = d; return nil }
}

// WithLogger sets the logger; numbers in SIP URIs are masked before they
// reach it.
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) error { s.log = l; return nil }
}

// WithMetrics sets the metrics sink.
func WithMetrics(m Metrics) Option {
	return func(s *Server) error { s.metrics = m; return nil }
}

// WithCodecs overrides the codec preference (default G722, PCMU, PCMA).
func WithCodecs(names ...string) Option {
	return func(s *Server) error { s.codecs = names; return nil }
}

// WithSRTP sets when media is encrypted (SDES-keyed SRTP). Default
// SRTPOptional.
func WithSRTP(p SRTPPolicy) Option {
	return func(s *Server) error {
		switch p {
		case SRTPOff, SRTPOptional, SRTPRequired:
			s.srtp = p
			return nil
		}
		return fmt.Errorf("sip: SRTP policy %q: want off, optional or required", p)
	}
}

// WithUserAgent sets the User-Agent / Server header value.
func WithUserAgent(name string) Option {
	return func(s *Server) error { s.uaName = name; return nil }
}

// Metrics receives call counters (Prometheus in cmd/hotline).
type Metrics interface {
	CallStarted()
	CallEnded(reason string, d time.Duration)
	InviteRejected(status int)
}

type nopMetrics struct{}

func (nopMetrics) CallStarted()                    {}
func (nopMetrics) CallEnded(string, time.Duration) {}
func (nopMetrics) InviteRejected(int)              {}
