package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotline-ivr/hotline/internal/redact"
	"github.com/hotline-ivr/hotline/telephony/codec"
	"github.com/hotline-ivr/hotline/telephony/media"
)

// CallHandler runs one answered call. The call's handler is its scope:
// when HandleCall returns, the call is hung up (BYE unless the caller
// already left) and its media is stopped and waited for. ctx is cancelled
// when the caller hangs up, the peer vanishes (no RTP) or shutdown's grace
// period ends; context.Cause tells which.
type CallHandler interface {
	HandleCall(ctx context.Context, call *Call) error
}

// HandlerFunc adapts a function to CallHandler.
type HandlerFunc func(ctx context.Context, call *Call) error

func (f HandlerFunc) HandleCall(ctx context.Context, call *Call) error { return f(ctx, call) }

// Server answers inbound SIP calls and hands each to the CallHandler.
type Server struct {
	// configuration (options)
	listens    []listenSpec
	publicHost string
	rtpIP      string
	rtpMin     int
	rtpMax     int
	allow      []netip.Prefix
	realm      string
	users      map[string]string
	noRTP      time.Duration
	ringTime   time.Duration
	maxCalls   int
	grace      time.Duration
	log        *slog.Logger
	metrics    Metrics
	codecs     []string
	uaName     string
	srtp       SRTPPolicy
	// session timers (RFC 4028)
	sessionExpires time.Duration // asked for when the INVITE names none; 0: none
	minSE          time.Duration

	handler  CallHandler
	nonceKey [32]byte

	ua         *sipgo.UserAgent
	srv        *sipgo.Server
	client     *sipgo.Client
	dialogs    map[string]*sipgo.DialogUA // by upper-case transport
	ports      *media.PortAllocator
	packet     []net.PacketConn
	listeners  []net.Listener
	streamNets []string // "tcp" or "tls", parallel to listeners
	addrs      map[string]net.Addr

	mu       sync.Mutex
	calls    map[string]*Call // by dialog ID
	draining bool
	drainC   chan struct{}
	calls0   chan struct{} // closed (and replaced) whenever calls becomes empty

	baseCtx    context.Context
	baseCancel context.CancelCauseFunc
	callWG     sync.WaitGroup
	serveWG    sync.WaitGroup
	closeOnce  sync.Once
}

// NewServer binds the listeners (so Addr works at once) and prepares the
// SIP stack; Serve runs it.
func NewServer(h CallHandler, opts ...Option) (*Server, error) {
	s := &Server{
		handler:  h,
		noRTP:    30 * time.Second,
		grace:    30 * time.Second,
		ringTime: 0,
		rtpMin:   20000,
		rtpMax:   20999,
		metrics:  nopMetrics{},
		codecs:   codec.Preferred,
		srtp:     SRTPOptional,
		uaName:   "hotline",
		calls:    map[string]*Call{},
		drainC:   make(chan struct{}),
		addrs:    map[string]net.Addr{},
		dialogs:  map[string]*sipgo.DialogUA{},
		nonceKey: newNonceKey(),
	}
	s.sessionExpires, s.minSE = 30*time.Minute, 90*time.Second
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if h == nil {
		return nil, errors.New("sip: nil CallHandler")
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	// Every line, ours and sipgo's, goes through the masking handler:
	// SIP user parts are phone numbers.
	s.log = slog.New(redact.NewHandler(s.log.Handler())).With("component", "sip")
	if len(s.listens) == 0 {
		s.listens = []listenSpec{{network: "udp", addr: ":5060"}, {network: "tcp", addr: ":5060"}}
	}
	for _, c := range s.codecs {
		if _, ok := codec.Lookup(c); !ok {
			return nil, fmt.Errorf("sip: codec %q: %w", c, codec.ErrUnsupported)
		}
	}
	var err error
	if s.ports, err = media.NewPortAllocator(s.rtpMin, s.rtpMax); err != nil {
		return nil, err
	}
	s.baseCtx, s.baseCancel = context.WithCancelCause(context.Background())
	s.calls0 = make(chan struct{})
	close(s.calls0)

	if err := s.bind(); err != nil {
		s.closeListeners()
		return nil, err
	}
	host := s.advertisedHost()
	s.ua, err = sipgo.NewUA(sipgo.WithUserAgent(s.uaName), sipgo.WithUserAgentHostname(host))
	if err != nil {
		s.closeListeners()
		return nil, err
	}
	s.srv, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(s.log.With("component", "sipgo")))
	if err != nil {
		s.ua.Close()
		s.closeListeners()
		return nil, err
	}
	s.client, err = sipgo.NewClient(s.ua, sipgo.WithClientHostname(host), sipgo.WithClientLogger(s.log.With("component", "sipgo")))
	if err != nil {
		s.ua.Close()
		s.closeListeners()
		return nil, err
	}
	for _, l := range s.listens {
		tp := strings.ToUpper(l.network)
		a := s.addrs[l.network]
		_, portStr, _ := net.SplitHostPort(a.String())
		port, _ := strconv.Atoi(portStr)
		uri := sip.Uri{Scheme: "sip", User: "hotline", Host: host, Port: port, UriParams: sip.NewParams()}
		if tp != "UDP" {
			uri.UriParams.Add("transport", strings.ToLower(tp))
		}
		// RewriteContact: without a proxy in front, send in-dialog
		// requests to where the INVITE came from, not to a Contact
		// that may be a private address behind NAT.
		s.dialogs[tp] = &sipgo.DialogUA{Client: s.client, ContactHDR: sip.ContactHeader{Address: uri}, RewriteContact: true}
	}
	s.srv.OnInvite(s.onInvite)
	s.srv.OnAck(s.onAck)
	s.srv.OnBye(s.onBye)
	s.srv.OnOptions(s.onOptions)
	s.srv.OnInfo(s.onInfo)
	s.srv.OnUpdate(s.onUpdate)
	s.srv.OnNotify(s.onNotify)
	s.srv.OnRefer(func(req *sip.Request, tx sip.ServerTransaction) { s.respond(tx, req, 405, "Method Not Allowed") })
	return s, nil
}

func (s *Server) bind() error {
	for _, l := range s.listens {
		switch l.network {
		case "udp":
			c, err := net.ListenPacket("udp", l.addr)
			if err != nil {
				return fmt.Errorf("sip: listen udp %s: %w", l.addr, err)
			}
			s.packet = append(s.packet, c)
			s.addrs["udp"] = c.LocalAddr()
		case "tcp":
			ln, err := net.Listen("tcp", l.addr)
			if err != nil {
				return fmt.Errorf("sip: listen tcp %s: %w", l.addr, err)
			}
			s.listeners = append(s.listeners, ln)
			s.streamNets = append(s.streamNets, "tcp")
			s.addrs["tcp"] = ln.Addr()
		case "tls":
			ln, err := tls.Listen("tcp", l.addr, l.tls)
			if err != nil {
				return fmt.Errorf("sip: listen tls %s: %w", l.addr, err)
			}
			s.listeners = append(s.listeners, ln)
			s.streamNets = append(s.streamNets, "tls")
			s.addrs["tls"] = ln.Addr()
		}
	}
	return nil
}

func (s *Server) closeListeners() {
	for _, c := range s.packet {
		c.Close()
	}
	for _, l := range s.listeners {
		l.Close()
	}
}

// advertisedHost is what goes in Contact and SDP.
func (s *Server) advertisedHost() string {
	if s.publicHost != "" {
		return s.publicHost
	}
	for _, a := range s.addrs {
		host, _, _ := net.SplitHostPort(a.String())
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			return host
		}
	}
	if s.rtpIP != "" && s.rtpIP != "0.0.0.0" {
		return s.rtpIP
	}
	return outboundIP()
}

func outboundIP() string {
	if ifs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range ifs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// mediaHost is the address in our SDP.
func (s *Server) mediaHost() string {
	if s.publicHost != "" {
		if ip := net.ParseIP(s.publicHost); ip != nil {
			return s.publicHost
		}
	}
	if s.rtpIP != "" && s.rtpIP != "0.0.0.0" && s.rtpIP != "::" {
		return s.rtpIP
	}
	return s.advertisedHost()
}

// Addr returns the bound address of a listener ("udp", "tcp", "tls").
func (s *Server) Addr(network string) net.Addr { return s.addrs[network] }

// ActiveCalls is the number of calls in progress.
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// PortsInUse is the number of RTP port pairs allocated (for leak checks).
func (s *Server) PortsInUse() int { return s.ports.InUse() }

// Serve runs until ctx is cancelled, then shuts down gracefully: new
// INVITEs and OPTIONS get 503 (a proxy in front stops routing here), calls
// in progress see Call.Draining and have the grace period to finish or
// transfer, then are hung up; Serve returns when all are gone.
func (s *Server) Serve(ctx context.Context) error {
	errC := make(chan error, len(s.packet)+len(s.listeners))
	for _, c := range s.packet {
		s.serveWG.Add(1)
		go func() { defer s.serveWG.Done(); errC <- s.srv.ServeUDP(c) }()
	}
	for i, l := range s.listeners {
		s.serveWG.Add(1)
		if s.streamNets[i] == "tls" {
			go func() { defer s.serveWG.Done(); errC <- s.srv.ServeTLS(l) }()
		} else {
			go func() { defer s.serveWG.Done(); errC <- s.srv.ServeTCP(l) }()
		}
	}
	s.log.Info("sip: serving", "listen", s.listenString(), "contact_host", s.advertisedHost(),
		"rtp_min", s.rtpMin, "rtp_max", s.rtpMax, "auth", len(s.users) > 0, "allow_list", len(s.allow), "srtp", string(s.srtp))
	var err error
	select {
	case <-ctx.Done():
	case err = <-errC:
		s.log.Error("sip: listener failed", "err", err)
	}
	s.shutdown()
	return err
}

func (s *Server) listenString() string {
	var parts []string
	for n, a := range s.addrs {
		parts = append(parts, n+"/"+a.String())
	}
	return strings.Join(parts, " ")
}

func (s *Server) shutdown() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.draining = true
		close(s.drainC)
		n := len(s.calls)
		empty := s.calls0
		s.mu.Unlock()
		s.log.Info("sip: shutting down", "calls", n, "grace", s.grace)
		select {
		case <-empty:
		case <-time.After(s.grace):
			s.log.Warn("sip: grace period over, hanging up calls in progress")
			s.baseCancel(ErrShuttingDown)
		}
		s.callWG.Wait()
		s.baseCancel(ErrShuttingDown)
		s.closeListeners()
		s.ua.Close()
		s.serveWG.Wait()
		s.log.Info("sip: stopped")
	})
}

func (s *Server) respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip: respond failed", "code", code, "err", err)
	}
}

func (s *Server) reject(tx sip.ServerTransaction, req *sip.Request, log *slog.Logger, err error, hdrs ...sip.Header) {
	code, reason := Status(err)
	s.metrics.InviteRejected(code)
	if errors.Is(err, ErrNotAcceptable) || errors.Is(err, ErrBadRequest) {
		// RFC 3261 §20.43: 304 is "media type not available" etc.,
		// 399 miscellaneous.
		code := 304
		if errors.Is(err, ErrBadRequest) {
			code = 399
		}
		msg := strings.NewReplacer(`"`, "'", "\r", " ", "\n", " ").Replace(err.Error())
		hdrs = append(hdrs, sip.NewHeader("Warning", fmt.Sprintf(`%d %s "%s"`, code, s.advertisedHost(), msg)))
	}
	if code == 503 {
		hdrs = append(hdrs, sip.NewHeader("Retry-After", "30"))
	}
	lvl := slog.LevelWarn
	if code == 401 {
		lvl = slog.LevelDebug // a normal first step of digest auth
	}
	log.Log(context.Background(), lvl, "sip: INVITE refused", "status", code, "reason", err.Error())
	s.respond(tx, req, code, reason, hdrs...)
}

// callLogger carries the call ID and masked parties.
func (s *Server) callLogger(req *sip.Request) *slog.Logger {
	l := s.log
	if id := req.CallID(); id != nil {
		l = l.With("call_id", id.Value())
	}
	return l.With("from", maskURI(req.From()), "to", maskURI(req.To()), "source", req.Source(), "transport", req.Transport())
}

func maskURI(h interface{ Value() string }) string {
	switch v := h.(type) {
	case *sip.FromHeader:
		if v == nil {
			return ""
		}
		return redact.Digits(v.Address.User) + "@" + v.Address.Host
	case *sip.ToHeader:
		if v == nil {
			return ""
		}
		return redact.Digits(v.Address.User) + "@" + v.Address.Host
	}
	return ""
}

func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if !s.allowed(req) {
		s.respond(tx, req, 403, "Forbidden")
		return
	}
	s.mu.Lock()
	draining := s.draining
	s.mu.Unlock()
	if draining {
		// Keep-alive probes from a dispatcher (Kamailio) see we are
		// going away and route new calls elsewhere.
		s.respond(tx, req, 503, "Service Unavailable", sip.NewHeader("Retry-After", "30"))
		return
	}
	s.respond(tx, req, 200, "OK",
		sip.NewHeader("Allow", allowMethods),
		sip.NewHeader("Accept", "application/sdp"),
		sip.NewHeader("Supported", "timer"))
}

func (s *Server) findCall(req *sip.Request) *Call {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if c := s.findCall(req); c != nil {
		c.takeAck(req) // before ReadAck: that wakes runCall, which reads the answer
		_ = c.dialog.ReadAck(req, tx)
	}
}

func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := s.findCall(req)
	if c == nil {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if err := c.dialog.ReadBye(req, tx); err != nil {
		c.log.Warn("sip: BYE refused", "err", err)
		s.respond(tx, req, 400, "Bad Request")
		return
	}
	c.end(ErrRemoteHangup)
}

func (s *Server) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	c := s.findCall(req)
	if c == nil {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(h.Value())
	}
	if key, ok := parseInfoDTMF(ct, req.Body()); ok {
		c.deliverDigit(media.Digit{Key: key})
	}
	s.respond(tx, req, 200, "OK")
}

// parseInfoDTMF reads application/dtmf-relay ("Signal=5\r\nDuration=160")
// and application/dtmf ("5") bodies.
func parseInfoDTMF(ct string, body []byte) (byte, bool) {
	var sig string
	switch {
	case strings.HasPrefix(ct, "application/dtmf-relay"):
		for _, line := range strings.Split(string(body), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				sig = strings.TrimSpace(v)
			}
		}
	case strings.HasPrefix(ct, "application/dtmf"):
		sig = strings.TrimSpace(string(body))
	default:
		return 0, false
	}
	if len(sig) != 1 {
		return 0, false
	}
	if _, err := media.EventCode(sig[0]); err != nil {
		return 0, false
	}
	k := sig[0]
	if k >= 'a' && k <= 'd' {
		k -= 'a' - 'A'
	}
	return k, true
}

func (s *Server) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	c := s.findCall(req)
	if c == nil {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	s.respond(tx, req, 200, "OK")
	c.deliverNotify(req)
}

func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	log := s.callLogger(req)
	if !s.allowed(req) {
		s.reject(tx, req, log, ErrForbidden)
		return
	}
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.onReInvite(req, tx, log)
		return
	}
	if chal, err := s.authenticate(req, time.Now()); err != nil {
		var hdrs []sip.Header
		if chal != "" {
			hdrs = append(hdrs, sip.NewHeader("WWW-Authenticate", chal))
		}
		s.reject(tx, req, log, err, hdrs...)
		return
	}
	s.mu.Lock()
	draining, n := s.draining, len(s.calls)
	s.mu.Unlock()
	if draining {
		s.reject(tx, req, log, ErrShuttingDown)
		return
	}
	if s.maxCalls > 0 && n >= s.maxCalls {
		s.reject(tx, req, log, ErrBusy)
		return
	}
	tr, err := readTimer(req)
	if err != nil {
		s.reject(tx, req, log, err)
		return
	}
	tm, err := s.negotiateTimer(tr, 0)
	if err != nil {
		s.reject(tx, req, log, err, s.tooSmall()...)
		return
	}
	if len(req.Body()) == 0 {
		// Late offer (RFC 3261 §13.2.1): our offer goes in the 200,
		// the caller's answer comes in the ACK.
		s.runCall(req, tx, nil, nil, tm, log)
		return
	}
	off, err := parseOffer(req.Body(), s.codecs, "")
	if err != nil {
		s.reject(tx, req, log, err)
		return
	}
	keys, err := negotiateSRTP(off, s.srtp, false, nil)
	if err != nil {
		s.reject(tx, req, log, err)
		return
	}
	s.runCall(req, tx, &off, keys, tm, log)
}

func (s *Server) onReInvite(req *sip.Request, tx sip.ServerTransaction, log *slog.Logger) {
	c := s.findCall(req)
	if c == nil {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	c.reInvite(req, tx)
}
