package chat_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hotline-ivr/hotline/bot/chat"
)

// TestResumeFromCall: a chat opened with a resume token starts with the
// carried-over turns as a history frame and the bot speaks the call's
// language; the token redeems once, a second use gets a polite error and
// a fresh chat.
func TestResumeFromCall(t *testing.T) {
	skipShort(t)
	var mu sync.Mutex
	used := map[string]bool{}
	at := time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)
	e := newEnv(t, inHours, chat.WithResume(func(_ context.Context, tok string) (chat.Resume, error) {
		mu.Lock()
		defer mu.Unlock()
		if tok != "tok-1" || used[tok] {
			return chat.Resume{}, errors.New("unknown resume token")
		}
		used[tok] = true
		return chat.Resume{Lang: "en", AppealNumber: "1234567890", Turns: []chat.HistoryTurn{
			{At: at, Speaker: "bot", Text: "How can I help you?"},
			{At: at.Add(5 * time.Second), Speaker: "caller", Text: "what are the operator hours"},
		}}, nil
	}))
	c := e.dial("?resume=tok-1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, data, err := c.conn.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Type         string             `json:"type"`
		Lang         string             `json:"lang"`
		AppealNumber string             `json:"appeal_number"`
		Turns        []chat.HistoryTurn `json:"turns"`
	}
	if err := json.Unmarshal(data, &h); err != nil || h.Type != "history" || h.Lang != "en" || h.AppealNumber != "1234567890" ||
		len(h.Turns) != 2 || h.Turns[1].Speaker != "caller" || h.Turns[1].Text != "what are the operator hours" {
		t.Fatalf("history frame %s (%v)", data, err)
	}
	got := c.turn()
	has(t, got, "How can I help you?")
	if f, ok := c.last("reply"); !ok || f.Lang != "en" {
		t.Errorf("the bot continues in %q, want en: %+v", f.Lang, f)
	}
	has(t, c.say("what are the operator hours"), "operators")

	again := e.dial("?resume=tok-1")
	if f := again.next(); f.Type != "error" || f.Code != "resume_expired" {
		t.Fatalf("a used token: %+v, want error resume_expired", f)
	}
	has(t, again.turn(), "For English, press 2")
}
