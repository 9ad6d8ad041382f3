// Package webhook delivers appeal events to HTTP receivers, signed with
// HMAC-SHA256, through an outbox table in the SQLite database: Notify only
// stores the event (so it survives a restart), a worker delivers it with
// exponential back-off and jitter, and after the last attempt it moves to
// the dead-letter list, from which it can be retried.
//
// A request carries:
//
//	Content-Type: application/json
//	X-Hotline-Event: appeal.status_changed
//	X-Hotline-Delivery: <delivery id, the same on every retry>
//	X-Hotline-Timestamp: <unix seconds>
//	X-Hotline-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// Receivers check the signature with Verify and refuse old timestamps,
// which stops replays.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/store"
)

// Header names.
const (
	HeaderEvent     = "X-Hotline-Event"
	HeaderDelivery  = "X-Hotline-Delivery"
	HeaderTimestamp = "X-Hotline-Timestamp"
	HeaderSignature = "X-Hotline-Signature"
)

var (
	// ErrBadSignature means the signature does not match the body.
	ErrBadSignature = errors.New("webhook: bad signature")
	// ErrStale means the timestamp is outside the tolerance: a replay or a skewed clock.
	ErrStale = errors.New("webhook: timestamp too old or in the future")
	// ErrNotFound means no dead letter has the id.
	ErrNotFound = errors.New("webhook: no such dead letter")
	// ErrInvalid means the endpoint configuration is wrong.
	ErrInvalid = errors.New("webhook: invalid endpoint")
)

// Endpoint is one receiver.
type Endpoint struct {
	URL    string
	Secret string
	// Events limits what the receiver gets (all when empty).
	Events []string
}

func (e Endpoint) wants(event string) bool {
	if len(e.Events) == 0 {
		return true
	}
	for _, ev := range e.Events {
		if ev == event {
			return true
		}
	}
	return false
}

// Delivery is one event for one endpoint in the outbox.
type Delivery struct {
	ID        int64     `json:"id"`
	URL       string    `json:"url"`
	Event     string    `json:"event"`
	Number    string    `json:"number"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	NextAt    time.Time `json:"next_at"`
	Dead      bool      `json:"dead"`
}

var migrations = []store.Migration{{Name: "webhook outbox", SQL: `
CREATE TABLE webhook_outbox (
	id         INTEGER PRIMARY KEY,
	url        TEXT NOT NULL,
	event      TEXT NOT NULL,
	number     TEXT NOT NULL DEFAULT '',
	payload    BLOB NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	next_at    INTEGER NOT NULL,
	dead       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(dead, next_at);
`}}

// Notifier is the webhook appeal.Notifier.
type Notifier struct {
	db          *sql.DB
	log         *slog.Logger
	client      *http.Client
	endpoints   map[string]Endpoint
	order       []string
	maxAttempts int
	base, max   time.Duration
	now         func() time.Time

	wake   chan struct{}
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

// WithRetry sets the number of attempts before a delivery is dead
// (default 8) and the back-off: base doubled per attempt up to max, with
// ±25 % jitter (default 2 s up to 10 min: about 20 minutes in all).
func WithRetry(attempts int, base, max time.Duration) Option {
	return func(n *Notifier) { n.maxAttempts, n.base, n.max = attempts, base, max }
}

// WithClock injects the time source.
func WithClock(now func() time.Time) Option { return func(n *Notifier) { n.now = now } }

// New applies the outbox schema to db and starts the delivery worker; call
// Close to stop it. The caller keeps ownership of db.
func New(ctx context.Context, db *sql.DB, endpoints []Endpoint, opts ...Option) (*Notifier, error) {
	n := &Notifier{
		db: db, log: slog.New(slog.DiscardHandler),
		client:      &http.Client{Timeout: 10 * time.Second},
		endpoints:   map[string]Endpoint{},
		maxAttempts: 8, base: 2 * time.Second, max: 10 * time.Minute,
		now:  time.Now,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	for _, o := range opts {
		o(n)
	}
	for _, e := range endpoints {
		if !strings.HasPrefix(e.URL, "http://") && !strings.HasPrefix(e.URL, "https://") {
			return nil, fmt.Errorf("%w: url %q", ErrInvalid, e.URL)
		}
		if len(e.Secret) < 16 {
			return nil, fmt.Errorf("%w: the secret of %s needs at least 16 characters", ErrInvalid, e.URL)
		}
		if _, dup := n.endpoints[e.URL]; dup {
			return nil, fmt.Errorf("%w: %s listed twice", ErrInvalid, e.URL)
		}
		n.endpoints[e.URL] = e
		n.order = append(n.order, e.URL)
	}
	if err := store.Migrate(ctx, db, "webhooks", migrations); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	n.cancel = cancel
	go n.run(wctx)
	return n, nil
}

// Notify stores the event for every endpoint that wants it.
func (n *Notifier) Notify(ctx context.Context, ev appeal.Event) error {
	if len(n.order) == 0 {
		return nil
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	return n.queue(ctx, ev.Type, ev.Number, payload, Endpoint.wants)
}

// EventCallEnded is sent when a call ends (Publish from the calls
// handler). Only endpoints that list it in their events get it: receivers
// set up for appeal events are not sent calls they never asked for.
const EventCallEnded = "call.ended"

// Publish stores an event of another kind than an appeal's (v is its JSON
// body, number the appeal it concerns, if any) for the endpoints that
// list event in their events; it is signed, retried and dead-lettered
// like appeal events.
func (n *Notifier) Publish(ctx context.Context, event, number string, v any) error {
	if len(n.order) == 0 {
		return nil
	}
	payload, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return n.queue(ctx, event, number, payload, func(e Endpoint, ev string) bool {
		return len(e.Events) > 0 && e.wants(ev)
	})
}

func (n *Notifier) queue(ctx context.Context, event, number string, payload []byte, wants func(Endpoint, string) bool) error {
	tx, err := n.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("webhook: queue %s: %w", event, err)
	}
	defer tx.Rollback()
	now := n.now().UnixNano()
	any := false
	for _, url := range n.order {
		if !wants(n.endpoints[url], event) {
			continue
		}
		any = true
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_outbox (url, event, number, payload, created_at, next_at) VALUES (?,?,?,?,?,?)`,
			url, event, number, payload, now, now); err != nil {
			return fmt.Errorf("webhook: queue %s: %w", event, err)
		}
	}
	if !any {
		return nil
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("webhook: queue %s: %w", event, err)
	}
	n.poke()
	return nil
}

func (n *Notifier) poke() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Close stops the worker and waits for it; undelivered events stay in the
// outbox for the next start. It is idempotent.
func (n *Notifier) Close() error {
	n.once.Do(n.cancel)
	<-n.done
	return nil
}

func (n *Notifier) run(ctx context.Context) {
	defer close(n.done)
	for {
		next, err := n.deliverDue(ctx)
		if err != nil && ctx.Err() == nil {
			n.log.Error("webhook outbox", "err", err)
			next = time.Second
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-n.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

type row struct {
	Delivery
	payload []byte
}

// deliverDue sends what is due and says how long to sleep.
func (n *Notifier) deliverDue(ctx context.Context) (time.Duration, error) {
	for {
		now := n.now()
		rows, err := n.db.QueryContext(ctx, `SELECT id, url, event, number, payload, attempts FROM webhook_outbox
			WHERE dead = 0 AND next_at <= ? ORDER BY next_at, id LIMIT 32`, now.UnixNano())
		if err != nil {
			return 0, err
		}
		var due []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.ID, &r.URL, &r.Event, &r.Number, &r.payload, &r.Attempts); err != nil {
				rows.Close()
				return 0, err
			}
			due = append(due, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
		if len(due) == 0 {
			break
		}
		var wg sync.WaitGroup
		for _, r := range due {
			wg.Add(1)
			go func() { // one goroutine per due delivery, at most 32, all waited for
				defer wg.Done()
				n.attempt(ctx, r)
			}()
		}
		wg.Wait()
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
	}
	var next sql.NullInt64
	if err := n.db.QueryRowContext(ctx, `SELECT MIN(next_at) FROM webhook_outbox WHERE dead = 0`).Scan(&next); err != nil {
		return 0, err
	}
	if !next.Valid {
		return time.Hour, nil
	}
	return max(time.Until(time.Unix(0, next.Int64)), 5*time.Millisecond), nil
}

func (n *Notifier) attempt(ctx context.Context, r row) {
	ep, ok := n.endpoints[r.URL]
	var err error
	if !ok {
		err = errors.New("endpoint no longer configured")
	} else {
		err = n.send(ctx, ep, r)
	}
	if ctx.Err() != nil {
		return // shutting down: the row stays due
	}
	if err == nil {
		if _, err := n.db.ExecContext(ctx, `DELETE FROM webhook_outbox WHERE id = ?`, r.ID); err != nil {
			n.log.Error("webhook: delete delivered", "id", r.ID, "err", err)
		}
		n.log.Debug("webhook delivered", "url", r.URL, "event", r.Event, "number", r.Number, "attempts", r.Attempts+1)
		return
	}
	attempts := r.Attempts + 1
	dead := attempts >= n.maxAttempts || !ok
	next := n.now().Add(n.backoff(attempts))
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	if _, dbErr := n.db.ExecContext(ctx, `UPDATE webhook_outbox SET attempts = ?, last_error = ?, next_at = ?, dead = ? WHERE id = ?`,
		attempts, msg, next.UnixNano(), dead, r.ID); dbErr != nil {
		n.log.Error("webhook: record failure", "id", r.ID, "err", dbErr)
	}
	if dead {
		n.log.Error("webhook dead letter", "url", r.URL, "event", r.Event, "number", r.Number, "attempts", attempts, "err", msg)
	} else {
		n.log.Warn("webhook delivery failed", "url", r.URL, "event", r.Event, "attempts", attempts, "err", msg)
	}
}

func (n *Notifier) backoff(attempt int) time.Duration {
	d := n.base << min(attempt-1, 30)
	if d > n.max || d <= 0 {
		d = n.max
	}
	jitter := 0.75 + rand.Float64()/2
	return time.Duration(float64(d) * jitter)
}

func (n *Notifier) send(ctx context.Context, ep Endpoint, r row) error {
	ts := strconv.FormatInt(n.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(r.payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Hotline-Webhook/1")
	req.Header.Set(HeaderEvent, r.Event)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(r.ID, 10))
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(ep.Secret, ts, r.payload))
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

// Sign returns the X-Hotline-Signature value for body sent at timestamp.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a received webhook: the signature over timestamp and body,
// and that the timestamp is within tolerance of now.
func Verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrBadSignature, timestamp)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return ErrBadSignature
	}
	return nil
}

// Pending counts deliveries not yet delivered and not dead.
func (n *Notifier) Pending(ctx context.Context) (int, error) {
	var c int
	err := n.db.QueryRowContext(ctx, `SELECT count(*) FROM webhook_outbox WHERE dead = 0`).Scan(&c)
	return c, err
}

// DeadLetters lists deliveries that ran out of attempts, oldest first.
func (n *Notifier) DeadLetters(ctx context.Context, limit int) ([]Delivery, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := n.db.QueryContext(ctx, `SELECT id, url, event, number, attempts, last_error, created_at, next_at FROM webhook_outbox
		WHERE dead = 1 ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var d Delivery
		var created, next int64
		if err := rows.Scan(&d.ID, &d.URL, &d.Event, &d.Number, &d.Attempts, &d.LastError, &created, &next); err != nil {
			return nil, err
		}
		d.CreatedAt, d.NextAt, d.Dead = time.Unix(0, created).UTC(), time.Unix(0, next).UTC(), true
		out = append(out, d)
	}
	return out, rows.Err()
}

// Retry puts a dead letter back in the outbox with fresh attempts.
func (n *Notifier) Retry(ctx context.Context, id int64) error {
	res, err := n.db.ExecContext(ctx, `UPDATE webhook_outbox SET dead = 0, attempts = 0, next_at = ? WHERE id = ? AND dead = 1`,
		n.now().UnixNano(), id)
	if err != nil {
		return err
	}
	if c, _ := res.RowsAffected(); c == 0 {
		return fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	n.poke()
	return nil
}

// RetryAll puts every dead letter back and says how many.
func (n *Notifier) RetryAll(ctx context.Context) (int, error) {
	res, err := n.db.ExecContext(ctx, `UPDATE webhook_outbox SET dead = 0, attempts = 0, next_at = ? WHERE dead = 1`, n.now().UnixNano())
	if err != nil {
		return 0, err
	}
	c, _ := res.RowsAffected()
	n.poke()
	return int(c), nil
}
