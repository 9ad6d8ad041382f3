package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotline-ivr/hotline/telephony/media"
)

// Session timers (RFC 4028). Trunks and PBXs refresh a call with a
// re-INVITE or UPDATE every half interval and tear it down when the
// refresh stops coming; we do the same from our side. It is what ends a
// call whose peer vanished while on hold, when no RTP flows to time out.

// allowMethods is our Allow header: UPDATE tells the peer it may refresh
// without an offer.
const allowMethods = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY, UPDATE"

// timerRequest is what an INVITE, re-INVITE or UPDATE (or a 2xx to one
// of ours) says about session timers.
type timerRequest struct {
	supported bool          // Supported or Require lists "timer"
	expires   time.Duration // Session-Expires; 0: none
	refresher string        // its refresher parameter: "uac", "uas" or ""
	minSE     time.Duration // Min-SE; 0: none
}

type headerGetter interface {
	GetHeaders(name string) []sip.Header
}

// headerValues is the comma-separated values of a header under its full
// and compact names, trimmed.
func headerValues(m headerGetter, names ...string) []string {
	var out []string
	for _, n := range names {
		for _, h := range m.GetHeaders(n) {
			for _, v := range strings.Split(h.Value(), ",") {
				if v = strings.TrimSpace(v); v != "" {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

func hasOption(m headerGetter, tag string, names ...string) bool {
	for _, v := range headerValues(m, names...) {
		if strings.EqualFold(v, tag) {
			return true
		}
	}
	return false
}

// readTimer reads Session-Expires (compact x), Min-SE and whether timer
// is supported. A malformed interval is ErrBadRequest: guessing one could
// end a call nobody meant to end.
func readTimer(m headerGetter) (timerRequest, error) {
	r := timerRequest{supported: hasOption(m, "timer", "Supported", "k", "Require")}
	if hs := append(m.GetHeaders("Session-Expires"), m.GetHeaders("x")...); len(hs) > 0 {
		v, _, _ := strings.Cut(hs[0].Value(), ",")
		delta, params, _ := strings.Cut(v, ";")
		d, err := parseDelta(delta)
		if err != nil {
			return r, fmt.Errorf("%w: Session-Expires %q: %v", ErrBadRequest, clip(v), err)
		}
		r.expires = d
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), "refresher") {
				switch v = strings.ToLower(strings.TrimSpace(v)); v {
				case "uac", "uas":
					r.refresher = v
				}
			}
		}
	}
	if vs := headerValues(m, "Min-SE"); len(vs) > 0 {
		delta, _, _ := strings.Cut(vs[0], ";")
		d, err := parseDelta(delta)
		if err != nil {
			return r, fmt.Errorf("%w: Min-SE %q: %v", ErrBadRequest, clip(vs[0]), err)
		}
		r.minSE = d
	}
	return r, nil
}

// parseDelta reads delta-seconds; up to 2^32-1 s fits a Duration.
func parseDelta(v string) (time.Duration, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	if err != nil {
		return 0, errors.New("not a number of seconds")
	}
	return time.Duration(n) * time.Second, nil
}

// clip keeps a header value short enough for a log line or a Warning.
func clip(v string) string {
	if len(v) > 40 {
		return v[:40] + "…"
	}
	return v
}

// sessionTimer is a negotiated session timer.
type sessionTimer struct {
	interval  time.Duration // 0: none
	weRefresh bool
	peer      bool // the peer supports timers (said so in the request)
}

// negotiateTimer answers a request's session timer (RFC 4028 §9). cur is
// the call's interval for a refresh (0 for a new call): a re-INVITE or
// UPDATE that names none keeps it. A peer that supports timers refreshes
// unless it asked us to (refresher=uas); one that does not cannot, so we
// do. Below our Min-SE a supporting peer gets 422, another is raised.
func (s *Server) negotiateTimer(r timerRequest, cur time.Duration) (sessionTimer, error) {
	t := sessionTimer{peer: r.supported}
	if r.expires > 0 {
		if r.expires < s.minSE {
			if r.supported {
				return t, fmt.Errorf("%w: Session-Expires %s is below our Min-SE %s", ErrIntervalTooSmall, r.expires, s.minSE)
			}
			r.expires = s.minSE // a proxy asked; the UAC could not read a 422
		}
		t.interval = max(r.expires, r.minSE)
		t.weRefresh = !r.supported || r.refresher == "uas"
		return t, nil
	}
	base := cur
	if base == 0 {
		base = s.sessionExpires
	}
	if base == 0 {
		return t, nil
	}
	t.interval = max(base, s.minSE, r.minSE)
	t.weRefresh = !r.supported
	return t, nil
}

// headers for a 2xx answering the request the timer was negotiated from:
// refresher is relative to that transaction (uac: the peer).
func (t sessionTimer) headers() []sip.Header {
	hs := []sip.Header{sip.NewHeader("Supported", "timer")}
	if t.interval > 0 {
		ref := "uac"
		if t.weRefresh {
			ref = "uas"
		}
		hs = append(hs, sip.NewHeader("Session-Expires", fmt.Sprintf("%d;refresher=%s", secs(t.interval), ref)))
		if t.peer {
			// MUST when the peer refreshes, SHOULD otherwise (§9).
			hs = append(hs, sip.NewHeader("Require", "timer"))
		}
	}
	return hs
}

func secs(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }

// tooSmall is the 422's extra headers: our Min-SE.
func (s *Server) tooSmall() []sip.Header {
	return []sip.Header{sip.NewHeader("Min-SE", strconv.FormatInt(secs(s.minSE), 10)), sip.NewHeader("Supported", "timer")}
}

// timerState is a call's session timer (Call.mu).
type timerState struct {
	sessionTimer
	refreshed time.Time // the last successful refresh, or the answer
	retryAt   time.Time // our failed refresh is tried again then; zero: half the interval
}

// expiry is when an unrefreshed session is over: the interval less
// min(32 s, a third of it), so the BYE gets there before the peer's own
// timer runs out (§10).
func (t timerState) expiry() time.Time {
	return t.refreshed.Add(t.interval - min(32*time.Second, t.interval/3))
}

// setTimer records a negotiated timer: the session was just (re)freshed.
func (c *Call) setTimer(t sessionTimer) {
	c.mu.Lock()
	prev := c.timer
	c.timer = timerState{sessionTimer: t, refreshed: time.Now()}
	c.mu.Unlock()
	if prev.interval != t.interval || prev.weRefresh != t.weRefresh {
		c.log.Debug("sip: session timer", "interval", t.interval, "we_refresh", t.weRefresh, "peer_supports", t.peer)
	}
	select {
	case c.timerKick <- struct{}{}:
	default:
	}
}

// currentInterval is the call's session interval, 0 without a timer.
func (c *Call) currentInterval() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timer.interval
}

// runTimer sends our refreshes when we are the refresher and ends the
// call when the session expires. It stops with the call.
func (c *Call) runTimer() {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		c.mu.Lock()
		st := c.timer
		c.mu.Unlock()
		var fire <-chan time.Time
		refresh := false
		if st.interval > 0 {
			at := st.expiry()
			if st.weRefresh {
				next := st.refreshed.Add(st.interval / 2)
				if !st.retryAt.IsZero() {
					next = st.retryAt
				}
				if next.Before(at) {
					at, refresh = next, true
				}
			}
			t.Reset(time.Until(at))
			fire = t.C
		}
		select {
		case <-c.ctx.Done():
			return
		case <-c.timerKick:
			continue
		case <-fire:
		}
		c.mu.Lock()
		stale := c.timer != st // refreshed or renegotiated meanwhile
		c.mu.Unlock()
		switch {
		case stale:
		case refresh:
			c.refresh(st.expiry())
		default:
			c.expire(fmt.Sprintf("no session refresh within %s", st.interval))
			return
		}
	}
}

// expire ends the call: the BYE that runCall sends carries a Reason.
func (c *Call) expire(why string) {
	c.log.Warn("sip: session expired, ending call", "why", why)
	c.mu.Lock()
	if c.byeCause == 0 {
		c.byeCause, c.byeText = 408, "Session expired: "+why
	}
	c.mu.Unlock()
	c.end(ErrSessionExpired)
}

// refresh sends our session refresh: UPDATE without a body when the peer
// allows it (no offer, nothing to renegotiate), else a re-INVITE offering
// the unchanged session (same SDP version, RFC 3264 §8). It must succeed
// before the session expires; no answer, 408 or 481 ends the call now
// (§10), other failures are tried again.
func (c *Call) refresh(expiry time.Time) {
	ctx, cancel := context.WithDeadline(c.ctx, expiry)
	defer cancel()
	for attempt := 0; ; attempt++ {
		res, method, err := c.sendRefresh(ctx)
		if c.ctx.Err() != nil {
			return
		}
		if err != nil {
			c.expire(fmt.Sprintf("our %s refresh got no answer (%v)", method, err))
			return
		}
		switch code := res.StatusCode; {
		case res.IsSuccess():
			c.refreshed(res)
			return
		case code == 408 || code == 481:
			c.expire(fmt.Sprintf("our %s refresh was answered %d %s", method, code, res.Reason))
			return
		case (code == 405 || code == 501) && method == sip.UPDATE && attempt < 2:
			// Allow said UPDATE but the peer does not take one: the
			// re-INVITE every UA must take, at once and from now on.
			c.allowUpdate = false // only this goroutine reads it after the answer
			continue
		case code == 422 && attempt < 2:
			if r, err := readTimer(res); err == nil && r.minSE > 0 {
				c.mu.Lock()
				c.timer.interval = max(c.timer.interval, r.minSE)
				c.mu.Unlock()
				continue // once more at once, with the peer's Min-SE
			}
		}
		// Glare (491) or a passing failure: again before the session
		// expires; the callee waits up to 2 s after a 491 (RFC 3261 §14.1).
		wait := max(time.Second, time.Until(expiry)/3)
		if res.StatusCode == 491 {
			wait = time.Duration(rand.Int64N(int64(2 * time.Second)))
		}
		c.log.Warn("sip: session refresh refused, trying again", "method", method, "status", res.StatusCode, "retry_in", wait.Round(time.Millisecond))
		c.mu.Lock()
		c.timer.retryAt = time.Now().Add(wait)
		c.mu.Unlock()
		return
	}
}

// sendRefresh does the refresh transaction (and the ACK of a re-INVITE's
// 2xx).
func (c *Call) sendRefresh(ctx context.Context) (*sip.Response, sip.RequestMethod, error) {
	inv := c.dialog.InviteRequest
	contact := inv.Contact()
	if contact == nil {
		return nil, sip.UPDATE, errors.New("caller sent no Contact")
	}
	method := sip.INVITE
	if c.allowUpdate {
		method = sip.UPDATE
	}
	c.mu.Lock()
	interval := c.timer.interval
	glare := c.offerPending
	if method == sip.INVITE && !glare {
		c.offerPending = true
	}
	c.mu.Unlock()
	if glare {
		// The peer's offer is being answered: that transaction refreshes.
		return &sip.Response{StatusCode: 491, Reason: "Request Pending"}, method, nil
	}
	req := sip.NewRequest(method, contact.Address)
	req.AppendHeader(sip.NewHeader("Session-Expires", fmt.Sprintf("%d;refresher=uac", secs(interval))))
	req.AppendHeader(sip.NewHeader("Min-SE", strconv.FormatInt(secs(c.srv.minSE), 10)))
	req.AppendHeader(sip.NewHeader("Supported", "timer"))
	if method == sip.INVITE {
		defer func() {
			c.mu.Lock()
			c.offerPending = false
			c.mu.Unlock()
		}()
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(c.answerSDP())
	}
	c.reqMu.Lock()
	defer c.reqMu.Unlock()
	res, err := c.dialog.Do(ctx, req)
	if err != nil {
		return nil, method, err
	}
	if method == sip.INVITE && res.IsSuccess() {
		ack := sip.NewRequest(sip.ACK, contact.Address)
		if err := c.dialog.WriteRequest(ack); err != nil {
			c.log.Warn("sip: ACK of our refresh failed", "err", err)
		}
		c.takeAnswer(res.Body())
	}
	return res, method, nil
}

// refreshed takes the 2xx of our refresh: its Session-Expires is the new
// interval (refresher=uac: still us). A 2xx without one from a peer that
// supports timers turns them off (§7.2); from one that does not, we go on
// refreshing, as we were the refresher for that reason.
func (c *Call) refreshed(res *sip.Response) {
	r, err := readTimer(res)
	c.mu.Lock()
	t := c.timer.sessionTimer
	c.mu.Unlock()
	switch {
	case err == nil && r.expires > 0:
		t.interval = max(r.expires, c.srv.minSE)
		t.weRefresh = r.refresher != "uas"
		t.peer = true
	case err == nil && r.supported:
		t.interval = 0
	}
	c.setTimer(t)
}

// takeAnswer applies the peer's answer to our refresh offer: the session
// was offered unchanged, so only a moved address or a new SRTP key of
// the peer's can be news.
func (c *Call) takeAnswer(body []byte) {
	if len(body) == 0 {
		return
	}
	c.mu.Lock()
	cur, prev := c.codec.Name, c.srtp
	c.mu.Unlock()
	a, err := parseOffer(body, nil, cur)
	if err != nil {
		c.log.Warn("sip: answer to our refresh unusable, media unchanged", "err", err)
		return
	}
	if prev != nil {
		k, err := answerSRTP(a, []media.Crypto{prev.local})
		if err != nil {
			c.log.Warn("sip: SRTP in the answer to our refresh unusable, keys unchanged", "err", err)
		} else if !k.remote.SameKey(prev.remote) {
			if err := c.sess.SetSRTP(k.keys()); err == nil {
				c.mu.Lock()
				c.srtp = k
				c.mu.Unlock()
			}
		}
	}
	if a.remote.Port() != 0 && !a.remote.Addr().IsUnspecified() {
		c.sess.SetRemote(a.remote)
	}
}

// fitUDP drops what a 200 over UDP can do without when it would not fit
// (a late offer with a crypto line per SRTP suite comes close): Allow
// first (the peer refreshes by re-INVITE instead of UPDATE), then the
// timer headers a peer without timer support cannot use anyway (we still
// refresh).
func fitUDP(res *sip.Response, t sessionTimer, log interface{ Debug(string, ...any) }) {
	if !strings.EqualFold(res.Transport(), "UDP") {
		return
	}
	limit := sip.UDPMTUSize - 200 // what sipgo sends over UDP (RFC 3261 §18.1.1)
	drop := []string{"Allow"}
	if !t.peer {
		drop = append(drop, "Session-Expires", "Supported")
	}
	for _, h := range drop {
		if len(res.String()) <= limit {
			return
		}
		res.RemoveHeader(h)
		log.Debug("sip: header left out of the 200 to fit UDP", "header", h)
	}
}

// allowsUpdate reports whether the peer's INVITE allows UPDATE.
func allowsUpdate(req *sip.Request) bool {
	return hasOption(req, "UPDATE", "Allow")
}

// onUpdate takes an UPDATE (RFC 3311): a session refresh, with or
// without an offer.
func (s *Server) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	if !s.allowed(req) {
		s.respond(tx, req, 403, "Forbidden")
		return
	}
	c := s.findCall(req)
	if c == nil {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	c.update(req, tx)
}

func (c *Call) update(req *sip.Request, tx sip.ServerTransaction) {
	body := req.Body()
	if len(body) > 0 {
		if c.offerBusy() {
			// An offer of ours is outstanding (late offer, our
			// re-INVITE): one at a time (RFC 3311 §5.2).
			c.srv.respond(tx, req, 491, "Request Pending")
			return
		}
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
	if len(body) > 0 {
		if err := c.applyOffer(body); err != nil {
			c.srv.reject(tx, req, c.log, err)
			return
		}
	}
	var res *sip.Response
	if len(body) > 0 {
		res = sip.NewSDPResponseFromRequest(req, c.answerSDP())
	} else {
		res = sip.NewResponseFromRequest(req, 200, "OK", nil)
	}
	c.respondRefresh(tx, res, t)
}

// negotiateRefresh negotiates a re-INVITE's or UPDATE's session timer;
// on error the request has been answered (400, 422).
func (c *Call) negotiateRefresh(req *sip.Request, tx sip.ServerTransaction) (sessionTimer, error) {
	r, err := readTimer(req)
	if err != nil {
		c.srv.reject(tx, req, c.log, err)
		return sessionTimer{}, err
	}
	t, err := c.srv.negotiateTimer(r, c.currentInterval())
	if err != nil {
		c.srv.reject(tx, req, c.log, err, c.srv.tooSmall()...)
		return sessionTimer{}, err
	}
	return t, nil
}

// respondRefresh sends the 2xx of a refresh with our timer headers and
// restarts the session timer.
func (c *Call) respondRefresh(tx sip.ServerTransaction, res *sip.Response, t sessionTimer) {
	res.AppendHeader(sip.HeaderClone(&c.dua.ContactHDR))
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	for _, h := range t.headers() {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		c.log.Warn("sip: answer to a session refresh failed", "err", err)
		return
	}
	c.setTimer(t)
}
