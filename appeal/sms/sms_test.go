package sms_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/appeal/sms"
)

func TestGatewayRetriesAndMasksPhone(t *testing.T) {
	var calls atomic.Int32
	got := make(chan map[string]string, 1)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "busy", http.StatusBadGateway)
			return
		}
		if r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("auth header %q", r.Header.Get("Authorization"))
		}
		var m map[string]string
		json.NewDecoder(r.Body).Decode(&m)
		got <- m
	}))
	defer gw.Close()
	var logs bytes.Buffer
	n, err := sms.New(sms.Config{URL: gw.URL, Token: "tok", Sender: "Gosuslugi"},
		sms.WithRetry(3, 10*time.Millisecond), sms.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ev := appeal.Event{Type: appeal.EventStatusChanged, Number: "1234567890", Lang: "ru", Status: appeal.Rejected,
		Reason: "нет документов", Phone: "8 (912) 345-67-89"}
	if err := n.Notify(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m["to"] != "+79123456789" || m["text"] != "Обращение 123 456 789 0 отклонено: нет документов" || m["sender"] != "Gosuslugi" {
			t.Fatalf("gateway got %v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no SMS")
	}
	n.Close()
	if strings.Contains(logs.String(), "912345") || !strings.Contains(logs.String(), "sms sent") {
		t.Fatalf("logs: %s", logs.String())
	}
	// No phone, escalations: nothing to send.
	if n.Render(appeal.Event{Type: appeal.EventEscalated, Status: appeal.InProgress}) != "" {
		t.Fatal("escalation texted to the caller")
	}
	if s := n.Render(appeal.Event{Type: appeal.EventCreated, Number: "1234567890", Lang: "en"}); !strings.HasPrefix(s, "Appeal 123 456 789 0") {
		t.Fatalf("en created: %q", s)
	}
}
