package config

import (
	"net"
	"net/url"
	"strings"
	"time"
)

// WebRTC configures in-app calls: the /call/ page and mobile apps call
// the bot from a browser or app over WebRTC (telephony/webrtc).
type WebRTC struct {
	Enabled bool `yaml:"enabled"`
	// ICEServers are the STUN/TURN servers handed to the app with its
	// call token. Empty suits a LAN; callers behind NAT need a TURN
	// server (coturn, see telephony/webrtc/doc.go).
	ICEServers []ICEServer `yaml:"ice_servers"`
	// UDPPortMin/Max bound the media ports (0/0: any ephemeral port).
	UDPPortMin int `yaml:"udp_port_min"`
	UDPPortMax int `yaml:"udp_port_max"`
	// NATIPs are the public addresses announced for a server behind
	// 1:1 NAT.
	NATIPs []string `yaml:"nat_ips"`
	// TokenTTL is how long a call token may be used to start a call.
	TokenTTL time.Duration `yaml:"token_ttl"`
	// TokenSecret signs call tokens (16+ bytes); empty: generated into
	// data_dir/webrtc-token.key.
	TokenSecret string `yaml:"token_secret"`
	MaxCalls    int    `yaml:"max_calls"`
	// Anonymous lets portal visitors who are not logged in get a call
	// token, at most AnonymousPerMinute per client address.
	Anonymous          bool `yaml:"anonymous"`
	AnonymousPerMinute int  `yaml:"anonymous_per_minute"`
}

// ICEServer is one STUN or TURN server.
type ICEServer struct {
	URLs       []string `yaml:"urls"`
	Username   string   `yaml:"username"`
	Credential string   `yaml:"credential"`
}

func (c *Config) validateWebRTC(bad func(key, format string, args ...any)) {
	w := c.WebRTC
	if !w.Enabled {
		return
	}
	for i, s := range w.ICEServers {
		if len(s.URLs) == 0 {
			bad("webrtc.ice_servers", "entry %d has no urls", i+1)
		}
		for _, u := range s.URLs {
			p, err := url.Parse(u)
			if err != nil || (p.Scheme != "stun" && p.Scheme != "stuns" && p.Scheme != "turn" && p.Scheme != "turns") {
				bad("webrtc.ice_servers", "%q is not a stun:, stuns:, turn: or turns: URL", u)
				continue
			}
			if strings.HasPrefix(p.Scheme, "turn") && (s.Username == "" || s.Credential == "") {
				bad("webrtc.ice_servers", "TURN server %q needs a username and a credential", u)
			}
		}
	}
	if w.UDPPortMin < 0 || w.UDPPortMax > 65535 || w.UDPPortMin > w.UDPPortMax || (w.UDPPortMin == 0) != (w.UDPPortMax == 0) {
		bad("webrtc.udp_port_min", "the port range %d-%d is not valid (both 0, or 1 <= min <= max <= 65535)", w.UDPPortMin, w.UDPPortMax)
	}
	for _, ip := range w.NATIPs {
		if net.ParseIP(ip) == nil {
			bad("webrtc.nat_ips", "%q is not an IP address", ip)
		}
	}
	if w.TokenTTL < 10*time.Second || w.TokenTTL > time.Hour {
		bad("webrtc.token_ttl", "must be between 10s and 1h, got %s", w.TokenTTL)
	}
	if w.TokenSecret != "" && len(w.TokenSecret) < 16 {
		bad("webrtc.token_secret", "must be at least 16 characters (or empty: generated)")
	}
	if w.MaxCalls < 1 {
		bad("webrtc.max_calls", "must be at least 1, got %d", w.MaxCalls)
	}
	if w.Anonymous && w.AnonymousPerMinute < 1 {
		bad("webrtc.anonymous_per_minute", "must be at least 1, got %d", w.AnonymousPerMinute)
	}
}
