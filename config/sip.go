package config

import (
	"net/netip"
	"strings"
	"time"
)

// SIP is the phone channel: where the SIP server listens and what it
// accepts.
type SIP struct {
	// Enabled false (or `serve --sip ""`) runs without the phone channel.
	Enabled       bool          `yaml:"enabled"`
	Addr          string        `yaml:"addr"`
	Transports    []string      `yaml:"transports"`
	PublicAddress string        `yaml:"public_address"`
	RTPAddress    string        `yaml:"rtp_address"`
	RTPPortMin    int           `yaml:"rtp_port_min"`
	RTPPortMax    int           `yaml:"rtp_port_max"`
	Allow         []string      `yaml:"allow"`
	Auth          SIPAuth       `yaml:"auth"`
	NoRTPTimeout  time.Duration `yaml:"no_rtp_timeout"`
	// SessionExpires is the session interval (RFC 4028) asked of callers
	// whose INVITE names none: the session is refreshed every half of it
	// and a call whose refresh stops is ended, on hold too. 0 asks for
	// none; a caller's own Session-Expires is still honoured.
	SessionExpires time.Duration `yaml:"session_expires"`
	// MinSE is the shortest session interval accepted: below it a caller
	// that supports timers gets 422 Session Interval Too Small.
	MinSE time.Duration `yaml:"min_se"`

	MaxCalls      int           `yaml:"max_calls"`
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	Codecs        []string      `yaml:"codecs"`
	// SRTP is when media is encrypted (SDES keys in the SDP): off,
	// optional (when the caller offers it) or required.
	SRTP string `yaml:"srtp"`
	TLS  SIPTLS `yaml:"tls"`
}

// SIPAuth is digest authentication of INVITEs; no users: none.
type SIPAuth struct {
	Realm string            `yaml:"realm"`
	Users map[string]string `yaml:"users"`
}

// SIPTLS is an optional SIP-over-TLS listener.
type SIPTLS struct {
	Addr string `yaml:"addr"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

func (c *Config) validateSIP(bad func(key, format string, args ...any)) {
	s := c.SIP
	if !s.Enabled {
		return
	}
	if err := checkAddr(s.Addr); err != nil {
		bad("sip.addr", "%v", err)
	}
	if len(s.Transports) == 0 {
		bad("sip.transports", "must name at least one of udp, tcp")
	}
	for _, t := range s.Transports {
		if t != "udp" && t != "tcp" {
			bad("sip.transports", "%q is not one of udp, tcp (TLS is sip.tls)", t)
		}
	}
	if s.RTPPortMin < 1024 || s.RTPPortMax > 65535 || s.RTPPortMax-s.RTPPortMin < 1 {
		bad("sip.rtp_port_min/max", "must be a range within 1024-65535 of at least two ports, got %d-%d", s.RTPPortMin, s.RTPPortMax)
	}
	if s.RTPAddress != "" {
		if _, err := netip.ParseAddr(s.RTPAddress); err != nil {
			bad("sip.rtp_address", "%q is not an IP address", s.RTPAddress)
		}
	}
	if strings.ContainsAny(s.PublicAddress, " /@") {
		bad("sip.public_address", "%q is not a host name or IP address", s.PublicAddress)
	}
	for _, a := range s.Allow {
		if _, err := netip.ParsePrefix(a); err != nil {
			if _, err := netip.ParseAddr(a); err != nil {
				bad("sip.allow", "%q is not a CIDR or an IP address", a)
			}
		}
	}
	if len(s.Auth.Users) > 0 && s.Auth.Realm == "" {
		bad("sip.auth.realm", "must be set when sip.auth.users are")
	}
	if s.NoRTPTimeout < time.Second {
		bad("sip.no_rtp_timeout", "must be at least 1s, got %s", s.NoRTPTimeout)
	}
	// RFC 4028 §5: no Min-SE below 90 s, so a refresh has time to finish
	// (a SIP transaction can take 32 s) before the session expires.
	if s.MinSE < 90*time.Second || s.MinSE > 24*time.Hour || s.MinSE%time.Second != 0 {
		bad("sip.min_se", "must be whole seconds from 90s (the RFC 4028 floor) to 24h, got %s", s.MinSE)
	}
	if s.SessionExpires != 0 && (s.SessionExpires < s.MinSE || s.SessionExpires > 24*time.Hour || s.SessionExpires%time.Second != 0) {
		bad("sip.session_expires", "must be 0s (none asked) or whole seconds from sip.min_se (%s) to 24h, got %s", s.MinSE, s.SessionExpires)
	}
	if s.MaxCalls < 0 {
		bad("sip.max_calls", "must not be negative")
	}
	if s.ShutdownGrace < 0 {
		bad("sip.shutdown_grace", "must not be negative")
	}
	for _, name := range s.Codecs {
		switch name {
		case "G722", "PCMU", "PCMA":
		default:
			bad("sip.codecs", "%q is not one of G722, PCMU, PCMA", name)
		}
	}
	switch s.SRTP {
	case "off", "optional", "required":
	default:
		bad("sip.srtp", "%q is not one of off, optional, required", s.SRTP)
	}
	if s.TLS.Addr != "" {
		if err := checkAddr(s.TLS.Addr); err != nil {
			bad("sip.tls.addr", "%v", err)
		}
		if s.TLS.Cert == "" || s.TLS.Key == "" {
			bad("sip.tls", "addr needs cert and key files")
		}
	}
}
