package webrtc

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ICEServer is a STUN or TURN server handed to both peers.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

type config struct {
	iceServers     []ICEServer
	turnSecret     []byte // coturn use-auth-secret: short-lived credentials
	turnURLs       []string
	portMin        uint16
	portMax        uint16
	nat1to1        []string
	secret         []byte
	tokenTTL       time.Duration
	maxCalls       int
	log            *slog.Logger
	now            func() time.Time
	disconnected   time.Duration
	failed         time.Duration
	connectTimeout time.Duration
	gatherTimeout  time.Duration
	loopbackOnly   bool
	playbackFrames int
	dcRate         float64
	dcBurst        int
	dcAbuse        int
	dcMaxMessage   int
}

func defaults() config {
	return config{
		tokenTTL:       5 * time.Minute,
		maxCalls:       100,
		log:            slog.New(slog.DiscardHandler),
		now:            time.Now,
		disconnected:   5 * time.Second,
		failed:         15 * time.Second,
		connectTimeout: 30 * time.Second,
		gatherTimeout:  3 * time.Second,
		playbackFrames: 10,
		dcRate:         20,
		dcBurst:        40,
		dcAbuse:        100,
		dcMaxMessage:   4096,
	}
}

func (c *config) validate() error {
	switch {
	case c.secret != nil && len(c.secret) < 16:
		return errors.New("webrtc: token secret must be at least 16 bytes")
	case c.tokenTTL <= 0:
		return errors.New("webrtc: token TTL must be positive")
	case c.maxCalls <= 0:
		return errors.New("webrtc: max calls must be positive")
	case c.portMin > c.portMax:
		return fmt.Errorf("webrtc: UDP port range %d-%d is empty", c.portMin, c.portMax)
	case c.failed <= 0 || c.disconnected <= 0 || c.connectTimeout <= 0:
		return errors.New("webrtc: timeouts must be positive")
	case c.dcRate <= 0 || c.dcBurst <= 0 || c.dcAbuse <= 0:
		return errors.New("webrtc: data channel limits must be positive")
	}
	return nil
}

// Option configures a Server.
type Option func(*config)

// WithICEServers sets the STUN/TURN servers given to the peers and used
// by the server itself. In production run coturn (see the package doc).
func WithICEServers(servers ...ICEServer) Option {
	return func(c *config) { c.iceServers = append(c.iceServers, servers...) }
}

// WithTURNSecret makes the server hand out time-limited TURN credentials
// for urls, derived from coturn's static-auth-secret (use-auth-secret), so
// no long-lived TURN password ever reaches an app.
func WithTURNSecret(secret string, urls ...string) Option {
	return func(c *config) { c.turnSecret, c.turnURLs = []byte(secret), urls }
}

// WithUDPPortRange limits the server's ICE UDP ports (firewall rules).
func WithUDPPortRange(min, max uint16) Option {
	return func(c *config) { c.portMin, c.portMax = min, max }
}

// WithNAT1To1IPs announces these public IPs as host candidates, for a
// server behind 1:1 NAT (cloud VMs) where STUN is not wanted.
func WithNAT1To1IPs(ips ...string) Option {
	return func(c *config) { c.nat1to1 = ips }
}

// WithTokenSecret sets the HMAC key for call tokens (at least 16 bytes).
// Without it a random key is made, valid for this process only.
func WithTokenSecret(secret []byte) Option {
	return func(c *config) { c.secret = append([]byte(nil), secret...) }
}

// WithTokenTTL sets how long a call token may be used to start a call.
func WithTokenTTL(d time.Duration) Option { return func(c *config) { c.tokenTTL = d } }

// WithMaxCalls limits concurrent calls (including ones being set up).
func WithMaxCalls(n int) Option { return func(c *config) { c.maxCalls = n } }

// WithLogger sets the logger; each call logs with call_id attached.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithClock injects the time source for token expiry and rate limits.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithICETimeouts sets how long connectivity may be lost before ICE
// reports disconnected and failed; a failed call ends.
func WithICETimeouts(disconnected, failed time.Duration) Option {
	return func(c *config) { c.disconnected, c.failed = disconnected, failed }
}

// WithConnectTimeout ends a call whose peer has not connected this long
// after the answer was sent.
func WithConnectTimeout(d time.Duration) Option { return func(c *config) { c.connectTimeout = d } }

// WithPlaybackBuffer sets how many 20 ms frames WriteFrame may queue
// ahead of real time; more means later barge-in after ClearPlayback is
// not called, fewer means WriteFrame blocks sooner.
func WithPlaybackBuffer(frames int) Option {
	return func(c *config) { c.playbackFrames = max(1, frames) }
}

// WithDataChannelLimits sets the inbound event rate (messages per second,
// burst) and how many dropped messages close the channel as abuse.
func WithDataChannelLimits(perSecond float64, burst, abuse int) Option {
	return func(c *config) { c.dcRate, c.dcBurst, c.dcAbuse = perSecond, burst, abuse }
}

// WithLoopbackOnly gathers only 127.0.0.1 candidates and turns mDNS off:
// for tests and local development on one machine.
func WithLoopbackOnly() Option { return func(c *config) { c.loopbackOnly = true } }
