package chat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/appeal/sqlitestore"
	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/bot/adapters"
	"github.com/hotline-ivr/hotline/bot/chat"
	"github.com/hotline-ivr/hotline/handoff"
	"github.com/hotline-ivr/hotline/nlu"
	"github.com/hotline-ivr/hotline/store"
	"github.com/hotline-ivr/hotline/web"
)

// clock is the test's time: fixed now, real timers (chat re-prompts come
// after minutes, beyond any test).
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }
func (c *clock) AfterFunc(d time.Duration, f func()) bot.Timer {
	return time.AfterFunc(d, f)
}

var msk = func() *time.Location { l, _ := time.LoadLocation("Europe/Moscow"); return l }()

// Monday 12:00 and Saturday 21:00, Moscow time.
var (
	inHours  = time.Date(2026, 3, 9, 12, 0, 0, 0, msk)
	outHours = time.Date(2026, 3, 7, 21, 0, 0, 0, msk)
)

// parser is trained once for the package: training takes a while on a
// shared machine.
var (
	parserOnce sync.Once
	parser     *nlu.Embedded
	parserErr  error
)

func realParser(t *testing.T) *nlu.Embedded {
	t.Helper()
	parserOnce.Do(func() {
		parser, parserErr = nlu.OpenEmbedded(context.Background(), nil, nlu.WithAppealValidator(func(s string) bool { return appeal.ValidNumber(s) == nil }))
	})
	if parserErr != nil {
		t.Fatalf("nlu: %v", parserErr)
	}
	return parser
}

// env is the real thing: nlu and the knowledge base shipped in the
// binary, appeals in SQLite, the handoff center with Moscow hours, the
// chat endpoint and widget on an httptest server.
type env struct {
	t       *testing.T
	clock   *clock
	appeals *appeal.Service
	center  *handoff.Center
	handler *chat.Handler
	srv     *httptest.Server
}

func newEnv(t *testing.T, at time.Time, opts ...chat.Option) *env {
	t.Helper()
	p := realParser(t)
	ctx := context.Background()
	c := &clock{now: at}
	db, err := store.Open(filepath.Join(t.TempDir(), "hotline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	repo, err := sqlitestore.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := appeal.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{9}, 32)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := appeal.NewService(repo, keys, appeal.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	queues, err := handoff.DefaultQueues()
	if err != nil {
		t.Fatal(err)
	}
	center, err := handoff.New(queues, handoff.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { center.Close() })
	deps := bot.Deps{
		Understander: adapters.Understander{P: p.Parser},
		Answerer:     adapters.Answerer{S: p.KB},
		Appeals:      adapters.Appeals{S: svc},
		Router:       adapters.Router{C: center},
		Relay:        adapters.Relay{C: center},
		Clock:        c,
	}
	ws := web.New()
	h := chat.Register(ws.API(), deps, append([]chat.Option{chat.WithAgentFeed(adapters.Relay{C: center}), chat.WithRate(100, 100)}, opts...)...)
	chat.RegisterUI(ws.Router())
	srv := httptest.NewServer(ws.Router())
	t.Cleanup(func() { srv.Close(); h.Close() })
	return &env{t: t, clock: c, appeals: svc, center: center, handler: h, srv: srv}
}

// addAppeal registers an appeal as if filed earlier, with a status.
func (e *env) addAppeal(phone string, to ...appeal.Status) string {
	e.t.Helper()
	ctx := context.Background()
	a, _, err := e.appeals.Create(ctx, appeal.NewAppeal{Channel: appeal.Voice, Lang: "ru", Queue: "social",
		Subject: "Перерасчёт пенсии", Contact: appeal.Contact{Phone: phone}}, "")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, s := range to {
		reason := ""
		if s == appeal.Rejected {
			reason = "не хватает документов"
		}
		if _, err := e.appeals.ChangeStatus(ctx, a.Number, s, "test", reason); err != nil {
			e.t.Fatal(err)
		}
	}
	return a.Number
}

type frame struct {
	Type           string `json:"type"`
	Text           string `json:"text"`
	Lang           string `json:"lang"`
	Code           string `json:"code"`
	Reason         string `json:"reason"`
	ConversationID string `json:"conversation_id"`
	AppealNumber   string `json:"appeal_number"`
	Queue          string `json:"queue"`
	WaitSeconds    int    `json:"wait_seconds"`
	InHours        *bool  `json:"in_hours"`
}

// client is a WebSocket user of the chat.
type client struct {
	t      *testing.T
	conn   *websocket.Conn
	frames []frame
	id     string
}

func (e *env) dial(query string) *client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/api/v1/chat/ws" + query
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	conn.SetReadLimit(1 << 20)
	c := &client{t: e.t, conn: conn}
	e.t.Cleanup(func() { conn.CloseNow() })
	f := c.next()
	if f.Type != "session" || f.ConversationID == "" {
		e.t.Fatalf("first frame %+v", f)
	}
	c.id = f.ConversationID
	return c
}

func (c *client) next() frame {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, data, err := c.conn.Read(ctx)
	if err != nil {
		c.t.Fatalf("read: %v (frames so far %+v)", err, c.frames)
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		c.t.Fatalf("frame %q: %v", data, err)
	}
	c.frames = append(c.frames, f)
	return f
}

// turn reads up to the end of the bot's turn; the replies joined.
func (c *client) turn() string {
	c.t.Helper()
	var out []string
	for {
		f := c.next()
		switch f.Type {
		case "reply", "error":
			out = append(out, f.Text)
		case "listening", "end":
			return strings.Join(out, " ")
		}
	}
}

func (c *client) sendJSON(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	if err := c.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) say(text string) string {
	c.t.Helper()
	c.sendJSON(map[string]string{"type": "text", "text": text})
	got := c.turn()
	c.t.Logf("> %s\n< %s", text, got)
	return got
}

func (c *client) key(d string) string {
	c.t.Helper()
	c.sendJSON(map[string]string{"type": "dtmf", "digits": d})
	got := c.turn()
	c.t.Logf("> [%s]\n< %s", d, got)
	return got
}

func (c *client) last(typ string) (frame, bool) {
	for i := len(c.frames) - 1; i >= 0; i-- {
		if c.frames[i].Type == typ {
			return c.frames[i], true
		}
	}
	return frame{}, false
}

func has(t *testing.T, got string, want ...string) {
	t.Helper()
	low := strings.ToLower(got)
	for _, w := range want {
		if !strings.Contains(low, strings.ToLower(w)) {
			t.Fatalf("reply %q does not contain %q", got, w)
		}
	}
}
