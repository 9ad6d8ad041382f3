package handoffapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/appeal/appealapi"
	"github.com/hotline-ivr/hotline/appeal/sqlitestore"
	"github.com/hotline-ivr/hotline/appeal/webhook"
	"github.com/hotline-ivr/hotline/handoff"
	"github.com/hotline-ivr/hotline/handoff/handoffapi"
	"github.com/hotline-ivr/hotline/store"
)

const secret = "receiver-secret-0123456789"

// guard stands in for auth.RequireRole: the user and roles come from headers.
func guard(role string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.GetHeader("X-User") == "" {
			c.AbortWithStatus(http.StatusUnauthorized)
			return
		}
		if !strings.Contains(c.GetHeader("X-Roles"), role) {
			c.AbortWithStatus(http.StatusForbidden)
			return
		}
		c.Next()
	}
}

func actor(c *gin.Context) string { return c.GetHeader("X-User") }

type fixture struct {
	url      string
	received chan appeal.Event
	center   *handoff.Center
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{received: make(chan appeal.Event, 100)}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), time.Minute); err != nil {
			t.Errorf("webhook: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev appeal.Event
		json.Unmarshal(body, &ev)
		f.received <- ev
	}))
	t.Cleanup(hook.Close)

	db, err := store.Open(filepath.Join(t.TempDir(), "hotline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	repo, err := sqlitestore.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := webhook.New(ctx, db, []webhook.Endpoint{{URL: hook.URL, Secret: secret}}, webhook.WithRetry(3, 10*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hooks.Close() })
	keys, _ := appeal.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{3}, 32)}, nil)
	svc, err := appeal.NewService(repo, keys, appeal.WithNotifier(hooks))
	if err != nil {
		t.Fatal(err)
	}
	// Queues open around the clock for the test.
	qs, _ := handoff.DefaultQueues()
	always := &handoff.Schedule{Loc: time.UTC}
	for d := range always.Week {
		always.Week[d] = &handoff.Span{Open: 0, Close: 24 * time.Hour}
	}
	for i := range qs {
		qs[i].Schedule = always
	}
	f.center, err = handoff.New(qs, handoff.WithDisconnectGrace(0), handoff.WithTick(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.center.Close() })

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	api := r.Group("/api/v1")
	appealapi.Register(api, svc, guard("agent"), guard("supervisor"), appealapi.WithActor(actor), appealapi.WithDeadLetters(hooks))
	handoffapi.Register(api, f.center, guard("agent"), guard("supervisor"), handoffapi.WithActor(actor),
		handoffapi.WithAppeals(svc), handoffapi.WithSupervisorCheck(func(c *gin.Context) bool { return strings.Contains(c.GetHeader("X-Roles"), "supervisor") }))
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *fixture) do(t *testing.T, method, path, user string, body any, hdr ...string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.url+"/api/v1"+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.Header.Set("X-User", user)
		req.Header.Set("X-Roles", "agent")
		if user == "boss" {
			req.Header.Set("X-Roles", "agent,supervisor")
		}
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func dial(t *testing.T, f *fixture, user string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(f.url, "http", "ws", 1)+"/api/v1/desk/ws", &websocket.DialOptions{
		HTTPHeader: http.Header{"X-User": {user}, "X-Roles": {"agent"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

func next(t *testing.T, conn *websocket.Conn, typ string) handoff.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for {
		var ev handoff.Event
		if err := wsjson.Read(ctx, conn, &ev); err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		if ev.Type == typ {
			return ev
		}
	}
}

func TestDeskEndToEnd(t *testing.T) {
	f := setup(t)
	conn := dial(t, f, "anna")
	next(t, conn, handoff.EventSnapshot)
	if code, body := f.do(t, http.MethodPut, "/agents/me/state", "anna", map[string]any{"state": "ready"}); code != 200 {
		t.Fatalf("ready: %d %v", code, body)
	}
	// The bot hands a caller off: the appeal is created and the agent is offered the card.
	start := time.Now()
	code, created := f.do(t, http.MethodPost, "/handoffs", "", map[string]any{
		"channel": "voice", "lang": "ru", "topic": "pension", "intent": "file_application",
		"slots": map[string]string{"service": "пенсия"}, "contact": map[string]string{"phone": "+7 903 111-22-33"},
		"transcript":          []map[string]string{{"speaker": "caller", "text": "Как оформить пенсию?"}},
		"bot_attempts":        []map[string]any{{"question": "Как оформить пенсию?", "article_id": "pension-apply"}},
		"wait_so_far_seconds": 40,
	}, "Idempotency-Key", "call-1")
	if code != 201 || created["queue"] != "social" || created["appeal_number"] == "" || created["say"] == "" {
		t.Fatalf("create handoff: %d %v", code, created)
	}
	offer := next(t, conn, handoff.EventOffer)
	if took := time.Since(start); took > time.Second {
		t.Fatalf("offer took %s", took)
	}
	number := created["appeal_number"].(string)
	card := offer.Handoff
	if card.AppealNumber != number || card.Intent != "file_application" || len(card.Transcript) != 1 ||
		len(card.Attempts) != 1 || card.CallerWaitSec < 40 || card.Transfer.Headers[handoff.HeaderAppeal] != number {
		t.Fatalf("card %+v", card)
	}
	if code, _ := f.do(t, http.MethodPost, "/handoffs/"+card.ID+"/accept", "boris", nil); code != 409 {
		t.Fatalf("someone else accepting: %d", code)
	}
	if code, _ := f.do(t, http.MethodPost, "/handoffs/"+card.ID+"/accept", "anna", nil); code != 200 {
		t.Fatalf("accept: %d", code)
	}
	<-f.received // appeal.created
	// The agent works the appeal; the status change reaches the webhook receiver.
	if code, body := f.do(t, http.MethodPost, "/appeals/"+number+"/status", "anna", map[string]string{"to": "in_progress"}); code != 200 || body["status"] != "in_progress" {
		t.Fatalf("status: %d %v", code, body)
	}
	select {
	case ev := <-f.received:
		if ev.Type != appeal.EventStatusChanged || ev.Number != number || ev.Status != appeal.InProgress || ev.Actor != "anna" {
			t.Fatalf("webhook got %+v", ev)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("status change did not reach the webhook")
	}
	if code, _ := f.do(t, http.MethodPost, "/appeals/"+number+"/notes", "anna", map[string]string{"text": "документы проверены"}); code != 201 {
		t.Fatalf("note: %d", code)
	}
	if code, _ := f.do(t, http.MethodPost, "/handoffs/"+card.ID+"/wrapup", "anna", map[string]string{"reason": "консультация"}); code != 200 {
		t.Fatalf("wrapup: %d", code)
	}
	code, got := f.do(t, http.MethodGet, "/appeals/"+number, "anna", nil)
	if code != 200 || len(got["notes"].([]any)) != 2 || len(got["history"].([]any)) != 2 {
		t.Fatalf("appeal after the desk: %d %v", code, got)
	}
	// The bot's replay of the same request makes no second appeal.
	if code, body := f.do(t, http.MethodPost, "/appeals", "", map[string]any{"channel": "chat"}, "Idempotency-Key", "call-1"); code != 409 {
		t.Fatalf("same key, other payload: %d %v", code, body)
	}
	// Caller lookup by voice.
	code, look := f.do(t, http.MethodPost, "/appeals/lookup", "", map[string]string{"number": appeal.FormatNumber(number), "phone_last4": "2233"})
	if code != 200 || !strings.Contains(look["say"].(string), "В обработке") {
		t.Fatalf("lookup: %d %v", code, look)
	}
	if code, _ := f.do(t, http.MethodPost, "/appeals/lookup", "", map[string]string{"number": number, "phone_last4": "0000"}); code != 404 {
		t.Fatalf("lookup with wrong digits: %d", code)
	}
}

func TestBadInput(t *testing.T) {
	f := setup(t)
	code, created := f.do(t, http.MethodPost, "/appeals", "", map[string]any{"channel": "chat", "contact": map[string]string{"phone": "89031112233"}})
	if code != 201 {
		t.Fatalf("create: %d %v", code, created)
	}
	number := created["number"].(string)
	misheard := number[:9] + string("0123456789"[(int(number[9]-'0')+1)%10])
	unknown, _ := appeal.NewNumber()
	cases := []struct {
		method, path, user string
		body               any
		want               int
		detail             string
	}{
		{"GET", "/appeals/" + misheard, "anna", nil, 422, "probably misheard"},
		{"GET", "/appeals/12345", "anna", nil, 422, ""},
		{"GET", "/appeals/" + unknown, "anna", nil, 404, ""},
		{"GET", "/appeals/" + number, "", nil, 401, ""},
		{"POST", "/appeals/" + number + "/status", "anna", map[string]string{"to": "done"}, 409, ""},
		{"POST", "/appeals/" + number + "/status", "anna", map[string]string{"to": "rejected"}, 400, ""},
		{"POST", "/appeals", "", map[string]any{"transcript": []map[string]string{{"speaker": "caller", "text": strings.Repeat("я", 300<<10)}}}, 413, ""},
		{"POST", "/appeals/" + number + "/transcript", "anna", map[string]any{"turns": make([]map[string]string, 600)}, 400, ""},
		{"POST", "/handoffs/nope/accept", "anna", nil, 404, ""},
		{"POST", "/handoffs", "", map[string]any{"queue": "mars"}, 400, ""},
		{"POST", "/handoffs", "", map[string]any{"appeal_number": misheard}, 422, "probably misheard"},
		{"PUT", "/agents/me/state", "anna", map[string]any{"state": "ready"}, 409, ""}, // no desk connection
		{"POST", "/handoffs/x/reassign", "anna", map[string]any{"agent": "b"}, 403, ""},
		{"GET", "/notifications/dead", "boss", nil, 200, ""},
	}
	for _, tc := range cases {
		code, body := f.do(t, tc.method, tc.path, tc.user, tc.body)
		if code != tc.want || (tc.detail != "" && !strings.Contains(body["detail"].(string), tc.detail)) {
			t.Errorf("%s %s: %d %v, want %d", tc.method, tc.path, code, body, tc.want)
		}
	}
}

func TestAgentDisconnectMidHandoff(t *testing.T) {
	f := setup(t)
	conn := dial(t, f, "anna")
	next(t, conn, handoff.EventSnapshot)
	f.do(t, http.MethodPut, "/agents/me/state", "anna", map[string]any{"state": "ready"})
	_, created := f.do(t, http.MethodPost, "/handoffs", "", map[string]any{"channel": "chat", "queue": "tech"})
	offer := next(t, conn, handoff.EventOffer)
	f.do(t, http.MethodPost, "/handoffs/"+offer.Handoff.ID+"/accept", "anna", nil)
	if code, _ := f.do(t, http.MethodPost, "/handoffs/"+offer.Handoff.ID+"/messages", "anna", map[string]string{"text": "Здравствуйте!"}); code != 201 {
		t.Fatalf("message: %d", code)
	}
	conn.Close(websocket.StatusNormalClosure, "")
	// The second agent connects and gets the same handoff, transcript intact.
	conn2 := dial(t, f, "boris")
	next(t, conn2, handoff.EventSnapshot)
	f.do(t, http.MethodPut, "/agents/me/state", "boris", map[string]any{"state": "ready"})
	offer2 := next(t, conn2, handoff.EventOffer)
	if offer2.Handoff.ID != created["handoff_id"] || len(offer2.Handoff.Transcript) != 1 || offer2.Handoff.Transcript[0].Text != "Здравствуйте!" {
		t.Fatalf("returned handoff %+v", offer2.Handoff)
	}
}
