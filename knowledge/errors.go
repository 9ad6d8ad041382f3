package knowledge

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Callers compare with errors.Is; the HTTP layer maps them
// to problem responses (404, 409, 422...).
var (
	ErrNotFound        = errors.New("knowledge: article not found")
	ErrExists          = errors.New("knowledge: article already exists")
	ErrConflict        = errors.New("knowledge: article was changed by someone else (version conflict)")
	ErrInvalid         = errors.New("knowledge: invalid article")
	ErrUnknownLanguage = errors.New("knowledge: unknown language")
	ErrEmptyQuery      = errors.New("knowledge: empty query")
	ErrNotDeleted      = errors.New("knowledge: article is not deleted")
	ErrClosed          = errors.New("knowledge: service is closed")
)

// FieldError is a problem in one article file, named by file and field so an
// editor can find it ("ru/phone.md: queue: unknown queue \"x\"").
type FieldError struct {
	File  string
	Field string // empty when the problem is the file as a whole
	Msg   string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is lets errors.Is(err, ErrInvalid) hold for parse errors too.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Problem is one hard validation failure.
type Problem struct {
	Field string `json:"field"`
	Msg   string `json:"msg"`
}

// ValidationError lists every problem found, not only the first, so an
// editor can fix them in one pass.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Msg
	}
	return fmt.Sprintf("knowledge: invalid article: %s", strings.Join(parts, "; "))
}

// Is makes every ValidationError match ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }
