// Package sipload places SIP calls with real-time RTP against a server
// and measures them from the caller's side of the wire: set-up time
// (INVITE → 200), the server's packet stream (loss, late packets) and the
// bot's voice-to-voice latency from packet timestamps. cmd/sipload is its
// command line; cmd/benchmark drives it against an in-process server.
//
// A call: INVITE with an SDP offer of one codec plus telephone-event,
// ACK, then RTP every 20 ms both ways until the hold time ends (we send
// BYE) or the server hangs up. With a question, the caller presses the
// keys, waits for the bot to be quiet, says the question, and listens to
// the reply; voice-to-voice is the arrival of the reply's first speech
// packet minus the send of the question's last speech packet (speech:
// a decoded 20 ms frame at or above SpeechDBFS).
package sipload

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/telephony/codec"
)

// Caps keep a mistyped command from flooding anything.
const (
	MaxConcurrent = 1000
	MaxTotal      = 100000
	MaxRun        = 30 * time.Minute
)

// Config is one load run. Zero fields take defaults.
type Config struct {
	Target  string  // host:port of the SIP server (UDP)
	Calls   int     // concurrent calls (default 1)
	Total   int     // calls to place in all (default Calls)
	Rate    float64 // call attempts per second (default 10)
	Codec   string  // "G722" or "PCMU" (default G722)
	LocalIP string  // address for SIP and RTP (default 127.0.0.1)
	// Question is what the caller says (any rate; resampled to the
	// codec's). Without it the caller streams Loop (or silence) for Hold.
	Question     audio.Frame
	Loop         audio.Frame
	DTMF         string        // keys pressed first, e.g. "2"
	DTMFDelay    time.Duration // after the answer (default 1.5 s)
	Hold         time.Duration // call length without a question (default 10 s)
	QuietGap     time.Duration // bot silence that ends its turn (default 1 s)
	ReplyTimeout time.Duration // longest wait for the bot (default 30 s)
	SetupTimeout time.Duration // INVITE → 200 (default 10 s)
	MaxDuration  time.Duration // whole run (default and cap MaxRun)
	Log          *slog.Logger
}

func (c *Config) defaults() error {
	if c.Calls <= 0 {
		c.Calls = 1
	}
	if c.Total <= 0 {
		c.Total = c.Calls
	}
	if c.Calls > MaxConcurrent || c.Total > MaxTotal {
		return fmt.Errorf("%w: at most %d concurrent and %d total calls", ErrConfig, MaxConcurrent, MaxTotal)
	}
	if c.Rate <= 0 {
		c.Rate = 10
	}
	if c.Codec == "" {
		c.Codec = "G722"
	}
	c.Codec = strings.ToUpper(c.Codec)
	if c.LocalIP == "" {
		c.LocalIP = "127.0.0.1"
	}
	if c.DTMFDelay <= 0 {
		c.DTMFDelay = 1500 * time.Millisecond
	}
	if c.Hold <= 0 {
		c.Hold = 10 * time.Second
	}
	if c.QuietGap <= 0 {
		c.QuietGap = time.Second
	}
	if c.ReplyTimeout <= 0 {
		c.ReplyTimeout = 30 * time.Second
	}
	if c.SetupTimeout <= 0 {
		c.SetupTimeout = 10 * time.Second
	}
	if c.MaxDuration <= 0 || c.MaxDuration > MaxRun {
		c.MaxDuration = MaxRun
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

type runner struct {
	cfg    Config
	codec  codecInfo
	target netip.AddrPort
	dc     *sipgo.DialogClientCache

	question, loop []encoded
	silence        encoded
}

// Run places the calls and returns the report. It stops by itself after
// Total calls or MaxDuration, and early when ctx ends (calls in progress
// are hung up).
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.defaults(); err != nil {
		return Report{}, err
	}
	info, ok := codec.Lookup(cfg.Codec)
	if !ok || info.Name == "PCMA" {
		return Report{}, fmt.Errorf("%w: codec %q (want G722 or PCMU)", ErrConfig, cfg.Codec)
	}
	target, err := netip.ParseAddrPort(cfg.Target)
	if err != nil {
		return Report{}, fmt.Errorf("%w: target %q: want ip:port", ErrConfig, cfg.Target)
	}
	r := &runner{cfg: cfg, target: target, codec: codecInfo{name: info.Name, pt: info.PayloadType, clock: info.ClockRate}}
	if err := r.encode(info.Name, info.SampleRate); err != nil {
		return Report{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.MaxDuration)
	defer cancel()

	// One SIP socket for all calls, as a trunk would.
	conn, err := net.ListenPacket("udp", net.JoinHostPort(cfg.LocalIP, "0"))
	if err != nil {
		return Report{}, err
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("hotline-sipload"), sipgo.WithUserAgentHostname(cfg.LocalIP))
	if err != nil {
		conn.Close()
		return Report{}, err
	}
	defer ua.Close()
	defer conn.Close()
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return Report{}, err
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname(cfg.LocalIP), sipgo.WithClientPort(port),
		sipgo.WithClientLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return Report{}, err
	}
	r.dc = sipgo.NewDialogClientCache(client, sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: "sipload", Host: cfg.LocalIP, Port: port}})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := r.dc.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}
	})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	serveDone := make(chan struct{})
	go func() {
		defer close(serveDone)
		_ = srv.ServeUDP(conn)
	}()
	defer func() { conn.Close(); <-serveDone }()

	rep := Report{Config: summaryConfig(cfg), Started: time.Now()}
	results := make([]CallResult, 0, cfg.Total)
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, cfg.Calls)
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	next := time.Now()
launch:
	for i := range cfg.Total {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			break launch
		}
		if d := time.Until(next); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				<-slots
				break launch
			}
		}
		next = next.Add(interval)
		if time.Until(next) < -time.Second {
			next = time.Now() // the concurrency cap held us back: no burst
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			res := r.call(ctx, i)
			if res.Err != "" {
				cfg.Log.Debug("call failed", "id", i, "err", res.Err)
			}
			mu.Lock()
			results = append(results, res)
			mu.Unlock()
		}()
	}
	wg.Wait()
	rep.Wall = time.Since(rep.Started)
	rep.Calls = results
	rep.Summary = summarize(results, rep.Wall)
	return rep, nil
}

// encode prepares the caller's audio once for all calls: the question,
// the loop and a steady silence frame, in one encoder pass each.
func (r *runner) encode(name string, rate int) error {
	cd, err := codec.New(name)
	if err != nil {
		return err
	}
	defer cd.Close()
	enc := func(frames []audio.Frame) []encoded {
		out := make([]encoded, len(frames))
		for i, f := range frames {
			out[i] = encoded{payload: cd.Encode(nil, f), speech: audio.RMSdBFS(f.Samples) >= SpeechDBFS}
		}
		return out
	}
	q, err := split(r.cfg.Question, rate)
	if err != nil {
		return err
	}
	l, err := split(r.cfg.Loop, rate)
	if err != nil {
		return err
	}
	r.question, r.loop = enc(q), enc(l)
	// An ADPCM encoder settles on silence after a few frames; the last
	// of ten is what it keeps sending.
	zero := audio.Frame{Rate: rate, Samples: make([]int16, audio.SamplesPerFrame(rate))}
	sil := enc([]audio.Frame{zero, zero, zero, zero, zero, zero, zero, zero, zero, zero})
	r.silence = sil[len(sil)-1]
	return nil
}

func split(f audio.Frame, rate int) ([]audio.Frame, error) {
	if len(f.Samples) == 0 {
		return nil, nil
	}
	s := f.Samples
	if f.Rate != rate {
		var err error
		if s, err = audio.Resample(s, f.Rate, rate); err != nil {
			return nil, fmt.Errorf("%w: audio: %v", ErrConfig, err)
		}
	}
	// Pad to whole frames: the codecs encode exactly 20 ms.
	n := audio.SamplesPerFrame(rate)
	s = append(s[:len(s):len(s)], make([]int16, (n-len(s)%n)%n)...)
	return audio.Split(s, rate), nil
}
