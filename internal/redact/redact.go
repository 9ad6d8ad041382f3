// Package redact masks personal data (phone numbers, SNILS, passport and
// card-like digit runs, e-mail addresses) before text reaches a log line.
package redact

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
)

var (
	// SNILS: 123-456-789 01 or 12345678901 next to the word; the dashed form is distinctive.
	snilsRe = regexp.MustCompile(`\b\d{3}-\d{3}-\d{3}[ -]\d{2}\b`)
	// Passport: series and number, "45 08 123456" or "4508 123456" or "4508123456".
	passportRe = regexp.MustCompile(`\b\d{2}\s?\d{2}\s?\d{6}\b`)
	// Phone numbers: +7 / 8 / 7 followed by ten digits with optional separators,
	// and any other run of 7+ digits with separators (foreign numbers, cards).
	phoneRe = regexp.MustCompile(`(?:\+|\b)\d(?:[\s\-().]{0,2}\d){6,18}\b`)
	emailRe = regexp.MustCompile(`\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+\b`)
)

// String returns s with personal data masked. Digits are replaced by '*'
// except the last two of a number, which keeps log lines useful for
// support ("the number ending in 67") without identifying anyone.
func String(s string) string {
	if !strings.ContainsAny(s, "0123456789@") {
		return s
	}
	s = emailRe.ReplaceAllStringFunc(s, maskEmail)
	s = snilsRe.ReplaceAllStringFunc(s, maskDigits)
	s = passportRe.ReplaceAllStringFunc(s, maskDigits)
	return phoneRe.ReplaceAllStringFunc(s, maskDigits)
}

// Digits masks every digit of a known identifier but the last two.
func Digits(s string) string { return maskDigits(s) }

func maskDigits(m string) string {
	total := 0
	for _, r := range m {
		if r >= '0' && r <= '9' {
			total++
		}
	}
	keep := 2
	if total <= 4 {
		keep = 0
	}
	var b strings.Builder
	seen := 0
	for _, r := range m {
		if r >= '0' && r <= '9' {
			seen++
			if seen <= total-keep {
				b.WriteByte('*')
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

func maskEmail(m string) string {
	at := strings.IndexByte(m, '@')
	return m[:1] + "***" + m[at:]
}

// Handler wraps a slog.Handler and masks personal data in the message and
// in every string attribute, including those added with With.
type Handler struct{ next slog.Handler }

// NewHandler returns a Handler writing to next.
func NewHandler(next slog.Handler) *Handler { return &Handler{next: next} }

func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = attr(a)
	}
	return &Handler{next: h.next.WithAttrs(masked)}
}

func (h *Handler) WithGroup(name string) slog.Handler { return &Handler{next: h.next.WithGroup(name)} }

func attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, String(v.String()))
	case slog.KindGroup:
		group := v.Group()
		masked := make([]any, len(group))
		for i, g := range group {
			masked[i] = attr(g)
		}
		return slog.Group(a.Key, masked...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, String(err.Error()))
		}
		if s, ok := v.Any().(interface{ String() string }); ok {
			return slog.String(a.Key, String(s.String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
