package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"call me at +7 916 123-45-67 please", "call me at +* *** ***-**-67 please"},
		{"номер 89161234567", "номер *********67"},
		{"8 (916) 123 45 67", "* (***) *** ** 67"},
		{"СНИЛС 112-233-445 95", "СНИЛС ***-***-*** 95"},
		{"паспорт 4508 123456", "паспорт **** ****56"},
		{"write to ivan.petrov@mail.ru", "write to i***@mail.ru"},
		{"appeal 2024 status", "appeal 2024 status"},
		{"at 8:00 to 20:00", "at 8:00 to 20:00"},
		{"no digits here", "no digits here"},
	}
	for _, tt := range tests {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHandlerMasksMessageAttrsAndGroups(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewHandler(slog.NewJSONHandler(&buf, nil))).With("caller", "+79161234567")
	log.Info("callback to 8 916 123 45 67 requested",
		"snils", "112-233-445 95",
		slog.Group("slots", "phone", "89161234567"),
		"err", errors.New("lookup failed for 89161234567"))
	out := buf.String()
	for _, leak := range []string{"9161234567", "916 123 45", "112-233-445"} {
		if strings.Contains(out, leak) {
			t.Errorf("log line leaks %q: %s", leak, out)
		}
	}
	if !strings.Contains(out, "67") {
		t.Errorf("masked numbers should keep their last digits: %s", out)
	}
}
