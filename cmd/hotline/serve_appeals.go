package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/appeal/appealapi"
	"github.com/hotline-ivr/hotline/appeal/sms"
	"github.com/hotline-ivr/hotline/appeal/sqlitestore"
	"github.com/hotline-ivr/hotline/appeal/webhook"
	"github.com/hotline-ivr/hotline/auth"
	"github.com/hotline-ivr/hotline/handoff"
	"github.com/hotline-ivr/hotline/handoff/handoffapi"
)

// appealsConfig is what appeals, notifications and queues need. The lead
// maps it from the YAML config (keys in the comments).
type appealsConfig struct {
	// appeals.encryption_key (env HOTLINE_APPEALS_ENCRYPTION_KEY): 32 bytes, base64 or hex.
	EncryptionKey string
	// appeals.encryption_key_id (default "k1"); older keys in appeals.old_keys {id: key}.
	EncryptionKeyID string
	OldKeys         map[string]string
	// appeals.lookup_key: keys the phone hash; set it before rotating the encryption key.
	LookupKey string
	// appeals.holidays / appeals.working_days: dates for the working-day calendar.
	Holidays    []string
	WorkingDays []string
	// appeals.processing_days (5), appeals.approval_days (10), appeals.escalation_interval (5m).
	ProcessingDays, ApprovalDays int
	EscalationEvery              time.Duration
	// appeals.webhooks: [{url, secret, events}].
	Webhooks []webhook.Endpoint
	// appeals.sms: {url, token, sender}; empty url disables SMS.
	SMS sms.Config
	// queues.holidays: date → "closed" or "HH:MM-HH:MM" (all queues);
	// queues.overflow_after (3m); queues.refer_uri: PBX queue URI per queue name.
	QueueHolidays map[string]string
	OverflowAfter time.Duration
	ReferURI      map[string]string
	// desk.offer_timeout (20s), desk.disconnect_grace (5s), desk.origins.
	OfferTimeout, DisconnectGrace time.Duration
	DeskOrigins                   []string
}

// appeals is the running appeals stack; Close stops it in order.
type appeals struct {
	Service *appeal.Service
	Center  *handoff.Center
	// Hooks is the webhook outbox (call.ended is published there too).
	Hooks   *webhook.Notifier
	closers []func() error
}

// Close stops the background workers (escalation, webhook and SMS
// senders, the queue ticker) and waits for them.
func (a *appeals) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	return errors.Join(errs...)
}

// startAppeals builds the appeals service, notifications and queues on db,
// mounts their routes on api guarded by authSvc, and starts their workers.
//
// Wiring in serve.go, after the auth service exists:
//
//	ap, err := startAppeals(ctx, log, db, srv.API(), authSvc, cfgAppeals)
//	if err != nil { return err }
//	defer ap.Close()
func startAppeals(ctx context.Context, log *slog.Logger, db *sql.DB, api *gin.RouterGroup, authSvc *auth.Service, cfg appealsConfig) (*appeals, error) {
	if cfg.EncryptionKey == "" {
		return nil, errors.New("appeals: set appeals.encryption_key or HOTLINE_APPEALS_ENCRYPTION_KEY (32 random bytes, base64: openssl rand -base64 32)")
	}
	if cfg.EncryptionKeyID == "" {
		cfg.EncryptionKeyID = "k1"
	}
	keys := map[string][]byte{}
	for id, s := range cfg.OldKeys {
		k, err := appeal.ParseKey(s)
		if err != nil {
			return nil, fmt.Errorf("appeals: old key %s: %w", id, err)
		}
		keys[id] = k
	}
	active, err := appeal.ParseKey(cfg.EncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("appeals: encryption key: %w", err)
	}
	keys[cfg.EncryptionKeyID] = active
	var lookup []byte
	if cfg.LookupKey != "" {
		if lookup, err = appeal.ParseKey(cfg.LookupKey); err != nil {
			return nil, fmt.Errorf("appeals: lookup key: %w", err)
		}
	}
	keyring, err := appeal.NewKeyring(cfg.EncryptionKeyID, keys, lookup)
	if err != nil {
		return nil, err
	}
	cal, err := appeal.NewCalendar(nil, cfg.Holidays, cfg.WorkingDays)
	if err != nil {
		return nil, err
	}
	repo, err := sqlitestore.New(ctx, db)
	if err != nil {
		return nil, err
	}
	a := &appeals{}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()

	var notifiers appeal.Notifiers
	hooks, err := webhook.New(ctx, db, cfg.Webhooks, webhook.WithLogger(log.With("component", "webhook")))
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, hooks.Close)
	a.Hooks = hooks
	notifiers = append(notifiers, hooks)
	if cfg.SMS.URL != "" {
		texts, err := sms.New(cfg.SMS, sms.WithLogger(log.With("component", "sms")))
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, texts.Close)
		notifiers = append(notifiers, texts)
	}
	a.Service, err = appeal.NewService(repo, keyring, appeal.WithLogger(log.With("component", "appeals")),
		appeal.WithCalendar(cal), appeal.WithNotifier(notifiers),
		appeal.WithLimits(appeal.Limits{ProcessingDays: cfg.ProcessingDays, ApprovalDays: cfg.ApprovalDays}))
	if err != nil {
		return nil, err
	}
	every := cfg.EscalationEvery
	if every <= 0 {
		every = 5 * time.Minute
	}
	a.closers = append(a.closers, a.Service.StartEscalation(ctx, every).Close)

	queues, err := handoff.DefaultQueues()
	if err != nil {
		return nil, err
	}
	for i := range queues {
		if queues[i].Schedule, err = queues[i].Schedule.WithHolidays(cfg.QueueHolidays); err != nil {
			return nil, err
		}
		if cfg.OverflowAfter > 0 && queues[i].OverflowTo != "" {
			queues[i].OverflowAfter = cfg.OverflowAfter
		}
		queues[i].ReferURI = cfg.ReferURI[queues[i].Name]
	}
	opts := []handoff.Option{handoff.WithLogger(log.With("component", "queues"))}
	if cfg.OfferTimeout > 0 {
		opts = append(opts, handoff.WithOfferTimeout(cfg.OfferTimeout))
	}
	if cfg.DisconnectGrace > 0 {
		opts = append(opts, handoff.WithDisconnectGrace(cfg.DisconnectGrace))
	}
	if a.Center, err = handoff.New(queues, opts...); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.Center.Close)
	if err := restoreCallbacks(ctx, a.Service, a.Center); err != nil {
		log.Error("restoring callback appeals into the queues", "err", err)
	}

	agent := authSvc.RequireRole(auth.RoleAgent, auth.RoleSupervisor, auth.RoleAdmin)
	supervisor := authSvc.RequireRole(auth.RoleSupervisor, auth.RoleAdmin)
	isSupervisor := func(c *gin.Context) bool {
		u, _ := auth.CurrentUser(c)
		return u.HasRole(auth.RoleSupervisor, auth.RoleAdmin)
	}
	// The bot and chat reach appeals in-process; over HTTP, creating appeals
	// and handoffs or looking one up is for signed-in staff and integrations
	// with a bearer token, so nobody can flood the queues anonymously.
	appealapi.Register(api, a.Service, agent, supervisor, appealapi.WithActor(auth.Actor), appealapi.WithBotGuard(agent),
		appealapi.WithDeadLetters(hooks), appealapi.WithLogger(log))
	handoffapi.Register(api, a.Center, agent, supervisor, handoffapi.WithActor(auth.Actor), handoffapi.WithBotGuard(agent),
		handoffapi.WithAppeals(a.Service), handoffapi.WithSupervisorCheck(isSupervisor),
		handoffapi.WithOriginPatterns(cfg.DeskOrigins...), handoffapi.WithLogger(log))
	ok = true
	return a, nil
}

// restoreCallbacks queues again the callback appeals nobody has taken yet:
// the live queues are in memory, the appeals are durable.
func restoreCallbacks(ctx context.Context, svc *appeal.Service, center *handoff.Center) error {
	for offset := 0; ; offset += 500 {
		list, err := svc.List(ctx, appeal.Filter{Channel: appeal.Callback, Status: appeal.Accepted, Limit: 500, Offset: offset})
		if err != nil {
			return err
		}
		for _, ap := range list {
			if _, err := center.Submit(handoff.Request{AppealNumber: ap.Number, Channel: appeal.Callback, Lang: ap.Lang,
				Queue: ap.Queue, Intent: ap.Intent, Region: ap.Region, Slots: ap.Slots, HasOpenAppeal: true}); err != nil {
				return err
			}
		}
		if len(list) < 500 {
			return nil
		}
	}
}
