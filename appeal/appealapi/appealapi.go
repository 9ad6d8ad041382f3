// Package appealapi is the REST API of appeals under /api/v1:
//
//	POST /appeals                      create (Idempotency-Key header)       bot guard
//	GET  /appeals                      list: status, queue, channel, open, escalated, since, limit, offset   agent
//	GET  /appeals/:number              one appeal with transcript, history and notes   agent
//	POST /appeals/:number/status       {to, reason}                          agent
//	POST /appeals/:number/notes        {text}                                agent
//	POST /appeals/:number/transcript   {turns: [{at, speaker, text}]}        agent
//	POST /appeals/lookup               {number, phone_last4, lang} → status for the caller   bot guard
//	GET  /notifications/dead           webhook dead letters                  supervisor
//	POST /notifications/dead/:id/retry one dead letter back to the outbox    supervisor
//	POST /notifications/dead/retry     all of them                           supervisor
//
// Errors are problem responses: 404 unknown number, 422 malformed number or
// wrong check digit, 409 forbidden transition or idempotency conflict, 413
// oversize, 429 too many lookups.
package appealapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/appeal/webhook"
	"github.com/hotline-ivr/hotline/web"
)

// DeadLetters is the dead-letter list of the webhook outbox.
type DeadLetters interface {
	DeadLetters(ctx context.Context, limit int) ([]webhook.Delivery, error)
	Retry(ctx context.Context, id int64) error
	RetryAll(ctx context.Context) (int, error)
}

type api struct {
	svc   *appeal.Service
	log   *slog.Logger
	actor func(*gin.Context) string
	dead  DeadLetters
	bot   gin.HandlerFunc
}

// Option configures the API.
type Option func(*api)

// WithActor names the user of a request (auth.Actor) for the history.
func WithActor(f func(*gin.Context) string) Option { return func(a *api) { a.actor = f } }

// WithBotGuard protects the routes the bot and channels call (create,
// lookup); without it they are open, which suits a bot on the same host.
func WithBotGuard(h gin.HandlerFunc) Option { return func(a *api) { a.bot = h } }

// WithDeadLetters mounts the dead-letter routes.
func WithDeadLetters(d DeadLetters) Option { return func(a *api) { a.dead = d } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(a *api) { a.log = l } }

// MaxBody bounds request bodies: the transcript limit plus room for the rest.
const MaxBody = 512 << 10

// Register mounts the routes on api (the /api/v1 group). requireAgent
// guards reading and changing appeals, requireSupervisor the dead letters.
func Register(rg *gin.RouterGroup, svc *appeal.Service, requireAgent, requireSupervisor gin.HandlerFunc, opts ...Option) {
	a := &api{svc: svc, log: slog.New(slog.DiscardHandler), actor: func(*gin.Context) string { return "" }}
	for _, o := range opts {
		o(a)
	}
	bot := a.bot
	if bot == nil {
		bot = func(c *gin.Context) { c.Next() }
	}
	limit := func(c *gin.Context) {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBody)
		c.Next()
	}
	g := rg.Group("/appeals", limit)
	g.POST("", bot, a.create)
	g.POST("/lookup", bot, a.lookup)
	g.GET("", requireAgent, a.list)
	g.GET("/:number", requireAgent, a.get)
	g.POST("/:number/status", requireAgent, a.status)
	g.POST("/:number/notes", requireAgent, a.note)
	g.POST("/:number/transcript", requireAgent, a.transcript)
	if a.dead != nil {
		d := rg.Group("/notifications/dead", requireSupervisor)
		d.GET("", a.deadList)
		d.POST("/retry", a.deadRetryAll)
		d.POST("/:id/retry", a.deadRetry)
	}
}

// Fail writes the problem response for a domain error.
func Fail(c *gin.Context, log *slog.Logger, err error) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, appeal.ErrCheckDigit):
		web.Problem(c, http.StatusUnprocessableEntity, "Wrong check digit", "the number's check digit does not match: probably misheard")
	case errors.Is(err, appeal.ErrMalformedNumber):
		web.Problem(c, http.StatusUnprocessableEntity, "Malformed appeal number", "an appeal number has ten digits")
	case errors.Is(err, appeal.ErrNotFound):
		web.Problem(c, http.StatusNotFound, "Unknown appeal", "no appeal has this number")
	case errors.Is(err, appeal.ErrLookupFailed):
		web.Problem(c, http.StatusNotFound, "Not found", "no appeal with this number for this phone")
	case errors.Is(err, appeal.ErrTransition):
		web.Problem(c, http.StatusConflict, "Status change not allowed", err.Error())
	case errors.Is(err, appeal.ErrIdempotencyConflict):
		web.Problem(c, http.StatusConflict, "Idempotency key reused", err.Error())
	case errors.Is(err, appeal.ErrTranscriptTooLarge), errors.As(err, &tooBig):
		web.Problem(c, http.StatusRequestEntityTooLarge, "Too large", err.Error())
	case errors.Is(err, appeal.ErrRateLimited):
		c.Header("Retry-After", "180")
		web.Problem(c, http.StatusTooManyRequests, "Too many attempts", "too many failed lookups of this number; try again in a few minutes")
	case errors.Is(err, appeal.ErrReasonRequired), errors.Is(err, appeal.ErrInvalid):
		web.Problem(c, http.StatusBadRequest, "Invalid request", err.Error())
	case errors.Is(err, webhook.ErrNotFound):
		web.Problem(c, http.StatusNotFound, "Unknown dead letter", err.Error())
	default:
		log.Error("appeals api", "route", c.FullPath(), "err", err)
		web.Problem(c, http.StatusInternalServerError, "Internal error", "the request could not be completed")
	}
}

func bind(c *gin.Context, log *slog.Logger, v any) bool {
	if err := c.ShouldBindJSON(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			Fail(c, log, err)
			return false
		}
		web.Problem(c, http.StatusBadRequest, "Invalid JSON", err.Error())
		return false
	}
	return true
}

func (a *api) create(c *gin.Context) {
	var na appeal.NewAppeal
	if !bind(c, a.log, &na) {
		return
	}
	na.Actor = a.actor(c)
	ap, created, err := a.svc.Create(c.Request.Context(), na, c.GetHeader("Idempotency-Key"))
	if err != nil {
		Fail(c, a.log, err)
		return
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
		c.Header("Idempotent-Replayed", "true")
	}
	c.Header("Location", c.Request.URL.Path+"/"+ap.Number)
	c.JSON(status, withSpoken(ap))
}

type appealJSON struct {
	appeal.Appeal
	Spoken string `json:"spoken"`
	Label  string `json:"status_label"`
}

func withSpoken(a appeal.Appeal) appealJSON {
	return appealJSON{Appeal: a, Spoken: appeal.FormatNumber(a.Number), Label: a.Status.Label(a.Lang)}
}

func (a *api) list(c *gin.Context) {
	f := appeal.Filter{
		Status: appeal.Status(c.Query("status")), Queue: c.Query("queue"), Channel: appeal.Channel(c.Query("channel")),
		Open: c.Query("open") == "true", Escalated: c.Query("escalated") == "true",
	}
	f.Limit, _ = strconv.Atoi(c.DefaultQuery("limit", "50"))
	f.Offset, _ = strconv.Atoi(c.DefaultQuery("offset", "0"))
	if s := c.Query("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			web.Problem(c, http.StatusBadRequest, "Invalid request", "since: want an RFC 3339 time")
			return
		}
		f.Since = t
	}
	list, err := a.svc.List(c.Request.Context(), f)
	if err != nil {
		Fail(c, a.log, err)
		return
	}
	out := make([]appealJSON, 0, len(list))
	for _, ap := range list {
		out = append(out, withSpoken(ap))
	}
	c.JSON(http.StatusOK, gin.H{"appeals": out, "limit": f.Limit, "offset": f.Offset})
}

func (a *api) get(c *gin.Context) {
	ap, err := a.svc.Get(c.Request.Context(), c.Param("number"))
	if err != nil {
		Fail(c, a.log, err)
		return
	}
	c.JSON(http.StatusOK, withSpoken(ap))
}

func (a *api) status(c *gin.Context) {
	var body struct {
		To     appeal.Status `json:"to"`
		Reason string        `json:"reason"`
	}
	if !bind(c, a.log, &body) {
		return
	}
	ap, err := a.svc.ChangeStatus(c.Request.Context(), c.Param("number"), body.To, a.actor(c), body.Reason)
	if err != nil {
		Fail(c, a.log, err)
		return
	}
	c.JSON(http.StatusOK, withSpoken(ap))
}

func (a *api) note(c *gin.Context) {
	var body struct {
		Text string `json:"text"`
	}
	if !bind(c, a.log, &body) {
		return
	}
	n, err := a.svc.AddNote(c.Request.Context(), c.Param("number"), a.actor(c), body.Text)
	if err != nil {
		Fail(c, a.log, err)
		return
	}
	c.JSON(http.StatusCreated, n)
}

func (a *api) transcript(c *gin.Context) {
	var body struct {
		Turns []appeal.TranscriptTurn `json:"turns"`
	}
	if !bind(c, a.log, &body) {
		return
	}
	if err := a.svc.AppendTranscript(c.Request.Context(), c.Param("number"), body.Turns); err != nil {
		Fail(c, a.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *api) lookup(c *gin.Context) {
	var body struct {
		Number     string `json:"number"`
		PhoneLast4 string `json:"phone_last4"`
		Lang       string `json:"lang"`
	}
	if !bind(c, a.log, &body) {
		return
	}
	info, err := a.svc.LookupForCaller(c.Request.Context(), body.Number, body.PhoneLast4, body.Lang)
	if err != nil {
		Fail(c, a.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"appeal": info, "say": say(info, body.Lang)})
}

// say is the sentence the bot can speak.
func say(i appeal.StatusInfo, lang string) string {
	var b strings.Builder
	if lang == "en" {
		b.WriteString("Appeal " + i.Spoken + ": " + i.Label + ". " + i.Meaning)
		if i.Reason != "" {
			b.WriteString(" Reason: " + i.Reason + ".")
		}
		return b.String()
	}
	b.WriteString("Обращение " + i.Spoken + ": " + i.Label + ". " + i.Meaning)
	if i.Reason != "" {
		b.WriteString(" Причина: " + i.Reason + ".")
	}
	return b.String()
}

func (a *api) deadList(c *gin.Context) {
	limit, _ := strconv.Atoi(c.DefaultQuery("limit", "100"))
	list, err := a.dead.DeadLetters(c.Request.Context(), limit)
	if err != nil {
		Fail(c, a.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"dead_letters": list})
}

func (a *api) deadRetry(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		web.Problem(c, http.StatusBadRequest, "Invalid request", "id: want a number")
		return
	}
	if err := a.dead.Retry(c.Request.Context(), id); err != nil {
		Fail(c, a.log, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"retried": 1})
}

func (a *api) deadRetryAll(c *gin.Context) {
	n, err := a.dead.RetryAll(c.Request.Context())
	if err != nil {
		Fail(c, a.log, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"retried": n})
}
