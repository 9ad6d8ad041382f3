package webrtc

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/hotline-ivr/hotline/audio"
)

// Server answers in-app calls: it checks call tokens, answers SDP offers,
// and runs each call's handler until it returns.
type Server struct {
	h      CallHandler
	cfg    config
	log    *slog.Logger
	secret []byte

	base   context.Context
	stop   context.CancelCauseFunc
	mu     sync.Mutex
	calls  map[string]*Call
	setup  int // offers being answered, counted against maxCalls
	used   map[string]time.Time
	closed bool
	wg     sync.WaitGroup
}

// New creates a server that runs h for every call.
func New(h CallHandler, opts ...Option) (*Server, error) {
	if h == nil {
		return nil, errors.New("webrtc: nil call handler")
	}
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	secret := cfg.secret
	if secret == nil {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	base, stop := context.WithCancelCause(context.Background())
	return &Server{
		h: h, cfg: cfg, log: cfg.log, secret: secret,
		base: base, stop: stop,
		calls: map[string]*Call{}, used: map[string]time.Time{},
	}, nil
}

// ActiveCalls is the number of running calls.
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Close refuses new calls, ends the running ones with ErrServerClosed and
// waits for their handlers and media to stop. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stop(ErrServerClosed)
	s.wg.Wait()
	return nil
}

func (s *Server) settingEngine() (webrtc.SettingEngine, error) {
	var se webrtc.SettingEngine
	se.SetICETimeouts(s.cfg.disconnected, s.cfg.failed, time.Second)
	se.SetSTUNGatherTimeout(s.cfg.gatherTimeout)
	if s.cfg.portMax > 0 {
		if err := se.SetEphemeralUDPPortRange(s.cfg.portMin, s.cfg.portMax); err != nil {
			return se, err
		}
	}
	if len(s.cfg.nat1to1) > 0 {
		se.SetNAT1To1IPs(s.cfg.nat1to1, webrtc.ICECandidateTypeHost)
	}
	if s.cfg.loopbackOnly {
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	}
	return se, nil
}

func (s *Server) peerConnection(vc *voiceCodec) (*webrtc.PeerConnection, error) {
	var m webrtc.MediaEngine
	if err := m.RegisterCodec(vc.cap, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	var ir interceptor.Registry
	if err := webrtc.RegisterDefaultInterceptors(&m, &ir); err != nil {
		return nil, err
	}
	se, err := s.settingEngine()
	if err != nil {
		return nil, err
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(&m), webrtc.WithInterceptorRegistry(&ir), webrtc.WithSettingEngine(se))
	var ice []webrtc.ICEServer
	for _, is := range s.iceServersFor("hotline-server", s.cfg.now()) {
		ice = append(ice, webrtc.ICEServer{URLs: is.URLs, Username: is.Username, Credential: is.Credential})
	}
	return api.NewPeerConnection(webrtc.Configuration{ICEServers: ice})
}

// Offer starts a call from an app's SDP offer, authorised by a call token
// (WHIP: the token is the bearer credential). It returns the call id and
// the SDP answer, which carries all of the server's candidates; the app
// may trickle its own with AddCandidates.
func (s *Server) Offer(ctx context.Context, token string, offer []byte) (string, []byte, error) {
	cl, err := s.parseToken(token, false)
	if err != nil {
		return "", nil, err
	}
	s.mu.Lock()
	switch {
	case s.closed:
		err = ErrServerClosed
	case s.isUsedLocked(cl.CallID):
		err = ErrTokenReused
	case len(s.calls)+s.setup >= s.cfg.maxCalls:
		err = ErrTooManyCalls
	default:
		err = s.claimLocked(cl)
	}
	if err != nil {
		s.mu.Unlock()
		return "", nil, err
	}
	s.setup++
	s.mu.Unlock()

	c, answer, err := s.answer(ctx, cl, string(offer))
	s.mu.Lock()
	s.setup--
	if err == nil && s.closed {
		err = ErrServerClosed
	}
	if err != nil {
		// A rejected offer does not use up the token: the app may fix
		// its offer and retry while the token lasts.
		delete(s.used, cl.CallID)
		s.mu.Unlock()
		if c != nil {
			c.cancel(err)
			c.teardown()
		}
		return "", nil, err
	}
	s.calls[c.ID] = c
	s.wg.Add(1)
	s.mu.Unlock()
	go s.run(c)
	return c.ID, answer, nil
}

// Accept starts a server-initiated leg without a call token: the caller
// of Accept has authenticated the peer itself (an agent's desk session
// joining a caller it holds). The leg runs h instead of the server's
// handler and counts against max calls like any call; subject names the
// peer (e.g. "agent:alice"). It returns the new call's id and the SDP
// answer.
func (s *Server) Accept(ctx context.Context, subject string, offer []byte, h CallHandler) (string, []byte, error) {
	if h == nil || subject == "" {
		return "", nil, errors.New("webrtc: accept needs a handler and a subject")
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return "", nil, ErrServerClosed
	case len(s.calls)+s.setup >= s.cfg.maxCalls:
		s.mu.Unlock()
		return "", nil, ErrTooManyCalls
	}
	s.setup++
	s.mu.Unlock()
	c, answer, err := s.answer(ctx, claims{Subject: subject, CallID: newID()}, string(offer))
	s.mu.Lock()
	s.setup--
	if err == nil && s.closed {
		err = ErrServerClosed
	}
	if err != nil {
		s.mu.Unlock()
		if c != nil {
			c.cancel(err)
			c.teardown()
		}
		return "", nil, err
	}
	c.h = h
	s.calls[c.ID] = c
	s.wg.Add(1)
	s.mu.Unlock()
	go s.run(c)
	return c.ID, answer, nil
}

func (s *Server) answer(ctx context.Context, cl claims, offer string) (*Call, []byte, error) {
	name, err := chooseCodec(offer)
	if err != nil {
		return nil, nil, err
	}
	vc, err := newVoiceCodec(name)
	if err != nil {
		return nil, nil, err
	}
	pc, err := s.peerConnection(vc)
	if err != nil {
		_ = vc.close()
		return nil, nil, fmt.Errorf("webrtc: peer connection: %w", err)
	}
	cctx, cancel := context.WithCancelCause(s.base)
	c := &Call{
		ID: cl.CallID, Subject: cl.Subject, srv: s,
		log: s.log.With("call_id", cl.CallID), ctx: cctx, cancel: cancel, pc: pc, codec: vc,
		start:     s.cfg.now(),
		in:        make(chan audio.Frame, 50),
		out:       make(chan audio.Frame, s.cfg.playbackFrames),
		dtmf:      make(chan Digit, 16),
		text:      make(chan string, 16),
		connected: make(chan struct{}),
		released:  make(chan struct{}),
		limiter:   bucket{rate: s.cfg.dcRate, burst: float64(s.cfg.dcBurst)},
	}
	c.track, err = webrtc.NewTrackLocalStaticSample(vc.cap.RTPCodecCapability, "audio", "hotline")
	if err != nil {
		return c, nil, err
	}
	sender, err := pc.AddTrack(c.track)
	if err != nil {
		return c, nil, err
	}
	c.spawn(func() { drainRTCP(sender) })
	pc.OnConnectionStateChange(c.onState)
	pc.OnDataChannel(c.onDataChannel)
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		// Only the first audio track is the caller; pion stops reading
		// the others when the connection closes.
		if tr.Kind() != webrtc.RTPCodecTypeAudio || !c.gotTrack.CompareAndSwap(false, true) {
			return
		}
		c.spawn(func() { c.receive(tr) })
	})

	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return c, nil, errors.Join(ErrMalformedSDP, err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return c, nil, errors.Join(ErrMalformedSDP, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return c, nil, fmt.Errorf("webrtc: set local description: %w", err)
	}
	// The answer carries the server's candidates (WHIP has no channel to
	// trickle them back); host candidates are immediate, STUN/TURN ones
	// are bounded by the gather timeout.
	t := time.NewTimer(s.cfg.gatherTimeout + time.Second)
	defer t.Stop()
	select {
	case <-gathered:
	case <-t.C:
		c.log.Warn("ICE gathering incomplete; answering with what was gathered")
	case <-ctx.Done():
		return c, nil, ctx.Err()
	}
	c.spawn(c.play)
	c.spawn(func() { c.watchConnect(s.cfg.connectTimeout) })
	return c, []byte(pc.LocalDescription().SDP), nil
}

// run is the call's owner: handler, then teardown, then bookkeeping.
func (s *Server) run(c *Call) {
	defer s.wg.Done()
	c.log.Info("webrtc call started", "subject", c.Subject, "codec", c.codec.name)
	err := s.invoke(c)
	c.cancel(context.Canceled)
	c.teardown()
	s.mu.Lock()
	delete(s.calls, c.ID)
	s.mu.Unlock()
	close(c.released)
	cause := context.Cause(c.ctx)
	if errors.Is(cause, context.Canceled) {
		cause = nil // the handler ended the call itself
	}
	st := c.Stats()
	c.log.Info("webrtc call ended", "duration", s.cfg.now().Sub(c.start).Round(time.Millisecond),
		"cause", errString(cause), "handler_err", errString(err),
		"packets_in", st.PacketsIn, "packets_lost", st.PacketsLost, "frames_out", st.FramesOut)
}

func (s *Server) invoke(c *Call) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("webrtc: handler panic: %v", r)
			c.log.Error("call handler panicked", "panic", r)
		}
	}()
	if c.h != nil {
		return c.h.HandleCall(c.ctx, c)
	}
	return s.h.HandleCall(c.ctx, c)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Call returns the live call with id, or nil (for legs started by
// Accept, which have no token to look them up with).
func (s *Server) Call(id string) *Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

// lookup finds a live call for a token; expired tokens are accepted, as a
// call outlives its token.
func (s *Server) lookup(token, callID string) (*Call, error) {
	cl, err := s.parseToken(token, true)
	if err != nil {
		return nil, err
	}
	if cl.CallID != callID {
		return nil, ErrBadToken
	}
	s.mu.Lock()
	c := s.calls[callID]
	s.mu.Unlock()
	if c == nil {
		return nil, ErrUnknownCall
	}
	return c, nil
}

// Hangup ends a call on the app's request and waits until it is torn down.
func (s *Server) Hangup(ctx context.Context, token, callID string) error {
	c, err := s.lookup(token, callID)
	if err != nil {
		return err
	}
	c.cancel(ErrHangup)
	select {
	case <-c.released:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// AddCandidates applies a trickle ICE fragment (RFC 8840,
// application/trickle-ice-sdpfrag) from the app.
func (s *Server) AddCandidates(token, callID string, frag []byte) error {
	c, err := s.lookup(token, callID)
	if err != nil {
		return err
	}
	var mid *string
	sc := bufio.NewScanner(strings.NewReader(string(frag)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "a=mid:"):
			m := strings.TrimPrefix(line, "a=mid:")
			mid = &m
		case strings.HasPrefix(line, "a=candidate:"):
			cand := webrtc.ICECandidateInit{Candidate: strings.TrimPrefix(line, "a="), SDPMid: mid}
			if err := c.pc.AddICECandidate(cand); err != nil {
				return errors.Join(ErrBadCandidate, err)
			}
		case line == "a=end-of-candidates":
			// pion needs no explicit end marker.
		}
	}
	return nil
}
