package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/appeal/webhook"
	"github.com/hotline-ivr/hotline/store"
)

const secret = "0123456789abcdef-secret"

// receiver checks every signature and can be switched down.
type receiver struct {
	t        *testing.T
	down     atomic.Bool
	hits     atomic.Int32
	mu       sync.Mutex
	got      []appeal.Event
	received chan struct{}
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.hits.Add(1)
	if r.down.Load() {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(req.Body)
	if err := webhook.Verify(secret, req.Header.Get(webhook.HeaderTimestamp), req.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
		r.t.Errorf("receiver: %v", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var ev appeal.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		r.t.Errorf("receiver: %v", err)
	}
	if req.Header.Get(webhook.HeaderEvent) != ev.Type || req.Header.Get(webhook.HeaderDelivery) == "" {
		r.t.Errorf("headers %v", req.Header)
	}
	r.mu.Lock()
	r.got = append(r.got, ev)
	r.mu.Unlock()
	r.received <- struct{}{}
}

func (r *receiver) wait(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-r.received:
		case <-time.After(5 * time.Second):
			t.Fatalf("receiver got %d of %d events", i, n)
		}
	}
}

func setup(t *testing.T) (*receiver, *httptest.Server, string) {
	rec := &receiver{t: t, received: make(chan struct{}, 100)}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return rec, srv, filepath.Join(t.TempDir(), "hotline.db")
}

func open(t *testing.T, path, url string) *webhook.Notifier {
	t.Helper()
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	n, err := webhook.New(context.Background(), db, []webhook.Endpoint{{URL: url, Secret: secret}},
		webhook.WithRetry(3, 10*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func event(number string) appeal.Event {
	return appeal.Event{ID: "e-" + number, Type: appeal.EventStatusChanged, At: time.Now(), Number: number,
		Status: appeal.Done, From: appeal.InProgress, Actor: "anna", Phone: "+79991234567"}
}

func TestSignedDelivery(t *testing.T) {
	rec, srv, path := setup(t)
	n := open(t, path, srv.URL)
	if err := n.Notify(context.Background(), event("1")); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, 1)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.got[0].Number != "1" || rec.got[0].Status != appeal.Done || rec.got[0].Phone != "" {
		t.Fatalf("received %+v (the phone must not leave)", rec.got[0])
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"a":1}`)
	now := time.Now()
	ts := func(t time.Time) string { return json.Number(itoa(t.Unix())).String() }
	sig := webhook.Sign(secret, ts(now), body)
	if err := webhook.Verify(secret, ts(now), sig, body, now, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := webhook.Verify(secret, ts(now), sig, []byte(`{"a":2}`), now, time.Minute); err != webhook.ErrBadSignature {
		t.Fatalf("tampered body: %v", err)
	}
	if err := webhook.Verify("another-secret-0000", ts(now), sig, body, now, time.Minute); err != webhook.ErrBadSignature {
		t.Fatalf("wrong secret: %v", err)
	}
	old := now.Add(-10 * time.Minute)
	if err := webhook.Verify(secret, ts(old), webhook.Sign(secret, ts(old), body), body, now, time.Minute); err != webhook.ErrStale {
		t.Fatalf("replay: %v", err)
	}
}

func itoa(v int64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestReceiverDownDeadLetterThenRecovery(t *testing.T) {
	rec, srv, path := setup(t)
	rec.down.Store(true)
	n := open(t, path, srv.URL)
	ctx := context.Background()
	n.Notify(ctx, event("2"))
	deadline := time.Now().Add(5 * time.Second)
	var dead []webhook.Delivery
	for time.Now().Before(deadline) {
		dead, _ = n.DeadLetters(ctx, 0)
		if len(dead) == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(dead) != 1 || dead[0].Attempts != 3 || dead[0].LastError == "" || dead[0].Number != "2" {
		t.Fatalf("dead letters %+v", dead)
	}
	if hits := rec.hits.Load(); hits != 3 {
		t.Fatalf("%d attempts, want 3", hits)
	}
	rec.down.Store(false)
	if err := n.Retry(ctx, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, 1)
	if dead, _ = n.DeadLetters(ctx, 0); len(dead) != 0 {
		t.Fatalf("still dead: %+v", dead)
	}
	if err := n.Retry(ctx, 999); err == nil {
		t.Fatal("retry of unknown id")
	}
}

func TestOutboxSurvivesRestart(t *testing.T) {
	rec, srv, path := setup(t)
	// The first instance cannot reach anyone...
	n1 := open(t, path, "http://127.0.0.1:1/unreachable")
	n1.Close()
	db, _ := store.Open(path)
	defer db.Close()
	n1b, err := webhook.New(context.Background(), db, []webhook.Endpoint{{URL: srv.URL, Secret: secret}},
		webhook.WithRetry(3, 10*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// ...and this one is stopped right after queueing: the event waits in the outbox.
	rec.down.Store(true)
	n1b.Notify(context.Background(), event("3"))
	n1b.Close()
	n1b.Close() // idempotent
	rec.down.Store(false)
	n2 := open(t, path, srv.URL)
	rec.wait(t, 1)
	for i := 0; ; i++ {
		p, _ := n2.Pending(context.Background())
		if p == 0 {
			break
		}
		if i == 200 {
			t.Fatalf("%d pending after delivery", p)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPublishCallEnded: a call.ended event goes, signed, only to the
// endpoints that list it; one with no events filter keeps getting only
// appeal events.
func TestPublishCallEnded(t *testing.T) {
	rec, srv, path := setup(t)
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	n, err := webhook.New(context.Background(), db, []webhook.Endpoint{
		{URL: srv.URL + "/appeals", Secret: secret},
		{URL: srv.URL + "/calls", Secret: secret, Events: []string{webhook.EventCallEnded}},
	}, webhook.WithRetry(3, 10*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	body := map[string]any{"type": webhook.EventCallEnded, "call_id": "c1", "appeal_number": "2026-000042-7"}
	if err := n.Publish(context.Background(), webhook.EventCallEnded, "2026-000042-7", body); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, 1)
	time.Sleep(200 * time.Millisecond)
	if h := rec.hits.Load(); h != 1 {
		t.Fatalf("%d deliveries, want 1 (the endpoint that asked for call.ended)", h)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.got[0].Type != webhook.EventCallEnded {
		t.Fatalf("got %+v", rec.got)
	}
}
