package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestCallToChat: an in-app caller types a question (the bot goes on in
// Russian), then switches to the text chat: POST
// /api/v1/calls/:id/chat with the call token ends the call and gives a
// single-use resume token; the chat opened with it shows the call's turns
// as history and the bot goes on in Russian; the token does not work
// twice.
func TestCallToChat(t *testing.T) {
	if testing.Short() {
		t.Skip("real server and a pion peer: skipped with -short")
	}
	base, logs := startServe(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	var tok struct {
		Token  string `json:"token"`
		CallID string `json:"call_id"`
	}
	if resp, body := post(t, base+"/api/v1/calls/token", "", "", ""); resp.StatusCode != http.StatusCreated ||
		json.Unmarshal([]byte(body), &tok) != nil {
		t.Fatalf("call token: %s %s", resp.Status, body)
	}
	caller := newPeer(t, true)
	opened := make(chan struct{})
	caller.dc.OnOpen(func() { close(opened) })
	caller.dial(base+"/api/v1/calls", tok.Token)
	select {
	case <-opened:
	case <-time.After(15 * time.Second):
		t.Fatalf("events channel not open\n%s", logs)
	}
	caller.waitEvent("reply", 30*time.Second)
	// The greeting (the recording notice) plays whole: type once it is over.
	start := caller.mark()
	eventually(t, 60*time.Second, "the greeting to end", func() bool {
		s := caller.since(start)
		if len(s) < 48000*3 {
			return false
		}
		m := caller.mark()
		time.Sleep(300 * time.Millisecond)
		tail := caller.since(m)
		return len(tail) < 4800 || rms(tail) < 30
	})
	// Typed at the language menu: the bot goes on in Russian.
	_ = caller.dc.SendText(`{"type":"text","text":"What are the operator hours?"}`)
	for {
		ev := caller.waitEvent("reply", 30*time.Second)
		if s, _ := ev["text"].(string); strings.Contains(s, "Чем могу помочь") {
			break
		}
	}

	if resp, body := post(t, base+"/api/v1/calls/"+tok.CallID+"/chat", "", "hct1.forged", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("switch with a forged token: %s %s, want 401", resp.Status, body)
	}
	resp, body := post(t, base+"/api/v1/calls/"+tok.CallID+"/chat", "", tok.Token, "")
	var sw struct {
		ResumeToken string    `json:"resume_token"`
		ChatURL     string    `json:"chat_url"`
		ExpiresAt   time.Time `json:"expires_at"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal([]byte(body), &sw) != nil || sw.ResumeToken == "" ||
		sw.ChatURL != "/chat/?resume="+sw.ResumeToken || time.Until(sw.ExpiresAt) < 5*time.Minute {
		t.Fatalf("switch to chat: %s %s\n%s", resp.Status, body, logs)
	}
	if resp, _ := post(t, base+"/api/v1/calls/"+tok.CallID+"/chat", "", tok.Token, ""); resp.StatusCode == http.StatusCreated {
		t.Errorf("a second switch of the ended call: %s", resp.Status)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dial := func() *websocket.Conn {
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/v1/chat/ws?resume="+sw.ResumeToken, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		return ws
	}
	type frame struct {
		Type, Text, Lang, Code string
		Turns                  []struct{ Speaker, Text string }
	}
	read := func(ws *websocket.Conn) frame {
		t.Helper()
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var f frame
		_ = json.Unmarshal(data, &f)
		return f
	}
	ws := dial()
	if f := read(ws); f.Type != "session" {
		t.Fatalf("first frame %+v", f)
	}
	h := read(ws)
	var hist []string
	for _, tr := range h.Turns {
		hist = append(hist, tr.Speaker+": "+tr.Text)
	}
	all := strings.Join(hist, "\n")
	t.Logf("history (%s):\n%s", h.Lang, all)
	if h.Type != "history" || h.Lang != "ru" || !strings.Contains(all, "caller: What are the operator hours?") ||
		!strings.Contains(all, "bot: Продолжаем на русском") || !strings.Contains(all, "For English, press 2") {
		t.Fatalf("history frame %+v", h)
	}
	for {
		f := read(ws)
		if f.Type == "reply" {
			if f.Lang != "ru" || strings.Contains(f.Text, "For English") {
				t.Errorf("the chat goes on with %+v, want Russian without the language menu", f)
			}
			break
		}
	}
	again := dial()
	read(again) // session
	if f := read(again); f.Type != "error" || f.Code != "resume_expired" {
		t.Errorf("the token used twice: %+v", f)
	}
}
