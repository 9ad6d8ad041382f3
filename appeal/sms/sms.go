// Package sms tells callers about their appeals by text message through an
// HTTP SMS gateway: a JSON POST {"to": "+7…", "text": "…", "sender": "…"}
// with a bearer token. Messages are rendered from a template per language
// and event, queued in memory and sent by one worker with a few retries.
// Unlike webhooks the queue is not persisted (it would hold phone numbers
// in clear); an SMS lost to a restart is logged as not sent.
package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/internal/redact"
)

var (
	// ErrQueueFull means messages arrive faster than the gateway takes them.
	ErrQueueFull = errors.New("sms: queue full")
	// ErrInvalid means the gateway configuration is wrong.
	ErrInvalid = errors.New("sms: invalid configuration")
)

// Config is the gateway.
type Config struct {
	URL    string
	Token  string
	Sender string
	// Templates by language ("ru", "en"), then by event key: a status name
	// ("in_progress", "done", …) for status changes and "created" for new
	// appeals. {number}, {status} and {reason} are replaced. A missing
	// template sends nothing for that event. Nil means DefaultTemplates.
	Templates map[string]map[string]string
}

// DefaultTemplates are used when Config.Templates is nil.
var DefaultTemplates = map[string]map[string]string{
	"ru": {
		"created":                    "Обращение {number} принято. Статус можно узнать по телефону горячей линии.",
		string(appeal.InProgress):    "Обращение {number}: в обработке.",
		string(appeal.UnderApproval): "Обращение {number}: на согласовании.",
		string(appeal.Done):          "Обращение {number} выполнено.",
		string(appeal.Rejected):      "Обращение {number} отклонено: {reason}",
	},
	"en": {
		"created":                    "Appeal {number} is registered. Call the hotline to check its status.",
		string(appeal.InProgress):    "Appeal {number} is in progress.",
		string(appeal.UnderApproval): "Appeal {number} is under approval.",
		string(appeal.Done):          "Appeal {number} is done.",
		string(appeal.Rejected):      "Appeal {number} was rejected: {reason}",
	},
}

type message struct{ to, text, number string }

// Notifier is the SMS appeal.Notifier.
type Notifier struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	queue  chan message
	tries  int
	pause  time.Duration

	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

var _ appeal.Notifier = (*Notifier)(nil)

// Option configures a Notifier.
type Option func(*Notifier)

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(n *Notifier) { n.log = l } }

// WithHTTPClient sets the client (default: 10 s timeout).
func WithHTTPClient(c *http.Client) Option { return func(n *Notifier) { n.client = c } }

// WithRetry sets attempts per message (default 3) and the pause between them (default 2 s, doubled each time).
func WithRetry(tries int, pause time.Duration) Option {
	return func(n *Notifier) { n.tries, n.pause = tries, pause }
}

// New starts the sender; call Close to stop it.
func New(cfg Config, opts ...Option) (*Notifier, error) {
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("%w: gateway url %q", ErrInvalid, cfg.URL)
	}
	if cfg.Templates == nil {
		cfg.Templates = DefaultTemplates
	}
	n := &Notifier{cfg: cfg, log: slog.New(slog.DiscardHandler), client: &http.Client{Timeout: 10 * time.Second},
		queue: make(chan message, 1024), tries: 3, pause: 2 * time.Second, done: make(chan struct{})}
	for _, o := range opts {
		o(n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go n.run(ctx)
	return n, nil
}

// Render returns the text for an event, or "" when none is configured.
func (n *Notifier) Render(ev appeal.Event) string {
	key := string(ev.Status)
	switch ev.Type {
	case appeal.EventCreated:
		key = "created"
	case appeal.EventStatusChanged:
	default:
		return "" // escalations are internal
	}
	lang := ev.Lang
	if _, ok := n.cfg.Templates[lang]; !ok {
		lang = "ru"
	}
	tpl := n.cfg.Templates[lang][key]
	if tpl == "" {
		return ""
	}
	return strings.NewReplacer("{number}", appeal.FormatNumber(ev.Number), "{status}", ev.Status.Label(lang),
		"{reason}", ev.Reason).Replace(tpl)
}

// Notify queues the message for the appeal's phone, if any.
func (n *Notifier) Notify(_ context.Context, ev appeal.Event) error {
	phone := appeal.NormalizePhone(ev.Phone)
	if len(phone) < 10 {
		return nil // no phone to text
	}
	text := n.Render(ev)
	if text == "" {
		return nil
	}
	select {
	case n.queue <- message{to: "+" + phone, text: text, number: ev.Number}:
		return nil
	default:
		return fmt.Errorf("%w: SMS about %s to %s dropped", ErrQueueFull, ev.Number, redact.Digits(phone))
	}
}

// Close stops the worker after the message in flight and waits. Queued
// messages are dropped and logged. It is idempotent.
func (n *Notifier) Close() error {
	n.once.Do(n.cancel)
	<-n.done
	return nil
}

func (n *Notifier) run(ctx context.Context) {
	defer close(n.done)
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case m := <-n.queue:
					n.log.Warn("sms not sent: shutting down", "to", redact.Digits(m.to), "number", m.number)
				default:
					return
				}
			}
		case m := <-n.queue:
			n.deliver(ctx, m)
		}
	}
}

func (n *Notifier) deliver(ctx context.Context, m message) {
	pause := n.pause
	var err error
	for try := 1; try <= n.tries; try++ {
		if err = n.send(context.WithoutCancel(ctx), m); err == nil { // a message in flight finishes
			n.log.Info("sms sent", "to", redact.Digits(m.to), "number", m.number)
			return
		}
		if try == n.tries {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause *= 2
	}
	n.log.Error("sms not sent", "to", redact.Digits(m.to), "number", m.number, "err", err)
}

func (n *Notifier) send(ctx context.Context, m message) error {
	body, _ := json.Marshal(map[string]string{"to": m.to, "text": m.text, "sender": n.cfg.Sender})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if n.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+n.cfg.Token)
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return errors.New(redact.String(err.Error()))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("gateway answered %s", resp.Status)
	}
	return nil
}
