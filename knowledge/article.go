// Package knowledge is Hotline's knowledge base: FAQ articles in Russian and
// English, stored with full history in SQLite and searched through a Bleve
// index that is derived from the database and rebuilt whenever in doubt.
package knowledge

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Article states.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
)

// Languages the knowledge base is written in.
var Languages = []string{"ru", "en"}

// Queues an article may route the caller to.
var Queues = []string{"general", "tech", "social", "business", "abroad"}

// Statuses an article may have.
var Statuses = []string{StatusDraft, StatusPublished}

// Limits on article fields; they keep both the editor and the TTS sane.
const (
	MaxTitle     = 200
	MaxSpoken    = 600
	MaxBody      = 20000
	MaxQuestions = 30
	MaxQuestion  = 300
	MaxTags      = 20
	MaxTag       = 100
	MaxID        = 100
)

// Article is one FAQ entry in one language. The same ID in both languages
// links the translations.
type Article struct {
	ID        string   `json:"id"`
	Lang      string   `json:"lang"`
	Title     string   `json:"title"`
	Queue     string   `json:"queue"`
	Tags      []string `json:"tags"`
	Questions []string `json:"questions"`
	Spoken    string   `json:"spoken"` // what the voice bot says
	Body      string   `json:"body"`   // Markdown, for chat and the editor
	Status    string   `json:"status"`

	Version   int       `json:"version"` // starts at 1, +1 on every change
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
	CreatedAt time.Time `json:"created_at"`
	Deleted   bool      `json:"deleted"`
}

// Key is "lang/id", the article's identity across the store and the index.
func (a Article) Key() string { return a.Lang + "/" + a.ID }

var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Validate reports the hard errors that keep an article out of the store.
// It returns a *ValidationError (which matches ErrInvalid) or nil.
func (a Article) Validate() error {
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	switch {
	case a.ID == "":
		add("id", "is empty")
	case len(a.ID) > MaxID:
		add("id", "is longer than %d characters", MaxID)
	case !idPattern.MatchString(a.ID):
		add("id", "%q must be lowercase ASCII letters and digits separated by single hyphens (kebab-case)", a.ID)
	}
	if !slices.Contains(Languages, a.Lang) {
		add("lang", "%q is not one of %s", a.Lang, strings.Join(Languages, ", "))
	}
	checkText := func(field, v string, max int, required bool) {
		n := utf8.RuneCountInString(v)
		switch {
		case required && strings.TrimSpace(v) == "":
			add(field, "is empty")
		case n > max:
			add(field, "is %d characters, the limit is %d", n, max)
		case !utf8.ValidString(v):
			add(field, "is not valid UTF-8")
		}
	}
	checkText("title", a.Title, MaxTitle, true)
	checkText("spoken", a.Spoken, MaxSpoken, true)
	checkText("body", a.Body, MaxBody, false)
	if !slices.Contains(Queues, a.Queue) {
		add("queue", "%q is not one of %s", a.Queue, strings.Join(Queues, ", "))
	}
	if !slices.Contains(Statuses, a.Status) {
		add("status", "%q is not one of %s", a.Status, strings.Join(Statuses, ", "))
	}
	if len(a.Questions) > MaxQuestions {
		add("questions", "has %d entries, the limit is %d", len(a.Questions), MaxQuestions)
	}
	for i, q := range a.Questions {
		checkText(fmt.Sprintf("questions[%d]", i), q, MaxQuestion, true)
	}
	if len(a.Tags) > MaxTags {
		add("tags", "has %d entries, the limit is %d", len(a.Tags), MaxTags)
	}
	for i, t := range a.Tags {
		checkText(fmt.Sprintf("tags[%d]", i), t, MaxTag, true)
	}
	if ps == nil {
		return nil
	}
	return &ValidationError{Problems: ps}
}

// normalize trims the whitespace that has no meaning, so that what is stored,
// what is exported and what is parsed back are byte-for-byte the same.
func normalize(a Article) Article {
	a.ID = strings.TrimSpace(a.ID)
	a.Lang = strings.TrimSpace(a.Lang)
	a.Title = strings.TrimSpace(a.Title)
	a.Queue = strings.TrimSpace(a.Queue)
	a.Status = strings.TrimSpace(a.Status)
	a.Spoken = strings.TrimSpace(a.Spoken)
	a.Body = normalizeBody(a.Body)
	a.Tags = trimAll(a.Tags)
	a.Questions = trimAll(a.Questions)
	return a
}

func normalizeBody(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.TrimLeft(s, "\n")
	return strings.TrimRight(s, " \t\n")
}

// trimAll trims each entry and drops empty ones; it never returns nil so the
// JSON form is always a list.
func trimAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// sameContent reports whether two articles carry the same editable content;
// metadata (version, timestamps, deletion) is ignored.
func sameContent(a, b Article) bool {
	return a.ID == b.ID && a.Lang == b.Lang && a.Title == b.Title && a.Queue == b.Queue &&
		slices.Equal(a.Tags, b.Tags) && slices.Equal(a.Questions, b.Questions) &&
		a.Spoken == b.Spoken && a.Body == b.Body && a.Status == b.Status
}
