package calls

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/bot"
	"github.com/hotline-ivr/hotline/store"
	"github.com/hotline-ivr/hotline/voice"
)

func TestStoreAndAPI(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := OpenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	if err := s.Start(ctx, Call{ID: "a@h", Channel: "sip", StartedAt: t0, Caller: "*******4567"}); err != nil {
		t.Fatal(err)
	}
	end := t0.Add(time.Minute)
	tr := []bot.Turn{
		{At: t0, Speaker: bot.SpeakerBot, Text: "Hello"},
		{At: t0.Add(5 * time.Second), Speaker: bot.SpeakerCaller, Text: "how do I check my appeal status", Intent: "faq"},
		{At: t0.Add(6 * time.Second), Speaker: bot.SpeakerBot, Text: "Say the number", Latency: 40 * time.Millisecond},
	}
	turns := []voice.Turn{{Input: "how do I check my appeal status", Lang: "en", Endpointing: 600 * time.Millisecond,
		Recognition: 30 * time.Millisecond, VoiceToVoice: 900 * time.Millisecond}}
	c := Call{ID: "a@h", Channel: "sip", StartedAt: t0, EndedAt: &end, Reason: "hangup", Caller: "*******4567",
		Handoff: &HandoffRecord{Queue: "general", Mode: "refer", Outcome: OutcomeCallback}, Turns: mergeTurns(tr, turns)}
	if err := s.Finish(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx, Call{ID: "b@h", Channel: "webrtc", StartedAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	gin.SetMode(gin.TestMode)
	r := gin.New()
	Register(r.Group("/api/v1"), s, func(*gin.Context) {})
	get := func(url string, v any) int {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, url, nil))
		if v != nil {
			_ = json.Unmarshal(w.Body.Bytes(), v)
		}
		return w.Code
	}
	var list struct{ Calls []Call }
	if code := get("/api/v1/calls", &list); code != 200 || len(list.Calls) != 2 || list.Calls[0].ID != "b@h" {
		t.Fatalf("list = %d %+v", code, list)
	}
	if code := get("/api/v1/calls?channel=sip&reason=hangup", &list); code != 200 || len(list.Calls) != 1 {
		t.Fatalf("filtered list = %d %+v", code, list)
	}
	if code := get("/api/v1/calls?limit=x", nil); code != 400 {
		t.Errorf("bad limit = %d", code)
	}
	var got Call
	if code := get("/api/v1/calls/a@h", &got); code != 200 {
		t.Fatalf("get = %d", code)
	}
	if len(got.Turns) != 3 || got.Turns[1].VoiceToVoiceMs != 900 || got.Turns[1].EndpointingMs != 600 ||
		got.Turns[1].Lang != "en" || got.Turns[2].LatencyMs != 40 || got.Handoff == nil || got.Handoff.Outcome != OutcomeCallback ||
		got.EndedAt == nil || !got.EndedAt.Equal(end) {
		t.Errorf("call = %+v", got)
	}
	if code := get("/api/v1/calls/nope", nil); code != 404 {
		t.Errorf("unknown call = %d", code)
	}
}

func TestLangOf(t *testing.T) {
	for _, c := range []struct{ user, header, want string }{
		{"en", "", "en"}, {"RU", "", "ru"}, {"8800", "english", "en"}, {"bot", "", ""},
	} {
		if got := langOf(c.user, c.header); got != c.want {
			t.Errorf("langOf(%q, %q) = %q, want %q", c.user, c.header, got, c.want)
		}
	}
}
