package config

import (
	"strings"
	"testing"
	"time"
)

func TestSIPDefaultsAndValidation(t *testing.T) {
	c := Default()
	s := c.SIP
	if !s.Enabled || s.Addr != ":5060" || strings.Join(s.Transports, ",") != "udp,tcp" || s.RTPPortMin != 20000 ||
		s.RTPPortMax != 20999 || s.MaxCalls != 100 || s.Codecs[0] != "G722" || s.SRTP != "optional" ||
		s.SessionExpires != 30*time.Minute || s.MinSE != 90*time.Second {
		t.Fatalf("sip defaults = %+v", s)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key string
		set func(*SIP)
	}{
		{"sip.transports", func(s *SIP) { s.Transports = []string{"sctp"} }},
		{"sip.rtp_port_min/max", func(s *SIP) { s.RTPPortMin, s.RTPPortMax = 30000, 20000 }},
		{"sip.allow", func(s *SIP) { s.Allow = []string{"10.0.0.0/33"} }},
		{"sip.auth.realm", func(s *SIP) { s.Auth = SIPAuth{Users: map[string]string{"pbx": "x"}} }},
		{"sip.codecs", func(s *SIP) { s.Codecs = []string{"opus"} }},
		{"sip.srtp", func(s *SIP) { s.SRTP = "mandatory" }},
		{"sip.srtp", func(s *SIP) { s.SRTP = "" }},
		{"sip.tls", func(s *SIP) { s.TLS.Addr = ":5061" }},
		{"sip.addr", func(s *SIP) { s.Addr = "nope" }},
		{"sip.min_se", func(s *SIP) { s.MinSE = 30 * time.Second }},
		{"sip.min_se", func(s *SIP) { s.MinSE = 90500 * time.Millisecond }},
		{"sip.session_expires", func(s *SIP) { s.SessionExpires = 60 * time.Second }},
		{"sip.session_expires", func(s *SIP) { s.SessionExpires = 48 * time.Hour }},
		{"sip.session_expires", func(s *SIP) { s.MinSE, s.SessionExpires = 600*time.Second, 300*time.Second }},
	} {
		c := Default()
		tc.set(&c.SIP)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s: Validate = %v", tc.key, err)
		}
	}
	// Off: nothing else is checked.
	c = Default()
	c.SIP.Enabled, c.SIP.Addr = false, "nope"
	if err := c.Validate(); err != nil {
		t.Errorf("disabled sip: %v", err)
	}
	c, err := Load("", []string{"HOTLINE_SIP_ENABLED=false", "HOTLINE_SIP_MAX_CALLS=3", "HOTLINE_SIP_SRTP=required"})
	if err != nil || c.SIP.Enabled || c.SIP.MaxCalls != 3 || c.SIP.SRTP != "required" {
		t.Errorf("env overrides: %v %+v", err, c.SIP)
	}
	// Session timers: 0 turns our own request off; the env and a file
	// set both keys.
	c, err = Load(writeFile(t, "sip:\n  session_expires: 0s\n  min_se: 120s\n"), []string{"HOTLINE_SIP_MIN_SE=100s"})
	if err != nil {
		t.Fatalf("session timer settings: %v", err)
	}
	if c.SIP.SessionExpires != 0 || c.SIP.MinSE != 100*time.Second {
		t.Errorf("session timer settings: %+v", c.SIP)
	}
}

// "off" unquoted is a boolean in YAML 1.1: the key must still read as the
// word, so a config file can say `srtp: off`.
func TestSIPSRTPOffUnquoted(t *testing.T) {
	for _, v := range []string{"off", "optional", "required"} {
		c, err := Load(writeFile(t, "sip:\n  srtp: "+v+"\n"), nil)
		if err != nil || c.SIP.SRTP != v {
			t.Errorf("srtp: %s → %q, %v", v, c.SIP.SRTP, err)
		}
	}
	if _, err := Load(writeFile(t, "sip:\n  srtp: false\n"), nil); err == nil || !strings.Contains(err.Error(), "sip.srtp") {
		t.Errorf("srtp: false: %v", err)
	}
}
