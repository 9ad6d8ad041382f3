package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWebRTCDefaults(t *testing.T) {
	w := Default().WebRTC
	if !w.Enabled || len(w.ICEServers) != 0 || w.TokenTTL != 5*time.Minute || w.TokenSecret != "" || w.MaxCalls != 50 ||
		!w.Anonymous || w.AnonymousPerMinute != 6 || w.UDPPortMin != 0 || w.UDPPortMax != 0 {
		t.Errorf("webrtc defaults = %+v", w)
	}
}

func TestWebRTCFileAndEnv(t *testing.T) {
	p := writeFile(t, "webrtc:\n  ice_servers:\n    - urls: [\"stun:stun.example.org:3478\"]\n"+
		"    - {urls: [\"turn:turn.example.org:3478?transport=udp\"], username: u, credential: p}\n"+
		"  udp_port_min: 40000\n  udp_port_max: 40100\n  nat_ips: [203.0.113.7]\n")
	c, err := Load(p, []string{"HOTLINE_WEBRTC_TOKEN_TTL=2m", "HOTLINE_WEBRTC_ANONYMOUS=false", "HOTLINE_WEBRTC_MAX_CALLS=3"})
	if err != nil {
		t.Fatal(err)
	}
	w := c.WebRTC
	if len(w.ICEServers) != 2 || w.ICEServers[1].Username != "u" || w.UDPPortMin != 40000 || w.NATIPs[0] != "203.0.113.7" {
		t.Errorf("file not applied: %+v", w)
	}
	if w.TokenTTL != 2*time.Minute || w.Anonymous || w.MaxCalls != 3 {
		t.Errorf("env not applied: %+v", w)
	}
	// Switched off, nothing else is checked.
	if _, err := Load(writeFile(t, "webrtc:\n  enabled: false\n  max_calls: 0\n"), nil); err != nil {
		t.Errorf("disabled webrtc: %v", err)
	}
}

func TestWebRTCInvalid(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"scheme", "webrtc:\n  ice_servers: [{urls: [\"http://x\"]}]\n", `"http://x" is not a stun:`},
		{"no urls", "webrtc:\n  ice_servers: [{username: u}]\n", "entry 1 has no urls"},
		{"turn without credential", "webrtc:\n  ice_servers: [{urls: [\"turn:t:3478\"]}]\n", "needs a username and a credential"},
		{"ports", "webrtc:\n  udp_port_min: 5000\n  udp_port_max: 4000\n", "webrtc.udp_port_min"},
		{"half range", "webrtc:\n  udp_port_min: 5000\n", "webrtc.udp_port_min"},
		{"nat ip", "webrtc:\n  nat_ips: [example.org]\n", `webrtc.nat_ips: "example.org" is not an IP`},
		{"ttl", "webrtc:\n  token_ttl: 1s\n", "webrtc.token_ttl"},
		{"secret", "webrtc:\n  token_secret: short\n", "webrtc.token_secret"},
		{"max calls", "webrtc:\n  max_calls: 0\n", "webrtc.max_calls"},
		{"anonymous rate", "webrtc:\n  anonymous_per_minute: 0\n", "webrtc.anonymous_per_minute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tt.file), nil)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
