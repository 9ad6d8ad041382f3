package sip

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/telephony/codec"
	"github.com/hotline-ivr/hotline/telephony/media"
)

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("SIP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// checkGoroutines fails the test if goroutines started during it are
// still running a few seconds after it ends.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := liveGoroutines()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for liveGoroutines() > before && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := liveGoroutines(); n > before {
			buf := make([]byte, 1<<20)
			t.Errorf("goroutine leak: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
}

// callerConnReader is the reader of a UDP connection sipgo's client opens
// for one request. The test caller opens one per request (WithClientPort
// turns connection reuse off), and sipgo v1.7.2 sometimes drops such a
// connection from its pool while its reference count goes negative ("UDP
// ref went negative" in the log), after which UA.Close no longer closes
// it. The server under test answers on its listeners and sends its
// requests on them when the peer's address is known to them; a request
// connection of its own would be left out of the count as well, so its
// calls and RTP ports are checked on their own (startServer).
const callerConnReader = "sipgo/sip.(*TransportUDP).readUDPConnection"

// liveGoroutines counts goroutines other than callerConnReader ones.
func liveGoroutines() int {
	buf := make([]byte, 1<<20)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if !strings.Contains(g, callerConnReader) {
			n++
		}
	}
	return n
}

// recorder is the test CallHandler: it plays a tone, records how many
// loud frames it hears and which digits arrive, and stays until the call
// ends (or act returns).
type recorder struct {
	mu      sync.Mutex
	loud    int
	digits  []byte
	calls   int
	cause   error
	held    []bool
	stats   Stats
	ended   chan struct{}
	started chan *Call
	act     func(ctx context.Context, c *Call) error
}

func newRecorder() *recorder {
	return &recorder{ended: make(chan struct{}, 16), started: make(chan *Call, 16)}
}

func (r *recorder) HandleCall(ctx context.Context, c *Call) error {
	r.mu.Lock()
	r.calls++
	r.mu.Unlock()
	r.started <- c
	defer func() {
		r.mu.Lock()
		r.cause = context.Cause(ctx)
		r.stats = c.Stats()
		r.mu.Unlock()
		r.ended <- struct{}{}
	}()
	go func() {
		// 1 s of 440 Hz at 16 kHz; the call converts to its codec rate.
		var ph float64
		for range 50 {
			s := make([]int16, 320)
			for i := range s {
				s[i] = int16(8000 * math.Sin(ph))
				ph += 2 * math.Pi * 440 / 16000
			}
			if c.WriteFrame(audio.Frame{Rate: 16000, Samples: s}) != nil {
				return
			}
		}
	}()
	if r.act != nil {
		go func() { _ = r.act(ctx, c) }()
	}
	for {
		select {
		case d := <-c.DTMF():
			r.mu.Lock()
			r.digits = append(r.digits, d.Key)
			r.mu.Unlock()
			continue
		case h := <-c.HoldChanges():
			r.mu.Lock()
			r.held = append(r.held, h)
			r.mu.Unlock()
			continue
		default:
		}
		f, err := c.ReadFrame()
		if err != nil {
			return nil
		}
		if audio.RMSdBFS(f.Samples) > -30 {
			r.mu.Lock()
			r.loud++
			r.mu.Unlock()
		}
	}
}

func (r *recorder) snapshot() (loud int, digits string, cause error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loud, string(r.digits), r.cause
}

// startServer runs a Server on loopback and stops it at cleanup, checking
// that no call, port or goroutine is left.
func startServer(t *testing.T, h CallHandler, opts ...Option) (*Server, context.CancelFunc) {
	t.Helper()
	base := []Option{WithListen("udp", "127.0.0.1:0"), WithListen("tcp", "127.0.0.1:0"),
		WithRTP("127.0.0.1", 32000, 32999), WithLogger(testLogger(t)), WithShutdownGrace(2 * time.Second)}
	s, err := NewServer(h, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("Serve did not return")
		}
		if n := s.ActiveCalls(); n != 0 {
			t.Errorf("%d calls left", n)
		}
		if n := s.PortsInUse(); n != 0 {
			t.Errorf("%d RTP ports left", n)
		}
	})
	return s, cancel
}

// caller is an in-process SIP user agent placing calls (sipgo client side).
type caller struct {
	t      *testing.T
	ua     *sipgo.UserAgent
	client *sipgo.Client
	srv    *sipgo.Server
	dc     *sipgo.DialogClientCache
	conn   net.PacketConn
	ln     net.Listener
	port   int
	ports  *media.PortAllocator

	byes    chan *sip.Request
	refers  chan *sip.Request
	onRefer func(req *sip.Request, tx sip.ServerTransaction)
	// In-dialog INVITE (our refresh re-INVITE) and UPDATE from the
	// server; unset: 405. Set them before placing the call.
	onInvite func(req *sip.Request, tx sip.ServerTransaction)
	onUpdate func(req *sip.Request, tx sip.ServerTransaction)
	acks     chan *sip.Request // ACKs of our 200s to the server's re-INVITEs
}

func newCaller(t *testing.T) *caller {
	t.Helper()
	c := &caller{t: t, byes: make(chan *sip.Request, 4), refers: make(chan *sip.Request, 4), acks: make(chan *sip.Request, 16)}
	c.conn, c.ln, c.port = udpAndTCPOnOnePort(t)
	c.ua, _ = sipgo.NewUA(sipgo.WithUserAgent("test-caller"), sipgo.WithUserAgentHostname("127.0.0.1"))
	c.srv, _ = sipgo.NewServer(c.ua, sipgo.WithServerLogger(testLogger(t)))
	c.client, _ = sipgo.NewClient(c.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(c.port),
		sipgo.WithClientLogger(testLogger(t)))
	c.dc = sipgo.NewDialogClientCache(c.client, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "caller", Host: "127.0.0.1", Port: c.port}})
	c.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		c.byes <- req
		if err := c.dc.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "No dialog", nil))
		}
	})
	c.srv.OnRefer(func(req *sip.Request, tx sip.ServerTransaction) {
		c.refers <- req
		if c.onRefer != nil {
			c.onRefer(req, tx)
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 603, "Decline", nil))
	})
	for _, m := range []struct {
		method sip.RequestMethod
		h      *func(*sip.Request, sip.ServerTransaction)
	}{{sip.INVITE, &c.onInvite}, {sip.UPDATE, &c.onUpdate}} {
		c.srv.OnRequest(m.method, func(req *sip.Request, tx sip.ServerTransaction) {
			if *m.h == nil {
				_ = tx.Respond(sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil))
				return
			}
			(*m.h)(req, tx)
		})
	}
	c.srv.OnAck(func(req *sip.Request, _ sip.ServerTransaction) {
		select {
		case c.acks <- req:
		default:
		}
	})
	c.ports, _ = media.NewPortAllocator(33000, 33999)
	go c.srv.ServeUDP(c.conn)
	go c.srv.ServeTCP(c.ln)
	t.Cleanup(func() {
		c.ua.Close()
		c.conn.Close()
		c.ln.Close()
	})
	return c
}

// offer builds an SDP offer and a media session for it.
func (c *caller) media(codecName string, dtmf uint8, dir media.Direction) (*media.Session, []byte) {
	c.t.Helper()
	cd, err := codec.New(codecName)
	if err != nil {
		c.t.Fatal(err)
	}
	r, rc, err := c.ports.Listen("127.0.0.1")
	if err != nil {
		c.t.Fatal(err)
	}
	s, err := media.NewSession(media.Config{Codec: cd, DTMFPayloadType: dtmf, RTP: r, RTCP: rc})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { s.Close() })
	info, _ := codec.Lookup(codecName)
	// Offer every codec, the wanted one first in the line: the server
	// must still apply its own preference.
	body := string(buildAnswer("127.0.0.1", s.LocalPort(), 42, 1, info, dtmf, dir))
	if codecName == "G722" {
		body = strings.Replace(body, "RTP/AVP 9", "RTP/AVP 0 8 9", 1)
	}
	return s, []byte(body)
}

func (c *caller) invite(ctx context.Context, srv *Server, transport string, body []byte, hdrs ...sip.Header) (*sipgo.DialogClientSession, error) {
	addr := srv.Addr(strings.ToLower(transport)).(interface{ String() string }).String()
	ap := netip.MustParseAddrPort(addr)
	uri := sip.Uri{Scheme: "sip", User: "+79161234567", Host: "127.0.0.1", Port: int(ap.Port()), UriParams: sip.NewParams()}
	if transport != "udp" {
		uri.UriParams.Add("transport", transport)
	}
	hdrs = append(hdrs, sip.NewHeader("Content-Type", "application/sdp"))
	if transport == "tcp" {
		contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "caller", Host: "127.0.0.1", Port: c.port, UriParams: sip.NewParams()}}
		contact.Address.UriParams.Add("transport", "tcp")
		hdrs = append(hdrs, &contact)
	}
	return c.dc.Invite(ctx, uri, body, hdrs...)
}

// remoteMedia points the caller's session at the server's SDP answer.
func remoteMedia(t *testing.T, s *media.Session, answer []byte) offer {
	t.Helper()
	o, err := parseOffer(answer, codec.Preferred, "")
	if err != nil {
		t.Fatalf("answer: %v\n%s", err, answer)
	}
	s.SetRemote(o.remote)
	return o
}

func tone16k(frames int) []audio.Frame {
	var out []audio.Frame
	var ph float64
	for range frames {
		s := make([]int16, 320)
		for i := range s {
			s[i] = int16(8000 * math.Sin(ph))
			ph += 2 * math.Pi * 600 / 16000
		}
		out = append(out, audio.Frame{Rate: 16000, Samples: s})
	}
	return out
}

// udpAndTCPOnOnePort listens on one port number for both transports (the
// caller's Contact and Via name one port). The kernel picks UDP and TCP
// ports independently, so the UDP port's number may be taken for TCP, by
// an outgoing connection of another test binary running alongside; such
// a port is given back and another one tried.
func udpAndTCPOnOnePort(t *testing.T) (net.PacketConn, net.Listener, int) {
	t.Helper()
	var lastErr error
	for range 50 {
		conn, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := conn.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			return conn, ln, port
		}
		conn.Close()
		lastErr = err
	}
	t.Fatalf("no port free for both UDP and TCP: %v", lastErr)
	return nil, nil, 0
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
