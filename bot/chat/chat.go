// Package chat is the portal's online chat: a WebSocket endpoint that runs
// one bot.Session per connection, and a small embedded web widget.
//
// Protocol (JSON text frames). From the browser:
//
//	{"type":"text","text":"..."}       a message
//	{"type":"dtmf","digits":"1"}       a quick-reply button standing for a key
//	{"type":"language","lang":"en"}    the language control
//	{"type":"end"}                     the user closes the chat
//
// To the browser:
//
//	{"type":"session","conversation_id":"..."}
//	{"type":"typing"}                  the bot is working on a reply
//	{"type":"reply","text":"...","lang":"ru"}
//	{"type":"listening"}               the bot's turn is over
//	{"type":"handoff","text":"...","appeal_number":"...","queue":"...","wait_seconds":120,"in_hours":true}
//	{"type":"agent","text":"..."}      a message from the agent
//	{"type":"end","reason":"goodbye"}
//	{"type":"error","code":"too_large","text":"..."}  the connection stays open
package chat

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/web"
)

// AgentFeed brings the agent's messages to a chat after a handoff and
// tells the desk when the user leaves. The handoff center implements it
// (bot/adapters.Relay).
type AgentFeed interface {
	FromAgent(handoffID string) (msgs <-chan string, stop func())
	Leave(ctx context.Context, handoffID string) error
}

// Handler serves chat connections.
type Handler struct {
	deps        bot.Deps
	log         *slog.Logger
	feed        AgentFeed
	maxMessage  int
	maxFrame    int64
	rate        float64 // messages per second
	burst       int
	maxSessions int
	noInput     time.Duration
	origins     []string
	configure   func(*bot.Config)
	resume      atomic.Pointer[ResumeFunc]

	ctx    context.Context // cancelled by Close: ends every chat
	cancel context.CancelFunc
	wg     sync.WaitGroup
	slots  chan struct{}
	once   sync.Once
}

// Option configures a Handler.
type Option func(*Handler)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithAgentFeed relays chats handed to an agent.
func WithAgentFeed(f AgentFeed) Option { return func(h *Handler) { h.feed = f } }

// WithMaxMessage sets the largest message accepted (default 4096 bytes);
// a larger one gets a polite error and the chat goes on.
func WithMaxMessage(n int) Option { return func(h *Handler) { h.maxMessage = n } }

// WithRate limits messages per connection: rate per second, burst at once
// (default 2/s, burst 8: quick-reply buttons can be clicked fast, a
// script flooding the bot cannot).
func WithRate(perSecond float64, burst int) Option {
	return func(h *Handler) { h.rate, h.burst = perSecond, burst }
}

// WithMaxSessions bounds concurrent chats (default 200); more get 503.
func WithMaxSessions(n int) Option { return func(h *Handler) { h.maxSessions = n } }

// WithNoInput sets the silence before the bot re-prompts (default 5 min).
func WithNoInput(d time.Duration) Option { return func(h *Handler) { h.noInput = d } }

// WithOriginPatterns allows cross-origin pages (host patterns) to connect;
// by default only the page's own origin may.
func WithOriginPatterns(p ...string) Option { return func(h *Handler) { h.origins = p } }

// WithSessionConfig adjusts every session's configuration (thresholds,
// human-only topics).
func WithSessionConfig(f func(*bot.Config)) Option { return func(h *Handler) { h.configure = f } }

// Resume is a conversation carried over from another channel, e.g. an
// in-app call the caller switched to the chat: the chat starts in its
// language and shows its turns as history.
type Resume struct {
	Lang         string        `json:"lang,omitempty"`
	AppealNumber string        `json:"appeal_number,omitempty"`
	Turns        []HistoryTurn `json:"turns"`
}

// HistoryTurn is one turn of a resumed conversation; Speaker is "caller",
// "bot" or "agent".
type HistoryTurn struct {
	At      time.Time `json:"at"`
	Speaker string    `json:"speaker"`
	Text    string    `json:"text"`
}

// ResumeFunc redeems a resume token (GET /chat/ws?resume=TOKEN); an error
// means the token is unknown, used or expired.
type ResumeFunc func(ctx context.Context, token string) (Resume, error)

// WithResume lets chats start from a resume token (see SetResume).
func WithResume(f ResumeFunc) Option { return func(h *Handler) { h.SetResume(f) } }

// SetResume sets (or with nil clears) how resume tokens are redeemed; it
// may be called while chats run. A chat opened with a token that does not
// redeem gets an error frame (code "resume_expired") and starts afresh.
func (h *Handler) SetResume(f ResumeFunc) {
	if f == nil {
		h.resume.Store(nil)
		return
	}
	h.resume.Store(&f)
}

// New returns a handler whose sessions use deps.
func New(deps bot.Deps, opts ...Option) *Handler {
	h := &Handler{
		deps: deps, log: slog.New(slog.DiscardHandler),
		maxMessage: 4096, maxFrame: 64 << 10, rate: 2, burst: 8, maxSessions: 200, noInput: 5 * time.Minute,
	}
	for _, o := range opts {
		o(h)
	}
	if h.deps.Log == nil {
		h.deps.Log = h.log
	}
	h.slots = make(chan struct{}, h.maxSessions)
	h.ctx, h.cancel = context.WithCancel(context.Background())
	return h
}

// Register mounts GET {api}/chat/ws and returns the handler; Close it on
// shutdown.
func Register(api *gin.RouterGroup, deps bot.Deps, opts ...Option) *Handler {
	h := New(deps, opts...)
	h.Register(api)
	return h
}

// Register mounts the WebSocket endpoint on api.
func (h *Handler) Register(api *gin.RouterGroup) {
	api.GET("/chat/ws", h.serve)
}

// Close ends every chat (their transcripts are saved) and waits for them.
// It is idempotent.
func (h *Handler) Close() error {
	h.once.Do(h.cancel)
	h.wg.Wait()
	return nil
}

// message is one frame either way.
type message struct {
	Type           string        `json:"type"`
	Text           string        `json:"text,omitempty"`
	Digits         string        `json:"digits,omitempty"`
	Lang           string        `json:"lang,omitempty"`
	ArticleID      string        `json:"article_id,omitempty"` // reply: the article it answers from
	Code           string        `json:"code,omitempty"`
	Reason         string        `json:"reason,omitempty"`
	ConversationID string        `json:"conversation_id,omitempty"`
	AppealNumber   string        `json:"appeal_number,omitempty"`
	Queue          string        `json:"queue,omitempty"`
	Turns          []HistoryTurn `json:"turns,omitempty"`
	WaitSeconds    int           `json:"wait_seconds,omitempty"`
	InHours        *bool         `json:"in_hours,omitempty"`
}

func (h *Handler) serve(c *gin.Context) {
	select {
	case h.slots <- struct{}{}:
	default:
		web.Problem(c, http.StatusServiceUnavailable, "Chat is busy", "too many chats at once; try again in a minute")
		return
	}
	defer func() { <-h.slots }()
	if h.ctx.Err() != nil {
		web.Problem(c, http.StatusServiceUnavailable, "Shutting down", "the server is stopping")
		return
	}
	h.wg.Add(1)
	defer h.wg.Done()

	conn, err := websocket.Accept(c.Writer, c.Request, &websocket.AcceptOptions{OriginPatterns: h.origins})
	if err != nil {
		h.log.Info("chat upgrade failed", "err", err)
		return
	}
	defer conn.CloseNow()
	// Frames above maxFrame close the connection (the library's limit);
	// messages above maxMessage get a polite error instead.
	conn.SetReadLimit(h.maxFrame)

	lang := c.Query("lang")
	if lang != "ru" && lang != "en" {
		lang = ""
	}
	var resumed *Resume
	resumeFailed := false
	if tok, f := c.Query("resume"), h.resume.Load(); tok != "" && f != nil {
		rctx, cancel := context.WithTimeout(c.Request.Context(), 10*time.Second)
		r, err := (*f)(rctx, tok)
		cancel()
		if err != nil {
			h.log.Info("chat resume refused", "err", err)
			resumeFailed = true
		} else {
			resumed = &r
			if r.Lang == "ru" || r.Lang == "en" {
				lang = r.Lang
			}
		}
	}
	cfg := bot.Config{Channel: bot.ChannelChat, Lang: lang, NoInput: h.noInput}
	if h.configure != nil {
		h.configure(&cfg)
	}
	sess, err := bot.New(h.deps, cfg)
	if err != nil {
		h.log.Error("chat session failed", "err", err)
		conn.Close(websocket.StatusInternalError, "session failed")
		return
	}
	(&chatConn{h: h, conn: conn, sess: sess, lang: lang, log: h.log.With("conversation_id", sess.ID()),
		resumed: resumed, resumeFailed: resumeFailed}).run()
}

// chatConn is one connection. Its handler goroutine reads; a writer
// goroutine forwards session events; after a handoff a third pumps the
// agent's messages into the session. run waits for all of them.
type chatConn struct {
	h    *Handler
	conn *websocket.Conn
	sess *bot.Session
	log  *slog.Logger
	// resumed is the history the chat continues; resumeFailed: the
	// token did not redeem.
	resumed      *Resume
	resumeFailed bool

	mu        sync.Mutex
	lang      string
	handoffID string
}

func (cc *chatConn) run() {
	ctx, cancel := context.WithCancel(cc.h.ctx)
	defer cancel()
	cc.write(ctx, message{Type: "session", ConversationID: cc.sess.ID()})
	if r := cc.resumed; r != nil {
		cc.write(ctx, message{Type: "history", Lang: r.Lang, AppealNumber: r.AppealNumber, Turns: r.Turns})
	} else if cc.resumeFailed {
		cc.fail(ctx, "resume_expired")
	}

	var wg sync.WaitGroup
	stopAgent := func() {}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer cancel() // the conversation ended: stop reading
		for ev := range cc.sess.Events() {
			if ev.Kind == bot.EventHandoff && cc.h.feed != nil && ev.Handoff != nil && ev.Handoff.HandoffID != "" {
				cc.mu.Lock()
				cc.handoffID = ev.Handoff.HandoffID
				cc.mu.Unlock()
				msgs, stop := cc.h.feed.FromAgent(ev.Handoff.HandoffID)
				stopAgent = stop
				wg.Add(1)
				go func() {
					defer wg.Done()
					for text := range msgs {
						if cc.sess.Send(ctx, bot.Input{Kind: bot.InputAgentText, Text: text}) != nil {
							return
						}
					}
				}()
			}
			cc.event(ctx, ev)
		}
		stopAgent()
		// Let the last frames reach the browser, then close cleanly.
		cc.conn.Close(websocket.StatusNormalClosure, "conversation ended")
	}()

	cc.read(ctx)
	// The user left (or the server stops): end the session, which saves
	// the transcript with the appeal.
	_ = cc.sess.Send(context.Background(), bot.Input{Kind: bot.InputHangup})
	cc.sess.Close()
	wg.Wait()
	cc.mu.Lock()
	id := cc.handoffID
	cc.mu.Unlock()
	if id != "" && cc.h.feed != nil {
		lctx, lcancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := cc.h.feed.Leave(lctx, id); err != nil {
			cc.log.Info("leaving handoff", "handoff", id, "err", err)
		}
		lcancel()
	}
	cc.log.Info("chat closed")
}

func (cc *chatConn) read(ctx context.Context) {
	tokens, last := float64(cc.h.burst), time.Now()
	for {
		typ, data, err := cc.conn.Read(ctx)
		if err != nil {
			if s := websocket.CloseStatus(err); s != websocket.StatusNormalClosure && s != websocket.StatusGoingAway && ctx.Err() == nil {
				cc.log.Info("chat read ended", "err", err)
			}
			return
		}
		now := time.Now()
		tokens = min(float64(cc.h.burst), tokens+now.Sub(last).Seconds()*cc.h.rate)
		last = now
		if tokens < 1 {
			cc.fail(ctx, "rate_limited")
			continue
		}
		tokens--
		if typ != websocket.MessageText {
			cc.fail(ctx, "bad_message")
			continue
		}
		if len(data) > cc.h.maxMessage {
			cc.fail(ctx, "too_large")
			continue
		}
		var m message
		if err := json.Unmarshal(data, &m); err != nil {
			cc.fail(ctx, "bad_message")
			continue
		}
		var in bot.Input
		switch m.Type {
		case "text":
			in = bot.Input{Kind: bot.InputText, Text: m.Text}
		case "dtmf":
			if !validDigits(m.Digits) {
				cc.fail(ctx, "bad_message")
				continue
			}
			in = bot.Input{Kind: bot.InputDTMF, Digits: m.Digits}
		case "language":
			in = bot.Input{Kind: bot.InputLanguage, Lang: m.Lang}
		case "end":
			return
		default:
			cc.fail(ctx, "bad_message")
			continue
		}
		cc.write(ctx, message{Type: "typing"})
		if err := cc.sess.Send(ctx, in); err != nil {
			return
		}
	}
}

func validDigits(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '*' && r != '#' {
			return false
		}
	}
	return true
}

// errorTexts are the polite errors, per language.
var errorTexts = map[string][2]string{
	"too_large":    {"Сообщение слишком длинное. Напишите, пожалуйста, короче.", "That message is too long. Please write a shorter one."},
	"rate_limited": {"Вы пишете слишком часто. Подождите немного, пожалуйста.", "You are sending messages too fast. Please wait a moment."},
	"bad_message":  {"Сообщение не распознано.", "The message was not understood."},
	"resume_expired": {"Ссылка на продолжение разговора устарела или уже использована. Начинаем новый чат.",
		"The link to continue the conversation has expired or was already used. Starting a new chat."},
}

func (cc *chatConn) fail(ctx context.Context, code string) {
	cc.mu.Lock()
	en := cc.lang == "en"
	cc.mu.Unlock()
	t := errorTexts[code]
	text := t[0]
	if en {
		text = t[1]
	}
	cc.write(ctx, message{Type: "error", Code: code, Text: text})
}

func (cc *chatConn) event(ctx context.Context, ev bot.Event) {
	if ev.Lang != "" {
		cc.mu.Lock()
		cc.lang = ev.Lang
		cc.mu.Unlock()
	}
	switch ev.Kind {
	case bot.EventReply:
		cc.write(ctx, message{Type: "reply", Text: ev.Text, Lang: ev.Lang, ArticleID: ev.ArticleID})
	case bot.EventReplyEnd:
		cc.write(ctx, message{Type: "listening"})
	case bot.EventAgent:
		cc.write(ctx, message{Type: "agent", Text: ev.Text})
	case bot.EventHandoff:
		m := message{Type: "handoff", AppealNumber: ev.AppealNumber, Lang: ev.Lang}
		if d := ev.Handoff; d != nil {
			in := d.InHours
			m.Queue, m.WaitSeconds, m.InHours = d.Queue, int(d.EstimatedWait.Seconds()), &in
		}
		cc.write(ctx, m)
	case bot.EventEnd:
		cc.write(ctx, message{Type: "end", Reason: ev.Reason})
	}
}

func (cc *chatConn) write(ctx context.Context, m message) {
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	// A closing connection still gets its last frames: the write does not
	// follow ctx, only a short deadline of its own.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := cc.conn.Write(wctx, websocket.MessageText, b); err != nil && !errors.Is(err, context.Canceled) {
		cc.log.Debug("chat write failed", "err", err)
	}
}
