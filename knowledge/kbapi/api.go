// Package kbapi is the HTTP face of the knowledge base: a REST API under
// /api/v1/kb for editors (list, edit with optimistic concurrency, drafts,
// publishing, trash, history, import/export, a search probe) and the web
// editor that uses it, embedded in the binary.
package kbapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/auth"
	"github.com/hotline-ivr/hotline/knowledge"
	"github.com/hotline-ivr/hotline/tts"
)

// KB is what the API needs from the knowledge base; *knowledge.Service
// implements it.
type KB interface {
	List(ctx context.Context, f knowledge.ListFilter) ([]knowledge.Article, int, error)
	Get(ctx context.Context, id, lang string) (knowledge.Article, error)
	GetAny(ctx context.Context, id, lang string) (knowledge.Article, error)
	Create(ctx context.Context, a knowledge.Article, actor string) (knowledge.Article, error)
	Update(ctx context.Context, a knowledge.Article, expectedVersion int, actor string) (knowledge.Article, error)
	Publish(ctx context.Context, id, lang string, expectedVersion int, actor string) (knowledge.Article, error)
	Unpublish(ctx context.Context, id, lang string, expectedVersion int, actor string) (knowledge.Article, error)
	Delete(ctx context.Context, id, lang string, expectedVersion int, actor string) error
	Restore(ctx context.Context, id, lang, actor string) (knowledge.Article, error)
	History(ctx context.Context, id, lang string) ([]knowledge.Revision, error)
	Revision(ctx context.Context, id, lang string, version int) (knowledge.Revision, error)
	Revert(ctx context.Context, id, lang string, toVersion, expectedVersion int, actor string) (knowledge.Article, error)
	Lint(ctx context.Context, a knowledge.Article) []knowledge.Warning
	Search(ctx context.Context, query string, o knowledge.SearchOptions) ([]knowledge.Hit, error)
	ExportZip(ctx context.Context, w io.Writer) error
	ImportZip(ctx context.Context, data []byte, actor string) (knowledge.ImportReport, error)
}

var _ KB = (*knowledge.Service)(nil)

// Body limits: an article is at most ~25 KB of text, so 256 KiB leaves
// room for JSON escaping; an export of a few hundred articles zips well
// under 10 MiB.
const (
	maxJSONBody   = 256 << 10
	maxImportBody = 10 << 20
	defaultLimit  = 50
	maxLimit      = 200
	maxSearchHits = 20
)

// Option configures Register.
type Option func(*handlers)

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(h *handlers) { h.log = l } }

type handlers struct {
	kb  KB
	log *slog.Logger

	speaker    tts.Synthesizer // nil: no play button
	speakSlots chan struct{}
}

// Register mounts the knowledge base API on api (the /api/v1 group). Every
// route needs the editor role: the bot reads articles through the Go API,
// not over HTTP.
func Register(api *gin.RouterGroup, kb KB, au *auth.Service, opts ...Option) {
	h := &handlers{kb: kb, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(h)
	}
	g := api.Group("/kb", au.RequireRole(auth.RoleEditor))
	g.GET("/articles", h.list)
	g.POST("/articles", limitBody(maxJSONBody), h.create)
	a := g.Group("/articles/:lang/:id", checkLang)
	a.GET("", h.get)
	a.PUT("", limitBody(maxJSONBody), h.update)
	a.DELETE("", h.delete)
	a.POST("/restore", h.restore)
	a.POST("/publish", limitBody(maxJSONBody), h.publish)
	a.POST("/unpublish", limitBody(maxJSONBody), h.unpublish)
	a.GET("/history", h.history)
	a.GET("/history/:version", h.revision)
	a.GET("/diff", h.diff)
	a.POST("/revert", limitBody(maxJSONBody), h.revert)
	g.POST("/lint", limitBody(maxJSONBody), h.lint)
	g.GET("/search", h.search)
	g.GET("/export", h.export)
	g.POST("/import", limitBody(maxImportBody), h.importZip)
	if h.speaker != nil {
		g.GET("/speak", h.speakInfo)
		g.POST("/speak", limitBody(maxSpeakBody), h.speak)
	}
}

// articleInput is what clients may set; everything else (version history,
// author, timestamps) is the server's. Unknown fields are ignored so a
// client can send back what it got.
type articleInput struct {
	ID        string   `json:"id"`
	Lang      string   `json:"lang"`
	Title     string   `json:"title"`
	Queue     string   `json:"queue"`
	Tags      []string `json:"tags"`
	Questions []string `json:"questions"`
	Spoken    string   `json:"spoken"`
	Body      string   `json:"body"`
	Status    string   `json:"status"`
	Version   int      `json:"version"`
}

func (in articleInput) article() knowledge.Article {
	return knowledge.Article{
		ID: strings.TrimSpace(in.ID), Lang: strings.TrimSpace(in.Lang), Title: in.Title, Queue: in.Queue,
		Tags: in.Tags, Questions: in.Questions, Spoken: in.Spoken, Body: in.Body, Status: in.Status,
	}
}

type listResponse struct {
	Items  []knowledge.Article `json:"items"`
	Total  int                 `json:"total"`
	Offset int                 `json:"offset"`
	Limit  int                 `json:"limit"`
}

func (h *handlers) list(c *gin.Context) {
	f := knowledge.ListFilter{
		Lang:   c.Query("lang"),
		Status: c.Query("status"),
		Queue:  c.Query("queue"),
		Query:  c.Query("q"),
	}
	if f.Lang != "" && !slices.Contains(knowledge.Languages, f.Lang) {
		writeProblem(c, unknownLang(f.Lang))
		return
	}
	if f.Status != "" && !slices.Contains(knowledge.Statuses, f.Status) {
		badRequest(c, "Unknown status", "status must be draft or published")
		return
	}
	if f.Queue != "" && !slices.Contains(knowledge.Queues, f.Queue) {
		badRequest(c, "Unknown queue", "queue must be one of "+strings.Join(knowledge.Queues, ", "))
		return
	}
	switch c.Query("deleted") {
	case "", "no", "false", "0":
	case "only", "yes", "true", "1":
		f.OnlyDeleted = true
	case "include", "all":
		f.IncludeDeleted = true
	default:
		badRequest(c, "Bad parameter", "deleted must be one of: only, include (or empty)")
		return
	}
	var ok bool
	if f.Offset, ok = intParam(c, "offset", 0, 0, 1<<30); !ok {
		return
	}
	if f.Limit, ok = intParam(c, "limit", defaultLimit, 1, maxLimit); !ok {
		return
	}
	items, total, err := h.kb.List(c.Request.Context(), f)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listResponse{Items: items, Total: total, Offset: f.Offset, Limit: f.Limit})
}

func (h *handlers) get(c *gin.Context) {
	get := h.kb.Get
	if c.Query("deleted") != "" { // the trash view opens deleted articles too
		get = h.kb.GetAny
	}
	a, err := get(c.Request.Context(), c.Param("id"), c.Param("lang"))
	if err != nil {
		h.fail(c, err)
		return
	}
	respond(c, http.StatusOK, a)
}

func (h *handlers) create(c *gin.Context) {
	var in articleInput
	if !decodeJSON(c, &in) {
		return
	}
	a := in.article()
	if !slices.Contains(knowledge.Languages, a.Lang) {
		writeProblem(c, unknownLang(a.Lang))
		return
	}
	created, err := h.kb.Create(c.Request.Context(), a, auth.Actor(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Location", c.Request.URL.Path+"/"+created.Lang+"/"+created.ID)
	respond(c, http.StatusCreated, created)
}

func (h *handlers) update(c *gin.Context) {
	var in articleInput
	if !decodeJSON(c, &in) {
		return
	}
	lang, id := c.Param("lang"), c.Param("id")
	if (in.ID != "" && in.ID != id) || (in.Lang != "" && in.Lang != lang) {
		badRequest(c, "Mismatched article", "the id and lang in the body must match the URL (renaming is not supported)")
		return
	}
	version, ok := expectedVersion(c, in.Version)
	if !ok {
		return
	}
	a := in.article()
	a.ID, a.Lang = id, lang
	updated, err := h.kb.Update(c.Request.Context(), a, version, auth.Actor(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	respond(c, http.StatusOK, updated)
}

func (h *handlers) delete(c *gin.Context) {
	version, ok := expectedVersion(c, queryVersion(c))
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if err := h.kb.Delete(ctx, c.Param("id"), c.Param("lang"), version, auth.Actor(c)); err != nil {
		h.fail(c, err)
		return
	}
	a, err := h.kb.GetAny(ctx, c.Param("id"), c.Param("lang"))
	if err != nil {
		h.fail(c, err)
		return
	}
	respond(c, http.StatusOK, a)
}

func (h *handlers) restore(c *gin.Context) {
	a, err := h.kb.Restore(c.Request.Context(), c.Param("id"), c.Param("lang"), auth.Actor(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	respond(c, http.StatusOK, a)
}

func (h *handlers) publish(c *gin.Context)   { h.setStatus(c, h.kb.Publish) }
func (h *handlers) unpublish(c *gin.Context) { h.setStatus(c, h.kb.Unpublish) }

func (h *handlers) setStatus(c *gin.Context, set func(context.Context, string, string, int, string) (knowledge.Article, error)) {
	var body struct {
		Version int `json:"version"`
	}
	if !decodeOptionalJSON(c, &body) {
		return
	}
	version, ok := expectedVersion(c, body.Version)
	if !ok {
		return
	}
	a, err := set(c.Request.Context(), c.Param("id"), c.Param("lang"), version, auth.Actor(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	respond(c, http.StatusOK, a)
}

type revisionSummary struct {
	Version int       `json:"version"`
	Action  string    `json:"action"`
	Actor   string    `json:"actor"`
	At      time.Time `json:"at"`
	Title   string    `json:"title"`
	Status  string    `json:"status"`
	Deleted bool      `json:"deleted"`
}

func (h *handlers) history(c *gin.Context) {
	revs, err := h.kb.History(c.Request.Context(), c.Param("id"), c.Param("lang"))
	if err != nil {
		h.fail(c, err)
		return
	}
	out := make([]revisionSummary, len(revs))
	for i, r := range revs {
		out[i] = revisionSummary{Version: r.Version, Action: r.Action, Actor: r.Actor, At: r.At,
			Title: r.Article.Title, Status: r.Article.Status, Deleted: r.Article.Deleted}
	}
	c.JSON(http.StatusOK, gin.H{"id": c.Param("id"), "lang": c.Param("lang"), "revisions": out})
}

func (h *handlers) revision(c *gin.Context) {
	v, err := strconv.Atoi(c.Param("version"))
	if err != nil || v < 1 {
		badRequest(c, "Bad version", "version must be a positive integer")
		return
	}
	rev, err := h.kb.Revision(c.Request.Context(), c.Param("id"), c.Param("lang"), v)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, rev)
}

// diff compares two versions: by default the one before "to" with "to",
// and "to" defaults to the current version.
func (h *handlers) diff(c *gin.Context) {
	ctx := c.Request.Context()
	id, lang := c.Param("id"), c.Param("lang")
	to, ok := intParam(c, "to", 0, 1, 1<<30)
	if !ok {
		return
	}
	if to == 0 {
		cur, err := h.kb.GetAny(ctx, id, lang)
		if err != nil {
			h.fail(c, err)
			return
		}
		to = cur.Version
	}
	from, ok := intParam(c, "from", to-1, 0, 1<<30)
	if !ok {
		return
	}
	newRev, err := h.kb.Revision(ctx, id, lang, to)
	if err != nil {
		h.fail(c, err)
		return
	}
	// Version 0 is "nothing": the diff of a creation lists every field.
	oldRev := knowledge.Revision{Article: knowledge.Article{ID: id, Lang: lang}}
	if from > 0 {
		if oldRev, err = h.kb.Revision(ctx, id, lang, from); err != nil {
			h.fail(c, err)
			return
		}
	}
	changes := knowledge.Diff(oldRev.Article, newRev.Article)
	if changes == nil {
		changes = []knowledge.FieldDiff{}
	}
	c.JSON(http.StatusOK, gin.H{"from": from, "to": to, "changes": changes})
}

func (h *handlers) revert(c *gin.Context) {
	var body struct {
		Version         int `json:"version"`          // the version to go back to
		ExpectedVersion int `json:"expected_version"` // the version being replaced
	}
	if !decodeJSON(c, &body) {
		return
	}
	if body.Version < 1 {
		badRequest(c, "Bad version", `"version" (the version to revert to) must be a positive integer`)
		return
	}
	expected, ok := expectedVersion(c, body.ExpectedVersion)
	if !ok {
		return
	}
	a, err := h.kb.Revert(c.Request.Context(), c.Param("id"), c.Param("lang"), body.Version, expected, auth.Actor(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	respond(c, http.StatusOK, a)
}

type lintResponse struct {
	Problems []knowledge.Problem `json:"problems"` // block saving
	Warnings []knowledge.Warning `json:"warnings"` // advice
}

// lint checks an unsaved article the way saving would, plus the softer
// editorial warnings, so the editor can show both while typing.
func (h *handlers) lint(c *gin.Context) {
	var in articleInput
	if !decodeJSON(c, &in) {
		return
	}
	a := in.article()
	if a.Status == "" {
		a.Status = knowledge.StatusDraft
	}
	resp := lintResponse{Problems: []knowledge.Problem{}, Warnings: []knowledge.Warning{}}
	var ve *knowledge.ValidationError
	if errors.As(a.Validate(), &ve) {
		resp.Problems = ve.Problems
	}
	if w := h.kb.Lint(c.Request.Context(), a); w != nil {
		resp.Warnings = w
	}
	c.JSON(http.StatusOK, resp)
}

type hitJSON struct {
	ID         string  `json:"id"`
	Lang       string  `json:"lang"`
	Title      string  `json:"title"`
	Queue      string  `json:"queue"`
	Status     string  `json:"status"`
	Spoken     string  `json:"spoken"`
	Score      float64 `json:"score"`
	Confidence float64 `json:"confidence"`
	Matched    string  `json:"matched"`
}

// search is the "test the bot" probe: what would a caller's question
// retrieve, and how sure is the retrieval.
func (h *handlers) search(c *gin.Context) {
	lang := c.DefaultQuery("lang", "ru")
	if !slices.Contains(knowledge.Languages, lang) {
		writeProblem(c, unknownLang(lang))
		return
	}
	q := c.Query("q")
	if strings.TrimSpace(q) == "" {
		badRequest(c, "Empty query", "type a question to search for")
		return
	}
	if len(q) > 1000 {
		badRequest(c, "Query too long", "a question is at most 1000 bytes")
		return
	}
	limit, ok := intParam(c, "limit", 5, 1, maxSearchHits)
	if !ok {
		return
	}
	drafts, err := parseBool(c.Query("drafts"))
	if err != nil {
		badRequest(c, "Bad parameter", "drafts must be true or false")
		return
	}
	hits, err := h.kb.Search(c.Request.Context(), q, knowledge.SearchOptions{
		Lang: lang, Limit: limit, IncludeDrafts: drafts, Queue: c.Query("queue"),
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	out := make([]hitJSON, len(hits))
	for i, ht := range hits {
		a := ht.Article
		out[i] = hitJSON{ID: a.ID, Lang: a.Lang, Title: a.Title, Queue: a.Queue, Status: a.Status,
			Spoken: a.Spoken, Score: ht.Score, Confidence: ht.Confidence, Matched: ht.Matched}
	}
	c.JSON(http.StatusOK, gin.H{"query": q, "lang": lang, "hits": out})
}

func (h *handlers) export(c *gin.Context) {
	// Buffer the archive so a failure halfway becomes a problem response,
	// not a truncated download.
	var buf bytes.Buffer
	if err := h.kb.ExportZip(c.Request.Context(), &buf); err != nil {
		h.fail(c, err)
		return
	}
	name := "hotline-kb-" + time.Now().UTC().Format("20060102-150405") + ".zip"
	c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	c.Data(http.StatusOK, "application/zip", buf.Bytes())
}

// importZip takes the archive as the raw body (application/zip) or as the
// "file" field of a multipart form (what a browser file input sends).
func (h *handlers) importZip(c *gin.Context) {
	data, ok := readUpload(c)
	if !ok {
		return
	}
	rep, err := h.kb.ImportZip(c.Request.Context(), data, auth.Actor(c))
	if err != nil {
		if len(rep.Errors) == 0 {
			if errors.Is(err, knowledge.ErrInvalid) { // not a zip, unsafe path, too big
				writeProblem(c, newProblem(http.StatusUnprocessableEntity, "Unusable archive", err.Error()))
				return
			}
			h.fail(c, err)
			return
		}
		p := newProblem(http.StatusUnprocessableEntity, "Import rejected",
			fmt.Sprintf("%d problem(s) in the files; nothing was imported", len(rep.Errors)))
		for _, e := range rep.Errors {
			p.Errors = append(p.Errors, fileError{File: e.File, Field: e.Field, Msg: e.Msg})
		}
		writeProblem(c, p)
		return
	}
	c.JSON(http.StatusOK, gin.H{
		"created": rep.Created, "updated": rep.Updated, "unchanged": rep.Unchanged, "skipped": rep.Skipped,
	})
}

func readUpload(c *gin.Context) ([]byte, bool) {
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	var r io.Reader = c.Request.Body
	if mt == "multipart/form-data" {
		f, _, err := c.Request.FormFile("file")
		if err != nil {
			if tooLarge(err) {
				writeProblem(c, newProblem(http.StatusRequestEntityTooLarge, "Upload too large", "an import archive is limited to 10 MiB"))
				return nil, false
			}
			badRequest(c, "No file", `send the zip archive as the form field "file"`)
			return nil, false
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(r)
	switch {
	case tooLarge(err):
		writeProblem(c, newProblem(http.StatusRequestEntityTooLarge, "Upload too large", "an import archive is limited to 10 MiB"))
		return nil, false
	case err != nil:
		badRequest(c, "Unreadable upload", "the upload could not be read")
		return nil, false
	case len(data) == 0:
		badRequest(c, "Empty body", "send a zip archive of article files")
		return nil, false
	}
	return data, true
}

// respond writes an article with its version as the ETag, so clients can
// send it back in If-Match.
func respond(c *gin.Context, status int, a knowledge.Article) {
	c.Header("ETag", etag(a.Version))
	c.JSON(status, a)
}

func etag(version int) string { return `"` + strconv.Itoa(version) + `"` }

// expectedVersion is the version a write is based on: the If-Match header
// (an ETag from GET) or, failing that, fromBody. Without either the write
// is refused with 428: a blind overwrite is exactly what optimistic
// concurrency exists to prevent.
func expectedVersion(c *gin.Context, fromBody int) (int, bool) {
	if h := strings.TrimSpace(c.GetHeader("If-Match")); h != "" {
		v, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(h, "W/"), `"`))
		if err != nil || v < 1 {
			badRequest(c, "Bad If-Match", `If-Match must be the article's ETag, e.g. "3"`)
			return 0, false
		}
		return v, true
	}
	if fromBody > 0 {
		return fromBody, true
	}
	writeProblem(c, newProblem(http.StatusPreconditionRequired, "Version required",
		`say which version you are changing: an If-Match header with the ETag, or "version" in the body`))
	return 0, false
}

func queryVersion(c *gin.Context) int {
	v, _ := strconv.Atoi(c.Query("version"))
	return v
}

func intParam(c *gin.Context, name string, def, lo, hi int) (int, bool) {
	s := c.Query(name)
	if s == "" {
		return def, true
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		badRequest(c, "Bad parameter", fmt.Sprintf("%s must be an integer from %d to %d", name, lo, hi))
		return 0, false
	}
	return v, true
}

func parseBool(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	return strconv.ParseBool(s)
}

// checkLang refuses unknown languages in the path before any lookup, so
// "/articles/de/x" is a 400 (bad request), not a 404.
func checkLang(c *gin.Context) {
	if lang := c.Param("lang"); !slices.Contains(knowledge.Languages, lang) {
		writeProblem(c, unknownLang(lang))
		return
	}
	c.Next()
}

// limitBody caps the request body. A declared length over the limit is
// refused at once; an undeclared one fails when the reader crosses it.
func limitBody(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > n {
			writeProblem(c, newProblem(http.StatusRequestEntityTooLarge, "Body too large",
				fmt.Sprintf("the request body is limited to %d KiB", n>>10)))
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		c.Next()
	}
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// decodeJSON reads the JSON body into v, answering 400, 413 or 415 itself.
func decodeJSON(c *gin.Context, v any) bool {
	if mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); mt != "application/json" {
		writeProblem(c, newProblem(http.StatusUnsupportedMediaType, "Unsupported media type", "send the body as application/json"))
		return false
	}
	return decode(c, v, false)
}

// decodeOptionalJSON is decodeJSON for bodies that may be absent.
func decodeOptionalJSON(c *gin.Context, v any) bool {
	if c.Request.ContentLength == 0 {
		return true
	}
	return decode(c, v, true)
}

func decode(c *gin.Context, v any, optional bool) bool {
	dec := json.NewDecoder(c.Request.Body)
	err := dec.Decode(v)
	switch {
	case err == nil:
		if dec.More() {
			badRequest(c, "Malformed JSON", "the body must hold exactly one JSON object")
			return false
		}
		return true
	case tooLarge(err):
		writeProblem(c, newProblem(http.StatusRequestEntityTooLarge, "Body too large", "the request body is too large"))
	case errors.Is(err, io.EOF):
		if optional {
			return true
		}
		badRequest(c, "Empty body", "a JSON object is required")
	default:
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			badRequest(c, "Malformed JSON", fmt.Sprintf("field %q must be a JSON %s", te.Field, te.Type.Kind()))
		} else {
			badRequest(c, "Malformed JSON", err.Error())
		}
	}
	return false
}
