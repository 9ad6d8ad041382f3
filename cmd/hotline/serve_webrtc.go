package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/auth"
	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/calls"
	"github.com/hotline-ivr/hotline/config"
	"github.com/hotline-ivr/hotline/telephony/webrtc"
	"github.com/hotline-ivr/hotline/telephony/webrtc/callui"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/voice"
	"github.com/hotline-ivr/hotline/web"
)

// webrtcTokenKeyFile holds the call token secret generated when
// webrtc.token_secret is empty.
const webrtcTokenKeyFile = "webrtc-token.key"

// inApp is the running in-app call channel (WebRTC); Close ends the
// calls and then the recognisers it loaded.
type inApp struct {
	Server *webrtc.Server
	recs   *lazyRecognizers
	active sync.Map // call id → *webrtc.Call, for the per-call voice config
}

// Close is idempotent (webrtc.Server.Close is).
func (a *inApp) Close() error {
	if a == nil {
		return nil
	}
	return errors.Join(a.Server.Close(), a.recs.Close())
}

// startWebRTC mounts in-app calls: POST /api/v1/calls/token (logged-in
// users, and anonymous visitors when webrtc.anonymous, rate-limited per
// address), the WHIP-style /api/v1/calls routes and the call page at
// /call/. Calls run through calls.Handler (recorded with st when it is
// not nil) with the live events on the call's data channel.
func startWebRTC(cfg *config.Config, srv *web.Server, st *calls.Store, synth tts.Synthesizer, bs *botStack,
	au *auth.Service, ap *appeals, links *callLinks, log *slog.Logger) (*inApp, error) {
	w := cfg.WebRTC
	wlog := log.With("component", "webrtc")
	secret := w.TokenSecret
	if secret == "" {
		key, err := keyFile(cfg.Path(webrtcTokenKeyFile), "webrtc call token secret", wlog)
		if err != nil {
			return nil, err
		}
		raw, err := appeal.ParseKey(key)
		if err != nil {
			return nil, err
		}
		secret = string(raw)
	}
	a := &inApp{recs: &lazyRecognizers{cfg: cfg, log: log.With("component", "asr"), recs: map[string]recognizer{}}}
	opts := []calls.Option{calls.WithLogger(log.With("component", "calls")), calls.WithVoiceConfig(a.tune)}
	if st != nil {
		opts = append(opts, calls.WithStore(st))
	}
	opts = append(opts, inAppCallbacks(ap)...)
	opts = append(opts, links.options()...)
	h, err := calls.New(bs.voiceDeps(a.recs.get, synth), bs.VoiceConfig, opts...)
	if err != nil {
		return nil, err
	}
	wopts := []webrtc.Option{webrtc.WithLogger(wlog), webrtc.WithTokenSecret([]byte(secret)),
		webrtc.WithTokenTTL(w.TokenTTL), webrtc.WithMaxCalls(w.MaxCalls)}
	for _, s := range w.ICEServers {
		wopts = append(wopts, webrtc.WithICEServers(webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential}))
	}
	if w.UDPPortMin > 0 {
		wopts = append(wopts, webrtc.WithUDPPortRange(uint16(w.UDPPortMin), uint16(w.UDPPortMax)))
	}
	if len(w.NATIPs) > 0 {
		wopts = append(wopts, webrtc.WithNAT1To1IPs(w.NATIPs...))
	}
	a.Server, err = webrtc.New(webrtc.HandlerFunc(func(ctx context.Context, c *webrtc.Call) error {
		a.active.Store(c.ID, c)
		defer a.active.Delete(c.ID)
		return h.Handle(ctx, c, calls.CallInfo{ID: c.ID, Channel: "webrtc", Codec: c.Codec(), Rate: c.SampleRate(),
			User: c.Subject})
	}), wopts...)
	if err != nil {
		return nil, err
	}
	gate := &callerGate{au: au, anonymous: w.Anonymous, perMinute: w.AnonymousPerMinute, salt: []byte(secret),
		seen: map[string]*window{}, now: time.Now}
	webrtc.Register(srv.API(), a.Server, gate.handle, callerSubject)
	callui.Register(srv.Router())
	if links != nil && links.Bridges != nil && links.Center != nil {
		mountAgentMedia(srv.API(), a.Server, links.Center, links.Bridges,
			au.RequireRole(auth.RoleAgent, auth.RoleSupervisor, auth.RoleAdmin), wlog)
	}
	wlog.Info("in-app calls over WebRTC", "page", "/call/", "ice_servers", len(w.ICEServers), "anonymous", w.Anonymous,
		"max_calls", w.MaxCalls)
	return a, nil
}

// inAppCallbacks are the options that give an in-app caller no operator
// could take (max hold, failed handoff) a callback appeal in the same
// queue, as SIP callers get: on the phone number the bot collected during
// the call (the handoff's phone slot), else answered through the app or
// portal. Users have no phone number on their account.
func inAppCallbacks(ap *appeals) []calls.Option {
	if ap == nil || ap.Service == nil {
		return nil
	}
	opts := []calls.Option{calls.WithCallbacks(callbackRequests{svc: ap.Service, center: ap.Center})}
	if center := ap.Center; center != nil {
		opts = append(opts, calls.WithHandoffPhone(func(id string) string {
			v, err := center.Get(id)
			if err != nil {
				return ""
			}
			return v.Slots[bot.SlotPhone]
		}))
	}
	return opts
}

// tune gives a WebRTC call's pipeline its live events and typed text.
// The browser cancels its own echo, so the pipeline's echo gate is off.
func (a *inApp) tune(cfg *voice.Config) {
	v, ok := a.active.Load(cfg.Bot.ID)
	if !ok {
		return
	}
	c := v.(*webrtc.Call)
	cfg.EchoMargin = -1
	cfg.Text = c.Text()
	cfg.OnEvent = func(ev voice.Event) {
		if err := c.SendEvent(ev); err != nil && !errors.Is(err, webrtc.ErrCallEnded) {
			c.Logger().Debug("event not sent", "type", ev.Type, "error", err)
		}
	}
}

// lazyRecognizers loads a language's recogniser on its first call, so
// that a server with SIP off does not hold models no call uses.
type lazyRecognizers struct {
	cfg  *config.Config
	log  *slog.Logger
	mu   sync.Mutex
	recs map[string]recognizer
	errs map[string]error
}

func (l *lazyRecognizers) get(lang string) (asr.Recognizer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.recs[lang]; ok {
		return r, nil
	}
	if err := l.errs[lang]; err != nil {
		return nil, err
	}
	r, engine, err := phoneRecognizer(l.cfg, lang, l.log)
	if err != nil {
		if l.errs == nil {
			l.errs = map[string]error{}
		}
		l.errs[lang] = fmt.Errorf("%w: %s: %v", voice.ErrNoRecognizer, lang, err)
		l.log.Warn("no speech recognition for in-app calls in this language: keys and typed text only", "lang", lang, "error", err)
		return nil, l.errs[lang]
	}
	l.log.Info("speech recognition for in-app calls", "lang", lang, "engine", engine)
	l.recs[lang] = r
	return r, nil
}

func (l *lazyRecognizers) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for lang, r := range l.recs {
		errs = append(errs, r.Close())
		delete(l.recs, lang)
	}
	return errors.Join(errs...)
}

// callerGate admits who may get a call token: a logged-in user (bearer
// token, or the session cookie with the CSRF header), else, when
// anonymous calls are on, any visitor at most perMinute times a minute
// per client address.
type callerGate struct {
	au        *auth.Service
	anonymous bool
	perMinute int
	salt      []byte
	now       func() time.Time

	mu   sync.Mutex
	seen map[string]*window
}

type window struct {
	start time.Time
	n     int
}

const callerKey = "hotline.webrtc.caller"

func (g *callerGate) handle(c *gin.Context) {
	if h := c.GetHeader("Authorization"); h != "" {
		// An app's backend or a logged-in app: the session must be valid.
		g.au.RequireRole()(c)
		if !c.IsAborted() {
			c.Set(callerKey, auth.Actor(c))
		}
		return
	}
	if ck, err := c.Request.Cookie(auth.CookieName); err == nil {
		if sess, err := g.au.Authenticate(c.Request.Context(), ck.Value); err == nil {
			if !auth.CheckCSRF(sess.Token, c.GetHeader(auth.CSRFHeader)) {
				web.Problem(c, http.StatusForbidden, "CSRF check failed", "send the "+auth.CSRFHeader+" header from /api/v1/auth/me")
				return
			}
			c.Set(callerKey, sess.User.Username)
			return
		}
		// An expired session calls as a visitor.
	}
	if !g.anonymous {
		c.Header("WWW-Authenticate", `Bearer realm="hotline"`)
		web.Problem(c, http.StatusUnauthorized, "Not logged in", "log in to call")
		return
	}
	// The peer's own address: X-Forwarded-For is not trusted (gin would
	// take it from anyone), so a visitor cannot dodge the limit with it.
	ip := c.RemoteIP()
	if wait, ok := g.allow(ip); !ok {
		c.Header("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
		web.Problem(c, http.StatusTooManyRequests, "Too many calls", "too many calls from this address; try again in a minute")
		return
	}
	m := hmac.New(sha256.New, g.salt)
	m.Write([]byte(ip))
	c.Set(callerKey, "anonymous:"+hex.EncodeToString(m.Sum(nil))[:16])
}

// allow counts a token for ip in its one-minute window.
func (g *callerGate) allow(ip string) (time.Duration, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if len(g.seen) > 10000 {
		for k, w := range g.seen {
			if now.Sub(w.start) >= time.Minute {
				delete(g.seen, k)
			}
		}
	}
	w := g.seen[ip]
	if w == nil || now.Sub(w.start) >= time.Minute {
		w = &window{start: now}
		g.seen[ip] = w
	}
	if w.n >= g.perMinute {
		return w.start.Add(time.Minute).Sub(now), false
	}
	w.n++
	return 0, true
}

func callerSubject(c *gin.Context) string { return c.GetString(callerKey) }
