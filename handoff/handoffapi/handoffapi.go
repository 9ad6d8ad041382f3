// Package handoffapi is the REST API and WebSocket feed of the human
// queues and the agent desk under /api/v1:
//
//	POST /handoffs                 route and queue a handoff (creates the appeal when none)   bot guard
//	DELETE /handoffs/:id           the caller left before an agent took it                     bot guard
//	GET  /handoffs/:id             the card                                                   agent
//	POST /handoffs/:id/accept      take the offered handoff                                   agent
//	POST /handoffs/:id/decline     pass it to the next agent                                  agent
//	POST /handoffs/:id/messages    {text}: the agent writes in a chat handoff                 agent
//	POST /handoffs/:id/wrapup      {reason, note?}: finish                                    agent
//	POST /handoffs/:id/reassign    {agent?, queue?}                                           supervisor
//	GET  /queues                   queue statistics (and agents for supervisors)              agent
//	GET  /agents                   every agent's presence                                     supervisor
//	PUT  /agents/me/state          {state: ready|away, skills?, region?}                      agent
//	GET  /desk/ws                  WebSocket event feed (handoff.Event as JSON)               agent
//	POST /routing/preview          where a request would go, with the wait (no queueing)      bot guard
package handoffapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/appeal/appealapi"
	"github.com/hotline-ivr/hotline/handoff"
	"github.com/hotline-ivr/hotline/web"
)

// Appeals is what the API needs from the appeals service (*appeal.Service).
type Appeals interface {
	Create(ctx context.Context, na appeal.NewAppeal, idemKey string) (appeal.Appeal, bool, error)
	CallerHistory(ctx context.Context, phone string) (open []string, repeat bool, err error)
	AppendTranscript(ctx context.Context, number string, turns []appeal.TranscriptTurn) error
	AddNote(ctx context.Context, number, author, text string) (appeal.Note, error)
}

type api struct {
	center     *handoff.Center
	appeals    Appeals
	log        *slog.Logger
	actor      func(*gin.Context) string
	supervisor func(*gin.Context) bool
	bot        gin.HandlerFunc
	origins    []string
}

// Option configures the API.
type Option func(*api)

// WithActor names the agent of a request (auth.Actor).
func WithActor(f func(*gin.Context) string) Option { return func(a *api) { a.actor = f } }

// WithSupervisorCheck tells whether the request's user is a supervisor
// (they get the full feed).
func WithSupervisorCheck(f func(*gin.Context) bool) Option { return func(a *api) { a.supervisor = f } }

// WithAppeals lets POST /handoffs create appeals, use caller history for
// priority and keep chat turns and wrap-up notes in the appeal.
func WithAppeals(s Appeals) Option { return func(a *api) { a.appeals = s } }

// WithBotGuard protects the routes the bot calls.
func WithBotGuard(h gin.HandlerFunc) Option { return func(a *api) { a.bot = h } }

// WithOriginPatterns allows desk WebSocket connections from other origins
// (the same host is always allowed).
func WithOriginPatterns(p ...string) Option { return func(a *api) { a.origins = p } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(a *api) { a.log = l } }

// Register mounts the routes on rg (the /api/v1 group).
func Register(rg *gin.RouterGroup, center *handoff.Center, requireAgent, requireSupervisor gin.HandlerFunc, opts ...Option) {
	a := &api{center: center, log: slog.New(slog.DiscardHandler),
		actor: func(*gin.Context) string { return "" }, supervisor: func(*gin.Context) bool { return false }}
	for _, o := range opts {
		o(a)
	}
	bot := a.bot
	if bot == nil {
		bot = func(c *gin.Context) { c.Next() }
	}
	limit := func(c *gin.Context) {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, appealapi.MaxBody)
		c.Next()
	}
	rg.POST("/handoffs", limit, bot, a.create)
	rg.POST("/routing/preview", limit, bot, a.preview)
	rg.DELETE("/handoffs/:id", bot, a.cancel)
	h := rg.Group("/handoffs/:id", limit, requireAgent)
	h.GET("", a.get)
	h.POST("/accept", a.accept)
	h.POST("/decline", a.decline)
	h.POST("/messages", a.message)
	h.POST("/wrapup", a.wrapup)
	rg.POST("/handoffs/:id/reassign", limit, requireSupervisor, a.reassign)
	rg.GET("/queues", requireAgent, a.queues)
	rg.GET("/agents", requireSupervisor, a.agents)
	rg.PUT("/agents/me/state", limit, requireAgent, a.state)
	rg.GET("/desk/ws", requireAgent, a.ws)
}

func (a *api) fail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, handoff.ErrNotFound):
		web.Problem(c, http.StatusNotFound, "Unknown handoff", err.Error())
	case errors.Is(err, handoff.ErrNotOffered):
		web.Problem(c, http.StatusConflict, "Not yours", "this handoff is not offered to or held by you (it may have timed out or been reassigned)")
	case errors.Is(err, handoff.ErrAgentBusy):
		web.Problem(c, http.StatusConflict, "Agent busy", err.Error())
	case errors.Is(err, handoff.ErrAgentUnknown):
		web.Problem(c, http.StatusConflict, "Agent not connected", err.Error())
	case errors.Is(err, handoff.ErrUnknownQueue):
		web.Problem(c, http.StatusBadRequest, "Unknown queue", err.Error())
	case errors.Is(err, handoff.ErrInvalid):
		if errors.Is(err, appeal.ErrCheckDigit) || errors.Is(err, appeal.ErrMalformedNumber) {
			appealapi.Fail(c, a.log, err)
			return
		}
		web.Problem(c, http.StatusBadRequest, "Invalid request", err.Error())
	default:
		appealapi.Fail(c, a.log, err)
	}
}

func bind(c *gin.Context, a *api, v any) bool {
	if err := c.ShouldBindJSON(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			appealapi.Fail(c, a.log, err)
			return false
		}
		web.Problem(c, http.StatusBadRequest, "Invalid JSON", err.Error())
		return false
	}
	return true
}

type createBody struct {
	handoff.Request
	WaitSoFarSec int            `json:"wait_so_far_seconds"`
	Contact      appeal.Contact `json:"contact"`
	Subject      string         `json:"subject,omitempty"`
	Articles     []string       `json:"articles,omitempty"`
}

type createResponse struct {
	handoff.Decision
	AppealNumber string `json:"appeal_number,omitempty"`
	AppealSpoken string `json:"appeal_spoken,omitempty"`
	// Say is what the bot can tell the caller.
	Say string `json:"say"`
}

func (a *api) create(c *gin.Context) {
	var body createBody
	if !bind(c, a, &body) {
		return
	}
	ctx := c.Request.Context()
	req := body.Request
	req.WaitSoFar = time.Duration(body.WaitSoFarSec) * time.Second
	if a.appeals != nil && body.Contact.Phone != "" {
		open, repeat, err := a.appeals.CallerHistory(ctx, body.Contact.Phone)
		if err != nil {
			a.fail(c, err)
			return
		}
		req.HasOpenAppeal = req.HasOpenAppeal || len(open) > 0
		req.RepeatCaller = req.RepeatCaller || repeat
	}
	preview, err := a.center.Route(req)
	if err != nil {
		a.fail(c, err)
		return
	}
	if req.AppealNumber == "" && a.appeals != nil {
		ch := req.Channel
		if preview.Callback {
			ch = appeal.Callback
		}
		ap, _, err := a.appeals.Create(ctx, appeal.NewAppeal{
			Channel: ch, Lang: req.Lang, Queue: preview.Queue, Intent: req.Intent, Region: req.Region,
			Subject: body.Subject, Slots: req.Slots, Contact: body.Contact, Articles: body.Articles,
			Transcript: req.Transcript, Actor: "bot",
		}, c.GetHeader("Idempotency-Key"))
		if err != nil {
			a.fail(c, err)
			return
		}
		req.AppealNumber = ap.Number
	}
	d, err := a.center.Submit(req)
	if err != nil {
		a.fail(c, err)
		return
	}
	if d.Callback && a.appeals != nil && req.AppealNumber != "" && d.NextOpen != nil {
		a.appeals.AddNote(ctx, req.AppealNumber, "system",
			fmt.Sprintf("Обратный звонок: очередь %s, операторы вернутся %s", d.Queue, d.NextOpen.Format("02.01.2006 15:04 MST")))
	}
	resp := createResponse{Decision: d, AppealNumber: req.AppealNumber, Say: Say(d, req.Lang)}
	if req.AppealNumber != "" {
		resp.AppealSpoken = appeal.FormatNumber(req.AppealNumber)
	}
	c.JSON(http.StatusCreated, resp)
}

func (a *api) preview(c *gin.Context) {
	var req handoff.Request
	if !bind(c, a, &req) {
		return
	}
	d, err := a.center.Route(req)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, createResponse{Decision: d, Say: Say(d, req.Lang)})
}

var weekdaysRu = [7]string{"в воскресенье", "в понедельник", "во вторник", "в среду", "в четверг", "в пятницу", "в субботу"}

// Say phrases a routing decision for the caller.
func Say(d handoff.Decision, lang string) string {
	if d.Callback && d.NextOpen != nil {
		t := *d.NextOpen
		if lang == "en" {
			return fmt.Sprintf("Our operators are back on %s at %s Moscow time; we will call you back.", t.Weekday(), t.Format("15:04"))
		}
		return fmt.Sprintf("Операторы вернутся %s в %s по московскому времени, мы вам перезвоним.", weekdaysRu[t.Weekday()], t.Format("15:04"))
	}
	mins := (d.EWTSeconds + 59) / 60
	if lang == "en" {
		if mins <= 1 {
			return "An operator will answer in about a minute."
		}
		return fmt.Sprintf("The expected wait is about %d minutes.", mins)
	}
	if mins <= 1 {
		return "Оператор ответит примерно через минуту."
	}
	return fmt.Sprintf("Ожидаемое время ожидания — около %d мин.", mins)
}

func (a *api) cancel(c *gin.Context) {
	if err := a.center.Cancel(c.Param("id")); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *api) get(c *gin.Context) {
	v, err := a.center.Get(c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (a *api) accept(c *gin.Context) {
	v, err := a.center.Accept(a.actor(c), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (a *api) decline(c *gin.Context) {
	if err := a.center.Decline(a.actor(c), c.Param("id")); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *api) message(c *gin.Context) {
	var body struct {
		Text string `json:"text"`
	}
	if !bind(c, a, &body) {
		return
	}
	id := c.Param("id")
	if !a.center.HeldBy(id, a.actor(c)) {
		a.fail(c, handoff.ErrNotOffered)
		return
	}
	turn := appeal.TranscriptTurn{At: time.Now().UTC(), Speaker: appeal.SpeakerAgent, Text: body.Text}
	v, err := a.center.Message(id, turn)
	if err != nil {
		a.fail(c, err)
		return
	}
	if a.appeals != nil && v.AppealNumber != "" {
		if err := a.appeals.AppendTranscript(c.Request.Context(), v.AppealNumber, []appeal.TranscriptTurn{turn}); err != nil {
			a.fail(c, err)
			return
		}
	}
	c.JSON(http.StatusCreated, turn)
}

func (a *api) wrapup(c *gin.Context) {
	var body struct {
		Reason string `json:"reason"`
		Note   string `json:"note"`
	}
	if !bind(c, a, &body) {
		return
	}
	v, err := a.center.WrapUp(a.actor(c), c.Param("id"), body.Reason)
	if err != nil {
		a.fail(c, err)
		return
	}
	if a.appeals != nil && v.AppealNumber != "" {
		text := "Итог разговора: " + v.WrapUp
		if n := strings.TrimSpace(body.Note); n != "" {
			text += "\n" + n
		}
		if _, err := a.appeals.AddNote(c.Request.Context(), v.AppealNumber, a.actor(c), text); err != nil {
			a.fail(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, v)
}

func (a *api) reassign(c *gin.Context) {
	var body struct {
		Agent string `json:"agent"`
		Queue string `json:"queue"`
	}
	if !bind(c, a, &body) {
		return
	}
	v, err := a.center.Reassign(c.Param("id"), body.Agent, body.Queue)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (a *api) queues(c *gin.Context) {
	out := gin.H{"queues": a.center.Queues()}
	if a.supervisor(c) {
		out["agents"] = a.center.Agents()
	}
	c.JSON(http.StatusOK, out)
}

func (a *api) agents(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"agents": a.center.Agents()})
}

func (a *api) state(c *gin.Context) {
	var p handoff.PresenceUpdate
	if !bind(c, a, &p) {
		return
	}
	v, err := a.center.SetPresence(a.actor(c), p)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// ws streams the desk feed. The connection is the agent's presence: when
// the last one closes, the agent's handoffs return to the queue after the
// center's grace. A reader too slow for the feed is disconnected
// (status 1013, try again later) and reconnects to a fresh snapshot.
func (a *api) ws(c *gin.Context) {
	agentID := a.actor(c)
	if agentID == "" {
		web.Problem(c, http.StatusUnauthorized, "Not logged in", "the desk feed needs an agent")
		return
	}
	conn, err := websocket.Accept(c.Writer, c.Request, &websocket.AcceptOptions{OriginPatterns: a.origins})
	if err != nil {
		return // Accept wrote the response
	}
	defer conn.CloseNow()
	c.Abort() // the handshake hijacked the connection
	ctx, cancel := context.WithCancel(c.Request.Context())
	defer cancel()

	a.center.Connect(agentID)
	defer a.center.Disconnect(agentID)
	sub := a.center.Subscribe(agentID, a.supervisor(c))
	defer sub.Close()

	// Reader: the desk sends nothing we need, but reading notices a close
	// and answers pings.
	readerDone := make(chan struct{})
	defer func() { conn.CloseNow(); <-readerDone }()
	go func() {
		defer close(readerDone)
		defer cancel()
		for {
			if _, _, err := conn.Read(ctx); err != nil {
				return
			}
		}
	}()
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			conn.Close(websocket.StatusNormalClosure, "")
			return
		case <-ping.C:
			pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil {
				return
			}
		case ev, ok := <-sub.C:
			if !ok {
				if sub.Dropped() {
					a.log.Warn("desk feed too slow: disconnected", "agent", agentID)
					conn.Close(websocket.StatusTryAgainLater, "too slow for the feed; reconnect")
				}
				return
			}
			wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
			err := wsjson.Write(wctx, conn, ev)
			wcancel()
			if err != nil {
				return
			}
		}
	}
}
