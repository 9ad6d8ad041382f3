package main

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/asr"
	"github.com/hotline-ivr/hotline/auth"
	"github.com/hotline-ivr/hotline/bot/adapters"
	"github.com/hotline-ivr/hotline/calls"
	"github.com/hotline-ivr/hotline/config"
	"github.com/hotline-ivr/hotline/handoff"
	"github.com/hotline-ivr/hotline/internal/redact"
	"github.com/hotline-ivr/hotline/telephony/sip"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/voice"
	"github.com/hotline-ivr/hotline/web"
)

// phone is the running SIP channel; Close stops it (calls in progress get
// sip.shutdown_grace, then BYE) and then the recognisers.
type phone struct {
	Calls   *calls.Handler
	Store   *calls.Store
	srv     *sip.Server
	recs    []recognizer
	cancel  context.CancelFunc
	done    chan struct{}
	closed  atomic.Bool
	serving atomic.Bool
}

// Close is idempotent and waits for the server to stop.
func (p *phone) Close() error {
	if p == nil || !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	if p.cancel != nil {
		p.cancel()
		<-p.done
	}
	var errs []error
	for _, r := range p.recs {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}

// mountCalls records calls and serves /api/v1/calls whether or not the
// SIP channel is on (WebRTC calls are recorded there too).
func mountCalls(ctx context.Context, db *sql.DB, srv *web.Server, au *auth.Service) (*calls.Store, error) {
	st, err := calls.OpenStore(ctx, db)
	if err != nil {
		return nil, err
	}
	calls.Register(srv.API(), st, au.RequireRole(auth.RoleAgent, auth.RoleSupervisor, auth.RoleAdmin))
	return st, nil
}

// startPhone builds the recognisers, the calls handler over the bot and
// the speech synthesizer serve already runs, and starts the SIP server on
// sip.addr. Binding failures fail the start with a clear message.
func startPhone(ctx context.Context, cfg *config.Config, srv *web.Server, st *calls.Store, synth tts.Synthesizer,
	bs *botStack, ap *appeals, links *callLinks, log *slog.Logger) (*phone, error) {
	plog := log.With("component", "phone")
	p := &phone{Store: st}
	recs := map[string]asr.Recognizer{}
	for _, lang := range []string{"ru", "en"} {
		r, engine, err := phoneRecognizer(cfg, lang, log.With("component", "asr"))
		if err != nil {
			if lang == "ru" {
				plog.Warn("no Russian speech recognition: Russian callers are served by keys (DTMF) only; install a Vosk model with 'hotline models pull ru'", "error", err)
			} else {
				plog.Warn("no English speech recognition: English callers are served by keys (DTMF) only", "error", err)
			}
			continue
		}
		plog.Info("speech recognition for calls", "lang", lang, "engine", engine)
		recs[lang] = r
		p.recs = append(p.recs, r)
	}
	ok := false
	defer func() {
		if !ok {
			p.Close()
		}
	}()
	metrics, err := calls.NewMetrics(srv.Registry())
	if err != nil {
		return nil, err
	}
	opts := []calls.Option{
		calls.WithStore(st), calls.WithLogger(log.With("component", "calls")), calls.WithMetrics(metrics),
		calls.WithReferURI(func(q string) string { return cfg.Queues.ReferURI[q] }),
	}
	if ap != nil {
		opts = append(opts, calls.WithCallbacks(callbackRequests{svc: ap.Service, center: ap.Center}))
	}
	opts = append(opts, links.options()...)
	h, err := calls.New(bs.voiceDeps(func(lang string) (asr.Recognizer, error) {
		if r, ok := recs[lang]; ok {
			return r, nil
		}
		return nil, fmt.Errorf("%w: %s", voice.ErrNoRecognizer, lang)
	}, synth), bs.VoiceConfig, opts...)
	if err != nil {
		return nil, err
	}
	p.Calls = h

	s := cfg.SIP
	sopts := []sip.Option{sip.WithLogger(log), sip.WithRTP(s.RTPAddress, s.RTPPortMin, s.RTPPortMax),
		sip.WithNoRTPTimeout(s.NoRTPTimeout), sip.WithMaxCalls(s.MaxCalls), sip.WithShutdownGrace(s.ShutdownGrace),
		sip.WithSRTP(sip.SRTPPolicy(s.SRTP)), sip.WithSessionExpires(s.SessionExpires), sip.WithMinSE(s.MinSE)}
	for _, t := range s.Transports {
		sopts = append(sopts, sip.WithListen(t, s.Addr))
	}
	if s.PublicAddress != "" {
		sopts = append(sopts, sip.WithPublicAddress(s.PublicAddress))
	}
	if len(s.Allow) > 0 {
		sopts = append(sopts, sip.WithAllowList(s.Allow...))
	}
	if len(s.Auth.Users) > 0 {
		sopts = append(sopts, sip.WithDigestAuth(s.Auth.Realm, s.Auth.Users))
	}
	if len(s.Codecs) > 0 {
		sopts = append(sopts, sip.WithCodecs(s.Codecs...))
	}
	if s.TLS.Addr != "" {
		cert, err := tls.LoadX509KeyPair(cfg.Path(s.TLS.Cert), cfg.Path(s.TLS.Key))
		if err != nil {
			return nil, fmt.Errorf("sip.tls: %w", err)
		}
		sopts = append(sopts, sip.WithTLS(s.TLS.Addr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	}
	p.srv, err = sip.NewServer(calls.SIPHandler(h), sopts...)
	if err != nil {
		return nil, fmt.Errorf("sip: cannot listen on %s (%v): %w\n(set sip.addr or --sip to another address, or turn phone calls off with sip.enabled: false or --sip \"\")",
			s.Addr, s.Transports, err)
	}
	sctx, cancel := context.WithCancel(ctx)
	p.cancel, p.done = cancel, make(chan struct{})
	p.serving.Store(true)
	go func() {
		defer close(p.done)
		defer p.serving.Store(false)
		if err := p.srv.Serve(sctx); err != nil {
			plog.Error("sip server stopped", "error", err)
		}
	}()
	srv.AddReadiness("sip", func(context.Context) error {
		if !p.serving.Load() {
			return errors.New("sip server is not serving")
		}
		return nil
	})
	var addrs []any
	for _, n := range []string{"udp", "tcp", "tls"} {
		if a := p.srv.Addr(n); a != nil {
			addrs = append(addrs, n, a.String())
		}
	}
	plog.Info("phone calls over SIP", addrs...)
	ok = true
	return p, nil
}

// phoneRecognizer picks the recogniser for calls in lang: the configured
// engine when its model loads, else PocketSphinx for English.
func phoneRecognizer(cfg *config.Config, lang string, log *slog.Logger) (recognizer, string, error) {
	engines := []string{cfg.ASR.Engine}
	if cfg.ASR.Engine == "vosk" && lang == "en" {
		engines = append(engines, "sphinx")
	}
	if cfg.ASR.Engine == "sphinx" && lang == "ru" {
		engines = []string{"vosk"}
	}
	var errs []error
	for _, e := range engines {
		r, err := newRecognizer(cfg, e, lang, log)
		if err == nil {
			return r, e, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", e, err))
	}
	return nil, "", errors.Join(errs...)
}

// callbackRequests turns a handoff that could not reach a person into a
// callback appeal in the same queue, and withdraws the live handoff.
type callbackRequests struct {
	svc    *appeal.Service
	center *handoff.Center
}

func (c callbackRequests) RequestCallback(ctx context.Context, h voice.Handoff, phone string) (string, error) {
	return c.RequestCallbackFor(ctx, calls.CallbackRequest{Handoff: h, Phone: phone})
}

// Transferred withdraws the desk handoff of a call the PBX's queue has
// taken over, and notes the transfer on the appeal.
func (c callbackRequests) Transferred(ctx context.Context, h voice.Handoff, referTo string) error {
	var errs []error
	if h.HandoffID != "" && c.center != nil {
		if err := c.center.Cancel(h.HandoffID); err != nil && !errors.Is(err, handoff.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	if h.AppealNumber != "" && c.svc != nil {
		if _, err := c.svc.AddNote(ctx, h.AppealNumber, "bot", "The call was transferred to "+referTo); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RequestCallbackFor registers the callback appeal with the call's
// transcript. An in-app caller without a phone number gets an appeal
// with no contact phone that names the user: the operator answers it
// through the app or portal.
func (c callbackRequests) RequestCallbackFor(ctx context.Context, r calls.CallbackRequest) (string, error) {
	h, phone := r.Handoff, r.Phone
	if h.HandoffID != "" && c.center != nil {
		_ = c.center.Cancel(h.HandoffID) // may be gone already (the agent declined, it timed out)
	}
	subject := "Callback: the call could not be transferred to an operator"
	if r.Channel == "webrtc" {
		subject = "Callback: the in-app call could not be transferred to an operator"
		if phone == "" {
			subject += "; no phone number: answer through the app or portal"
		}
	}
	if h.AppealNumber != "" {
		subject += " (appeal " + h.AppealNumber + ")"
	}
	na := appeal.NewAppeal{Channel: appeal.Callback, Lang: h.Lang, Queue: h.Queue,
		Intent: "callback", Subject: subject, Contact: appeal.Contact{Phone: phone}, Actor: "bot"}
	if len(r.Transcript) > 0 {
		na.Transcript = adapters.Turns(r.Transcript)
	}
	if r.Channel != "" && r.Channel != "sip" {
		na.Slots = map[string]string{"call_channel": r.Channel}
		if r.User != "" {
			na.Slots["call_user"] = r.User
		}
	}
	ap, _, err := c.svc.Create(ctx, na, "")
	if err != nil {
		return "", fmt.Errorf("callback appeal for %s: %w", redact.Digits(phone), err)
	}
	if c.center != nil {
		if _, err := c.center.Submit(handoff.Request{AppealNumber: ap.Number, Channel: appeal.Callback, Lang: ap.Lang,
			Queue: ap.Queue, Intent: ap.Intent, HasOpenAppeal: true}); err != nil {
			return ap.Number, fmt.Errorf("queueing callback %s: %w", ap.Number, err)
		}
	}
	return ap.Number, nil
}
