package sip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/telephony/codec"
	"github.com/hotline-ivr/hotline/telephony/media"
)

// Digit is a DTMF key from the caller (RFC 4733 or SIP INFO).
type Digit = media.Digit

// Stats are the call's media counters.
type Stats = media.Stats

// Call is one answered inbound call. Its methods are safe for concurrent
// use, but audio should be read by one goroutine and written by one.
type Call struct {
	// ID is the SIP Call-ID.
	ID string
	// From and To are the user parts of the From/To URIs: phone numbers.
	// Never log them unmasked (internal/redact).
	From, To string
	// Headers of the INVITE the application may route on (X-*, Diversion,
	// P-Asserted-Identity), keyed by canonical name.
	Headers map[string]string

	srv    *Server
	dialog *sipgo.DialogServerSession
	dua    *sipgo.DialogUA
	sess   *media.Session
	codec  codec.Info
	dtmfPT uint8
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelCauseFunc
	start  time.Time

	dtmf    chan Digit
	notifyC chan *sip.Request
	holdC   chan bool

	lateOffer   bool          // INVITE without SDP: our offer in the 200, the answer in the ACK
	allowUpdate bool          // the caller's INVITE allows UPDATE (our session refreshes; the timer goroutine's after the answer)
	timerKick   chan struct{} // the session timer was renegotiated or refreshed
	reqMu       sync.Mutex    // our in-dialog requests one at a time (the ACK of a re-INVITE takes its CSeq)
	offerMu     sync.Mutex    // the peer's re-offers (re-INVITE, UPDATE) one at a time

	mu           sync.Mutex
	held         bool
	rate         int // PCM rate of ReadFrame: the first codec's, for the whole call
	sessID       uint64
	sdpVersion   uint64
	lastSDP      []byte // the last SDP we sent: an unchanged session keeps its version
	proto        string // of our last answer (or late offer)
	srtp         *sdes  // nil: plain RTP
	ackSeen      bool   // late offer: the INVITE's ACK arrived
	ackSDP       []byte // late offer: its body, the caller's answer
	offerPending bool   // our re-INVITE's offer awaits its answer (glare: 491)
	timer        timerState
	byeCause     int // non-zero: the final BYE carries a Reason with this cause and byeText
	byeText      string
}

// Codec is the codec in use ("G722", "PCMU", "PCMA"); a re-INVITE may
// change it (SampleRate does not change).
func (c *Call) Codec() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.codec.Name
}

// SRTP is the SRTP suite protecting the call's media ("AES_CM_128_HMAC_SHA1_80",
// ...), or "" for plain RTP.
func (c *Call) SRTP() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srtp == nil {
		return ""
	}
	return string(c.srtp.local.Suite)
}

// SampleRate is the PCM rate of ReadFrame (16000 for a call answered in
// G.722, else 8000). It stays the same for the whole call: after a codec
// change by re-INVITE the media converts.
func (c *Call) SampleRate() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rate
}

// Logger is the call's logger (call_id and masked parties attached).
func (c *Call) Logger() *slog.Logger { return c.log }

// ReadFrame returns the caller's next 20 ms of audio at SampleRate,
// jitter-buffered and concealed, one per 20 ms of real time. It returns
// ErrCallEnded once the call is over.
func (c *Call) ReadFrame() (audio.Frame, error) {
	f, err := c.sess.ReadFrameContext(c.ctx)
	if err != nil {
		return audio.Frame{}, fmt.Errorf("%w: %w", ErrCallEnded, context.Cause(c.ctx))
	}
	return f, nil
}

// WriteFrame queues audio for the caller (any of 8/16/48 kHz, any length);
// the media sender paces it at real time, so WriteFrame blocks while
// 200 ms are queued.
func (c *Call) WriteFrame(f audio.Frame) error {
	if c.ctx.Err() != nil {
		return ErrCallEnded
	}
	if err := c.sess.WriteFrame(f); err != nil {
		return ErrCallEnded
	}
	return nil
}

// Flush pads and queues a partial trailing frame (end of a prompt).
func (c *Call) Flush() error { return c.sess.Flush() }

// ClearPlayback drops queued audio immediately (barge-in) and returns the
// number of frames dropped.
func (c *Call) ClearPlayback() int { return c.sess.ClearPlayback() }

// Queued is the number of 20 ms frames not yet sent.
func (c *Call) Queued() int { return c.sess.Queued() }

// DTMF delivers the caller's key presses.
func (c *Call) DTMF() <-chan Digit { return c.dtmf }

// SendDTMF plays a key to the caller as an RFC 4733 event.
func (c *Call) SendDTMF(key byte) error { return c.sess.SendDTMF(key, 0) }

// Held reports whether the caller put the call on hold (re-INVITE with
// sendonly/inactive); the pipeline pauses the ASR feed meanwhile.
func (c *Call) Held() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held
}

// HoldChanges delivers the new hold state on every change.
func (c *Call) HoldChanges() <-chan bool { return c.holdC }

// Stats returns packet, loss, late and jitter counters.
func (c *Call) Stats() Stats { return c.sess.Stats() }

// Done is closed when the call ended from outside the handler: caller
// hangup, RTP timeout, shutdown grace over, Hangup.
func (c *Call) Done() <-chan struct{} { return c.ctx.Done() }

// Err is the reason the call ended (ErrRemoteHangup, ErrRTPTimeout,
// ErrShuttingDown, ...) or nil while it goes on.
func (c *Call) Err() error { return context.Cause(c.ctx) }

// Draining is closed when the server starts shutting down: finish the
// current reply or Transfer the caller before the grace period ends.
func (c *Call) Draining() <-chan struct{} { return c.srv.drainC }

// Hangup sends BYE now. The handler should return afterwards.
func (c *Call) Hangup(ctx context.Context) error {
	err := c.bye(ctx)
	c.end(ErrCallEnded)
	return err
}

func (c *Call) bye(ctx context.Context) error {
	if c.dialog.LoadState() == sip.DialogStateEnded {
		return nil
	}
	return c.dialog.Bye(ctx)
}

func (c *Call) end(cause error) { c.cancel(cause) }

func (c *Call) deliverDigit(d Digit) {
	c.log.Info("sip: dtmf", "digit", string(d.Key))
	select {
	case c.dtmf <- d:
	default:
		c.log.Warn("sip: dtmf queue full, digit dropped")
	}
}

func (c *Call) deliverNotify(req *sip.Request) {
	select {
	case c.notifyC <- req:
	default:
	}
}

// Transfer hands the caller to referTo (a SIP URI of the operator queue)
// with a REFER (RFC 3515) and follows the NOTIFY sipfrag reports until the
// transfer target answers (nil) or fails (ErrTransferFailed). headers
// (e.g. the appeal number) go on the REFER and are embedded in the
// Refer-To URI, so the caller's new INVITE carries them to the agent desk.
// After success the caller normally sends BYE; the handler then returns.
func (c *Call) Transfer(ctx context.Context, referTo string, headers map[string]string) error {
	target := referTo
	if len(headers) > 0 && !strings.Contains(referTo, "?") {
		keys := make([]string, 0, len(headers))
		for k := range headers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var q []string
		for _, k := range keys {
			q = append(q, url.QueryEscape(k)+"="+url.QueryEscape(headers[k]))
		}
		target += "?" + strings.Join(q, "&")
	}
	contact := c.dialog.InviteRequest.Contact()
	if contact == nil {
		return fmt.Errorf("%w: caller sent no Contact", ErrTransferFailed)
	}
	req := sip.NewRequest(sip.REFER, contact.Address)
	req.AppendHeader(sip.NewHeader("Refer-To", "<"+target+">"))
	req.AppendHeader(sip.NewHeader("Referred-By", "<"+c.dua.ContactHDR.Address.String()+">"))
	for k, v := range headers {
		req.AppendHeader(sip.NewHeader(k, v))
	}
	c.log.Info("sip: transferring", "refer_to", referTo)
	c.reqMu.Lock()
	res, err := c.dialog.Do(ctx, req)
	c.reqMu.Unlock()
	if err != nil {
		return fmt.Errorf("%w: REFER: %w", ErrTransferFailed, err)
	}
	if !res.IsSuccess() {
		return fmt.Errorf("%w: REFER answered %d %s", ErrTransferFailed, res.StatusCode, res.Reason)
	}
	for {
		select {
		case n := <-c.notifyC:
			code := sipfragStatus(n.Body())
			terminated := false
			if h := n.GetHeader("Subscription-State"); h != nil && strings.HasPrefix(strings.ToLower(h.Value()), "terminated") {
				terminated = true
			}
			switch {
			case code >= 200 && code < 300:
				c.log.Info("sip: transfer succeeded", "status", code)
				return nil
			case code >= 300:
				return fmt.Errorf("%w: target answered %d", ErrTransferFailed, code)
			case terminated:
				return fmt.Errorf("%w: subscription ended without a final answer", ErrTransferFailed)
			}
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrTransferFailed, ctx.Err())
		case <-c.ctx.Done():
			return fmt.Errorf("%w: %w", ErrCallEnded, context.Cause(c.ctx))
		}
	}
}

// sipfragStatus reads "SIP/2.0 200 OK" from a message/sipfrag body.
func sipfragStatus(b []byte) int {
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "SIP/") {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// answerSDP is our SDP for the session as it is now. Its version grows
// only when it differs from the last SDP we sent: an unchanged session
// (a refresh) is described by an identical SDP (RFC 3264 §8).
func (c *Call) answerSDP() []byte {
	dir := c.sess.Direction()
	c.mu.Lock()
	defer c.mu.Unlock()
	m := sdpMedia{proto: c.proto, codecs: []codec.Info{c.codec}, dtmfPT: c.dtmfPT, dir: dir}
	if c.srtp != nil {
		m.crypto = []media.Crypto{c.srtp.local}
	}
	if c.lastSDP != nil {
		if b := buildSDP(c.srv.mediaHost(), c.sess.LocalPort(), c.sessID, c.sdpVersion, m); bytes.Equal(b, c.lastSDP) {
			return b
		}
	}
	c.sdpVersion++
	c.lastSDP = buildSDP(c.srv.mediaHost(), c.sess.LocalPort(), c.sessID, c.sdpVersion, m)
	return c.lastSDP
}

// offerSDP is our late offer: every codec in preference order plus
// telephone-event, RTP/SAVP with a key per suite under SRTPRequired and
// plain RTP/AVP otherwise (a caller that wants SRTP offers it itself). It
// returns the crypto lines offered, to check the answer against.
func (c *Call) offerSDP(port int) ([]byte, []media.Crypto, error) {
	m := sdpMedia{proto: "RTP/AVP", dtmfPT: dtmfOfferPT, dir: media.SendRecv}
	for _, n := range c.srv.codecs {
		info, _ := codec.Lookup(n)
		m.codecs = append(m.codecs, info)
	}
	if c.srv.srtp == SRTPRequired {
		cr, err := offerCrypto()
		if err != nil {
			return nil, nil, err
		}
		m.proto, m.crypto = "RTP/SAVP", cr
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sdpVersion++
	c.proto = m.proto
	c.lastSDP = buildSDP(c.srv.mediaHost(), port, c.sessID, c.sdpVersion, m)
	return c.lastSDP, m.crypto, nil
}

// takeAck keeps the caller's answer to a late offer: the body of the
// first ACK of the INVITE (retransmissions repeat it).
func (c *Call) takeAck(req *sip.Request) {
	if !c.lateOffer {
		return
	}
	if cs, inv := req.CSeq(), c.dialog.InviteRequest.CSeq(); cs == nil || inv == nil || cs.SeqNo != inv.SeqNo {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ackSeen {
		c.ackSeen = true
		c.ackSDP = append([]byte(nil), req.Body()...)
	}
}

// lateAnswer negotiates the caller's answer from the ACK against our
// late offer; the int is the cause for the BYE's Reason when it fails.
func (c *Call) lateAnswer(offered []media.Crypto) (offer, *sdes, int, error) {
	c.mu.Lock()
	seen, body := c.ackSeen, c.ackSDP
	c.mu.Unlock()
	if len(body) == 0 {
		what := "the ACK carried no SDP answer to our offer"
		if !seen {
			what = "no ACK to our offer"
		}
		return offer{}, nil, 400, fmt.Errorf("late offer: %s", what)
	}
	a, err := parseOffer(body, c.srv.codecs, "")
	if err != nil {
		return offer{}, nil, 488, fmt.Errorf("late offer: answer in the ACK: %w", err)
	}
	keys, err := answerSRTP(a, offered)
	if err != nil {
		return offer{}, nil, 488, fmt.Errorf("late offer: answer in the ACK: %w", err)
	}
	return a, keys, 0, nil
}

// byeReason hangs up with a Reason header (RFC 3326) saying why, for a
// call that failed after its 200 (a late offer's unusable answer) or
// whose session expired.
func (c *Call) byeReason(ctx context.Context, cause int, text string) error {
	if c.dialog.LoadState() == sip.DialogStateEnded {
		return nil
	}
	inv := c.dialog.InviteRequest
	bye := sip.NewRequest(sip.BYE, inv.Contact().Address)
	bye.SetTransport(inv.Transport())
	text = strings.NewReplacer(`"`, "'", "\r", " ", "\n", " ").Replace(text)
	bye.AppendHeader(sip.NewHeader("Reason", fmt.Sprintf(`SIP;cause=%d;text="%s"`, cause, text)))
	return c.dialog.WriteBye(ctx, bye)
}

// offerBusy reports whether an offer of ours is outstanding (or media is
// not set up yet), so a peer's new offer must wait (491).
func (c *Call) offerBusy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess == nil || c.offerPending
}

// reInvite handles hold/unhold, media moves, codec changes, SRTP
// re-keying and session refreshes (RFC 4028: every re-INVITE answered 2xx
// refreshes). SRTP stays on or off: a re-offer changing that is refused
// with 488 and the call goes on unchanged.
func (c *Call) reInvite(req *sip.Request, tx sip.ServerTransaction) {
	if c.offerBusy() {
		// Our late offer still waits for its answer in the ACK, or our
		// refresh re-INVITE for its 2xx: one offer at a time (RFC 3261
		// §14.2).
		c.srv.respond(tx, req, 491, "Request Pending")
		return
	}
	if err := c.dialog.ReadRequest(req, tx); err != nil {
		c.srv.respond(tx, req, 500, "Server Internal Error", sip.NewHeader("Retry-After", "1"))
		return
	}
	c.offerMu.Lock()
	defer c.offerMu.Unlock()
	t, err := c.negotiateRefresh(req, tx)
	if err != nil {
		return
	}
	if body := req.Body(); len(body) > 0 {
		if err := c.applyOffer(body); err != nil {
			c.srv.reject(tx, req, c.log, err)
			return
		}
	}
	c.respondRefresh(tx, sip.NewSDPResponseFromRequest(req, c.answerSDP()), t)
}

// applyOffer takes a re-offer (re-INVITE or UPDATE) into the running
// session. The codec stays when the offer still has it; otherwise the
// call switches to the offer's best codec of ours (a PBX re-anchored the
// media elsewhere after a transfer), which the media converts to the
// call's fixed PCM rate.
func (c *Call) applyOffer(body []byte) error {
	c.mu.Lock()
	cur, curDTMF, prev := c.codec, c.dtmfPT, c.srtp
	c.mu.Unlock()
	off, err := parseOffer(body, c.srv.codecs, cur.Name)
	if err != nil {
		return err
	}
	keys, err := negotiateSRTP(off, c.srv.srtp, true, prev)
	if err != nil {
		return err
	}
	var cd codec.Codec
	if off.codec.Name != cur.Name {
		if cd, err = codec.New(off.codec.Name); err != nil {
			return fmt.Errorf("%w: %w", ErrNotAcceptable, err)
		}
	}
	if keys != nil && (prev == nil || !keys.local.SameKey(prev.local)) {
		if err := c.sess.SetSRTP(keys.keys()); err != nil {
			if cd != nil {
				cd.Close()
			}
			return fmt.Errorf("%w: %w", ErrNotAcceptable, err)
		}
		c.log.Info("sip: SRTP re-keyed by re-offer", "suite", string(keys.local.Suite))
	}
	if cd != nil || off.dtmfPT != curDTMF {
		// The session takes cd over and switches at its next frame.
		if err := c.sess.SetCodec(cd, off.dtmfPT); err != nil {
			return fmt.Errorf("%w: %w", ErrCallEnded, err)
		}
		if cd != nil {
			c.log.Info("sip: codec changed by re-offer", "from", cur.Name, "to", off.codec.Name, "dtmf_pt", off.dtmfPT)
		}
	}
	c.mu.Lock()
	c.srtp, c.proto, c.codec, c.dtmfPT = keys, off.proto, off.codec, off.dtmfPT
	c.mu.Unlock()
	if off.remote.Port() != 0 && !off.remote.Addr().IsUnspecified() {
		c.sess.SetRemote(off.remote)
	}
	c.sess.SetDirection(answerDirection(off.dir))
	c.mu.Lock()
	changed := c.held != off.hold
	c.held = off.hold
	c.mu.Unlock()
	if changed {
		c.log.Info("sip: hold state changed", "held", off.hold, "offer_direction", string(off.dir))
		select {
		case c.holdC <- off.hold:
		default:
		}
	}
	return nil
}

// runCall answers and runs one call in the INVITE handler's goroutine, so
// the transaction, the dialog and the handler share one scope. off nil is
// a late offer: the media session starts when the ACK brings the answer.
func (s *Server) runCall(req *sip.Request, tx sip.ServerTransaction, off *offer, keys *sdes, tm sessionTimer, log *slog.Logger) {
	dua := s.dialogs[strings.ToUpper(req.Transport())]
	if dua == nil {
		dua = s.dialogs["UDP"]
	}
	if dua == nil {
		for _, d := range s.dialogs {
			dua = d
			break
		}
	}
	rtpConn, rtcpConn, err := s.ports.Listen(s.rtpIP)
	if err != nil {
		s.reject(tx, req, log, fmt.Errorf("%w: %w", ErrNoMedia, err))
		return
	}
	localPort := udpPort(rtpConn)
	// Ports go back after the session closed and before the call is
	// unregistered (shutdown and leak checks wait for the latter).
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { s.ports.Release(localPort) }) }
	defer release()
	// The sockets are ours until a session takes them over.
	var sess *media.Session
	var closeOnce sync.Once
	closeMedia := func() {
		closeOnce.Do(func() {
			if sess != nil {
				sess.Close()
				return
			}
			rtpConn.Close()
			rtcpConn.Close()
		})
	}
	defer closeMedia()
	if off != nil {
		if sess, err = s.newMedia(*off, keys, rtpConn, rtcpConn, log); err != nil {
			s.reject(tx, req, log, err)
			return
		}
	}

	dialog, err := dua.ReadInvite(req, tx)
	if err != nil {
		log.Warn("sip: bad INVITE", "err", err)
		s.respond(tx, req, 400, "Bad Request")
		return
	}
	defer dialog.Close()

	ctx, cancel := context.WithCancelCause(s.baseCtx)
	defer cancel(ErrCallEnded)
	c := &Call{
		ID: req.CallID().Value(), srv: s, dialog: dialog, dua: dua, sess: sess, log: log, ctx: ctx, cancel: cancel,
		start: time.Now(), dtmf: make(chan Digit, 32), notifyC: make(chan *sip.Request, 8), holdC: make(chan bool, 4),
		sessID: uint64(time.Now().UnixNano() / 1000), Headers: map[string]string{}, lateOffer: off == nil, srtp: keys,
		allowUpdate: allowsUpdate(req), timerKick: make(chan struct{}, 1),
	}
	if off != nil {
		c.codec, c.dtmfPT, c.held, c.proto, c.rate = off.codec, off.dtmfPT, off.hold, off.proto, off.codec.SampleRate
	}
	if f := req.From(); f != nil {
		c.From = f.Address.User
	}
	if t := req.To(); t != nil {
		c.To = t.Address.User
	}
	for _, h := range req.Headers() {
		n := h.Name()
		if strings.HasPrefix(strings.ToLower(n), "x-") || strings.EqualFold(n, "Diversion") || strings.EqualFold(n, "P-Asserted-Identity") {
			c.Headers[n] = h.Value()
		}
	}
	if err := s.register(dialog.ID, c); err != nil {
		s.reject(tx, req, log, err)
		return
	}
	defer func() {
		closeMedia()
		release()
		s.unregister(dialog.ID)
	}()

	if err := dialog.Respond(100, "Trying", nil); err != nil {
		log.Debug("sip: 100 Trying failed", "err", err)
	}
	// RFC 4028 §9: a caller may learn from any response that we do
	// session timers; Allow tells it UPDATE works for the refresh.
	if err := dialog.Respond(180, "Ringing", nil, sip.NewHeader("Supported", "timer"), sip.NewHeader("Allow", allowMethods)); err != nil {
		log.Debug("sip: 180 Ringing failed", "err", err)
	}
	if s.ringTime > 0 {
		select {
		case <-time.After(s.ringTime):
		case <-dialog.Context().Done():
			log.Info("sip: caller cancelled before answer")
			s.metrics.CallEnded("cancelled", 0)
			return
		case <-s.drainC:
			_ = dialog.Respond(503, "Service Unavailable", nil, sip.NewHeader("Retry-After", "30"))
			return
		}
	}
	var body []byte
	var offered []media.Crypto
	if off != nil {
		body = c.answerSDP()
	} else if body, offered, err = c.offerSDP(localPort); err != nil {
		log.Error("sip: late offer: building our offer failed", "err", err)
		_ = dialog.Respond(500, "Server Internal Error", nil)
		return
	}
	// The session timer runs from the 200 (RFC 4028 §9).
	c.setTimer(tm)
	res := sip.NewSDPResponseFromRequest(dialog.InviteRequest, body)
	res.AppendHeader(sip.HeaderClone(&dua.ContactHDR))
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	for _, h := range tm.headers() {
		res.AppendHeader(h)
	}
	fitUDP(res, tm, log)
	if err := dialog.WriteResponse(res); err != nil {
		if dialog.Context().Err() != nil {
			log.Info("sip: caller cancelled before answer", "err", err)
			s.metrics.CallEnded("cancelled", 0)
		} else {
			log.Warn("sip: answer failed (no ACK?)", "err", err)
			s.metrics.CallEnded("no_ack", 0)
			byeCtx, cancelBye := context.WithTimeout(context.Background(), 5*time.Second)
			_ = dialog.Bye(byeCtx)
			cancelBye()
		}
		return
	}
	if off == nil {
		a, k, cause, err := c.lateAnswer(offered)
		if err == nil {
			if sess, err = s.newMedia(a, k, rtpConn, rtcpConn, log); err != nil {
				cause = 488
			}
		}
		if err != nil {
			log.Warn("sip: late offer: no usable answer in the ACK, hanging up", "err", err, "reason_cause", cause)
			s.metrics.CallEnded("bad_answer", 0)
			byeCtx, cancelBye := context.WithTimeout(context.Background(), 5*time.Second)
			if err := c.byeReason(byeCtx, cause, err.Error()); err != nil {
				log.Warn("sip: BYE failed", "err", err)
			}
			cancelBye()
			return
		}
		c.mu.Lock()
		c.sess, c.codec, c.dtmfPT, c.held, c.srtp, c.rate = sess, a.codec, a.dtmfPT, a.hold, k, a.codec.SampleRate
		c.mu.Unlock()
		off, keys = &a, k
	}
	suite := ""
	if keys != nil {
		suite = string(keys.local.Suite)
	}
	log.Info("sip: call answered", "codec", off.codec.Name, "dtmf_pt", off.dtmfPT, "srtp", suite,
		"late_offer", c.lateOffer, "remote_rtp", off.remote.String(), "local_rtp", localPort,
		"session_expires", tm.interval, "we_refresh", tm.weRefresh)
	s.metrics.CallStarted()

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.watch() }()
	go func() { defer wg.Done(); c.runTimer() }()

	herr := s.invoke(ctx, c)
	reason := "handler_done"
	if cause := context.Cause(ctx); cause != nil {
		reason = cause.Error()
	}
	cancel(ErrCallEnded)
	wg.Wait()
	if dialog.LoadState() != sip.DialogStateEnded {
		byeCtx, cancelBye := context.WithTimeout(context.Background(), 5*time.Second)
		c.mu.Lock()
		cause, text := c.byeCause, c.byeText
		c.mu.Unlock()
		if cause != 0 {
			err = c.byeReason(byeCtx, cause, text)
		} else {
			err = c.bye(byeCtx)
		}
		if err != nil {
			log.Warn("sip: BYE failed", "err", err)
		}
		cancelBye()
	}
	st := sess.Stats()
	log.Info("sip: call ended", "reason", reason, "handler_err", errString(herr),
		"duration", time.Since(c.start).Round(time.Millisecond), "rx", st.PacketsReceived, "tx", st.PacketsSent,
		"lost", st.Lost, "late", st.Late, "jitter", st.Jitter, "srtp_dropped", st.SRTPDropped)
	s.metrics.CallEnded(reason, time.Since(c.start))
}

// newMedia starts the media session for a negotiated offer (or a late
// offer's answer) on the call's sockets, which it then owns.
func (s *Server) newMedia(off offer, keys *sdes, rtpConn, rtcpConn *net.UDPConn, log *slog.Logger) (*media.Session, error) {
	cd, err := codec.New(off.codec.Name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotAcceptable, err)
	}
	cfg := media.Config{Codec: cd, DTMFPayloadType: off.dtmfPT, RTP: rtpConn, RTCP: rtcpConn,
		Remote: off.remote, Logger: log, CNAME: "hotline@" + s.advertisedHost()}
	if keys != nil {
		k := keys.keys()
		cfg.SRTP = &k
	}
	sess, err := media.NewSession(cfg)
	if err != nil {
		cd.Close()
		if errors.Is(err, media.ErrBadCrypto) || errors.Is(err, media.ErrUnsupportedCrypto) {
			return nil, fmt.Errorf("%w: %w", ErrNotAcceptable, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrNoMedia, err)
	}
	sess.SetDirection(answerDirection(off.dir))
	return sess, nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// invoke runs the handler; a panic ends the call, not the server.
func (s *Server) invoke(ctx context.Context, c *Call) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("sip: call handler panicked", "panic", fmt.Sprint(r))
			err = fmt.Errorf("sip: handler panic: %v", r)
		}
	}()
	return s.handler.HandleCall(ctx, c)
}

// watch ends the call when the dialog ends (BYE), the peer's RTP stops,
// and forwards RFC 4733 digits.
func (c *Call) watch() {
	every := time.Second
	if t := c.srv.noRTP / 4; t > 0 && t < every {
		every = t
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.dialog.Context().Done():
			c.end(ErrRemoteHangup)
			return
		case d := <-c.sess.DTMF():
			c.deliverDigit(d)
		case <-tick.C:
			if c.srv.noRTP <= 0 || c.Held() {
				continue
			}
			if idle := time.Since(c.sess.LastPacket()); idle > c.srv.noRTP {
				c.log.Warn("sip: no RTP from caller, ending call", "idle", idle.Round(time.Millisecond))
				c.end(ErrRTPTimeout)
				return
			}
		}
	}
}

func (s *Server) register(id string, c *Call) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return ErrShuttingDown
	}
	if len(s.calls) == 0 {
		s.calls0 = make(chan struct{})
	}
	s.calls[id] = c
	s.callWG.Add(1)
	return nil
}

func (s *Server) unregister(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.calls[id]; !ok {
		return
	}
	delete(s.calls, id)
	if len(s.calls) == 0 {
		close(s.calls0)
	}
	s.callWG.Done()
}

func udpPort(c interface{ LocalAddr() net.Addr }) int {
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
		return a.Port
	}
	return 0
}
