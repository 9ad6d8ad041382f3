package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/appeal/webhook"
	"github.com/hotline-ivr/hotline/internal/browsertest"
)

const deskPassword = "desk-test-password-42"

// webhookReceiver is a CRM stand-in: it checks every delivery's signature
// and passes the events on.
func webhookReceiver(t *testing.T, secret string) (url string, events <-chan appeal.Event) {
	ch := make(chan appeal.Event, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute)
		if err != nil {
			t.Errorf("webhook signature: %v", err)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var ev appeal.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		ch <- ev
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

// apiClient calls the API anonymously or with a bearer token.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c apiClient) do(method, path string, body, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+"/api/v1"+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

// deskConfig opens the queues around the clock for the test (the real
// hours are Moscow office hours) and sends appeal events to the receiver.
func deskConfig(t *testing.T, hookURL, secret string) string {
	moscow, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(moscow)
	var days strings.Builder
	for _, d := range []int{-1, 0, 1} {
		fmt.Fprintf(&days, "    %q: \"00:00-24:00\"\n", now.AddDate(0, 0, d).Format(time.DateOnly))
	}
	yaml := fmt.Sprintf(`appeals:
  webhooks:
    - url: %s
      secret: %s
queues:
  holidays:
%sdesk:
  disconnect_grace: 2s
`, hookURL, secret, days.String())
	p := filepath.Join(t.TempDir(), "hotline.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func addUser(t *testing.T, cfgPath, dataDir, name, role string) {
	t.Helper()
	var out bytes.Buffer
	c := &cli{stdin: strings.NewReader(deskPassword + "\n"), stdout: &out, stderr: &out}
	if err := run(context.Background(), c, []string{"users", "add", "--config", cfgPath, "--data", dataDir, "--role", role, name}); err != nil {
		t.Fatalf("users add %s: %v\n%s", name, err, out.String())
	}
}

// TestDeskInChromium drives the agent desk in headless Chromium against
// the real server (SQLite, accounts, appeals, queues, a webhook
// receiver): an agent logs in and gets ready, the bot hands a chat off,
// the offer card must be on the agent's screen within a second; the agent
// accepts, moves the appeal to in_progress (the signed webhook arrives),
// writes to the caller and wraps up. Then a voice handoff: the supervisor
// sees it and reassigns it to another queue from the page, the agent
// accepts it again and closes the page, and after the grace the handoff is
// back in the queue.
//
// Set HOTLINE_E2E_SCREENSHOTS=DIR to keep screenshots of each step.
func TestDeskInChromium(t *testing.T) {
	browser := browsertest.Start(t)

	const secret = "webhook-secret-0123456789"
	hookURL, hooks := webhookReceiver(t, secret)
	dataDir := t.TempDir()
	cfgPath := deskConfig(t, hookURL, secret)
	addUser(t, cfgPath, dataDir, "anna", "agent")
	addUser(t, cfgPath, dataDir, "sergey", "supervisor")
	addUser(t, cfgPath, dataDir, "ivr", "agent") // the integration account the bot side calls the API with
	base, logs := startServe(t, "--config", cfgPath, "--data", dataDir)
	anonymous := apiClient{t: t, base: base}
	if code := anonymous.do("POST", "/handoffs", map[string]any{"queue": "general"}, nil); code != http.StatusUnauthorized {
		t.Errorf("anonymous POST /handoffs = %d, want 401", code)
	}
	login := func(user string) apiClient {
		var l struct{ Token string }
		if code := anonymous.do("POST", "/auth/login", map[string]any{"username": user, "password": deskPassword, "bearer": true}, &l); code != 200 {
			t.Fatalf("API login as %s: %d", user, code)
		}
		return apiClient{t: t, base: base, token: l.Token}
	}
	super := login("sergey")
	bot := login("ivr")

	shotDir := os.Getenv("HOTLINE_E2E_SCREENSHOTS")
	shot := func(ctx context.Context, name string) {
		if shotDir == "" {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(filepath.Join(shotDir, name+".png"), png, 0o644)
		}
		if err != nil {
			t.Logf("screenshot %s: %v", name, err)
		}
	}
	pages := pageSteps{t: t, logs: logs, interval: 10 * time.Millisecond, onFail: shot}
	step, until := pages.step, pages.until
	js := func(ctx context.Context, expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	choose := func(id, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
			`(el => { el.value = %q; el.dispatchEvent(new Event('change')); })(document.getElementById(%q))`, value, id))
	}
	logIn := func(ctx context.Context, user string) {
		t.Helper()
		pages.logIn(ctx, base, user)
	}
	offerShown := func(id string) string {
		return fmt.Sprintf(`!document.getElementById('offer').hidden && document.querySelector('#offer-card [data-handoff-id=%q]')`, id)
	}

	agent, closeAgent := browser.NewProfile(t)
	logIn(agent, "anna")
	step(agent, "ready", chromedp.Click(chromedp.ID("btn-ready")))
	until(agent, "state ready", `document.getElementById('my-state').textContent === 'ready'`, 5*time.Second)
	until(agent, "queues listed", `document.querySelectorAll('#queues tbody tr').length === 5`, 5*time.Second)

	supervisor, _ := browser.NewProfile(t)
	logIn(supervisor, "sergey")
	until(supervisor, "supervisor panel", `!document.getElementById('supervisor').hidden`, 5*time.Second)
	until(supervisor, "sees anna ready", `document.querySelector('#agents [data-agent="anna"] .state-ready')`, 5*time.Second)
	shot(agent, "1-ready")

	// The bot hands a chat off. The card must be visible within a second
	// of the API's answer.
	const phone = "+7 916 123-45-67"
	var created struct {
		HandoffID    string `json:"handoff_id"`
		Queue        string `json:"queue"`
		AppealNumber string `json:"appeal_number"`
		AppealSpoken string `json:"appeal_spoken"`
		InHours      bool   `json:"in_hours"`
	}
	turnAt := time.Now().Add(-time.Minute).UTC()
	chatReq := map[string]any{
		"channel": "chat", "lang": "ru", "topic": "pension", "intent": "operator",
		"slots":   map[string]string{"phone": phone, "date": "2026-01-15"},
		"contact": map[string]string{"phone": phone, "name": "Ирина"},
		"transcript": []map[string]any{
			{"at": turnAt, "speaker": "caller", "text": "Когда придёт пенсия? <script>window.__xss=1</script>"},
			{"at": turnAt.Add(5 * time.Second), "speaker": "bot", "text": "Пенсия приходит по графику доставки."},
			{"at": turnAt.Add(20 * time.Second), "speaker": "caller", "text": "Соедините с оператором"},
		},
		"bot_attempts":        []map[string]any{{"question": "Когда придёт пенсия?", "article_id": "pension-dates", "answer": "По графику доставки.", "score": 0.41}},
		"wait_so_far_seconds": 45,
	}
	if code := bot.do("POST", "/handoffs", chatReq, &created); code != http.StatusCreated {
		t.Fatalf("POST /handoffs = %d %+v", code, created)
	}
	sent := time.Now()
	if created.Queue != "social" || !created.InHours || created.AppealNumber == "" {
		t.Fatalf("unexpected routing: %+v", created)
	}
	until(agent, "offer card", offerShown(created.HandoffID), 10*time.Second)
	latency := time.Since(sent)
	t.Logf("offer card visible %v after the API answered", latency.Round(time.Millisecond))
	if latency > time.Second {
		t.Errorf("the offer card took %v to appear; the desk must show it within a second", latency)
	}
	shot(agent, "2-offer")
	card := js(agent, `document.getElementById('offer-card').textContent`)
	for _, want := range []string{created.AppealSpoken, "chat", "Русский", "Социальные выплаты", "operator", "•••••••4567", "Когда придёт пенсия?", "По графику доставки.", "Соедините с оператором"} {
		if !strings.Contains(card, want) {
			t.Errorf("offer card lacks %q:\n%s", want, card)
		}
	}
	if strings.Contains(card, "123-45-67") || strings.Contains(card, "1234567") {
		t.Errorf("offer card shows the full phone number:\n%s", card)
	}
	if js(agent, `String(window.__xss || '') + document.querySelectorAll('#offer-card script').length`) != "0" {
		t.Error("markup in the transcript was run or inserted")
	}
	if c := js(agent, `document.getElementById('offer-countdown').textContent`); c == "" || c == "0" || c == "–" {
		t.Errorf("offer countdown = %q", c)
	}

	// Accept, then work on the appeal.
	step(agent, "accept", chromedp.Click(chromedp.ID("btn-accept")))
	until(agent, "conversation open", `!document.getElementById('work').hidden && document.getElementById('offer').hidden`, 5*time.Second)
	until(agent, "appeal loaded", `document.getElementById('appeal-status').dataset.status === 'accepted'`, 5*time.Second)
	if opts := js(agent, `[...document.getElementById('status-to').options].map(o => o.value).join(',')`); opts != "in_progress,rejected" {
		t.Errorf("status choices from accepted = %q, want in_progress,rejected", opts)
	}
	until(supervisor, "supervisor sees it accepted",
		fmt.Sprintf(`(r => r && r.querySelector('[data-field=state]').textContent === 'accepted' && r.querySelector('[data-field=agent]').textContent === 'anna')(document.querySelector('#live tr[data-handoff-id=%q]'))`, created.HandoffID), 5*time.Second)

	step(agent, "choose rejected", choose("status-to", "rejected"))
	until(agent, "rejection asks for a reason", `!document.getElementById('status-reason-wrap').hidden`, 2*time.Second)
	step(agent, "choose in progress", choose("status-to", "in_progress"),
		chromedp.Click(chromedp.ID("status-submit")))
	until(agent, "status changed", `document.getElementById('appeal-status').dataset.status === 'in_progress'`, 5*time.Second)
	deadline := time.After(15 * time.Second)
	for got := false; !got; {
		select {
		case ev := <-hooks:
			if ev.Type == appeal.EventStatusChanged && ev.Number == created.AppealNumber {
				if ev.Status != appeal.InProgress || ev.From != appeal.Accepted || ev.Actor != "anna" {
					t.Errorf("webhook event = %+v", ev)
				}
				got = true
			}
		case <-deadline:
			t.Fatalf("no signed appeal.status_changed webhook for %s", created.AppealNumber)
		}
	}

	step(agent, "add a note", chromedp.SendKeys(chromedp.ID("note-text"), "Проверить дату зачисления"), chromedp.Click(chromedp.ID("note-submit")))
	until(agent, "note shown", `document.getElementById('appeal-notes').textContent.includes('Проверить дату зачисления')`, 5*time.Second)
	step(agent, "reveal personal data", chromedp.Click(chromedp.ID("btn-reveal")))
	until(agent, "phone revealed", `document.getElementById('work-card').textContent.includes('123-45-67') && document.getElementById('appeal-contact').textContent.includes('Ирина')`, 2*time.Second)

	step(agent, "write to the caller", chromedp.SendKeys(chromedp.ID("chat-text"), "Здравствуйте, Ирина! Смотрю ваше обращение."), chromedp.Click(chromedp.ID("chat-send")))
	until(agent, "message in the transcript", `document.getElementById('work-transcript').textContent.includes('Смотрю ваше обращение')`, 5*time.Second)
	shot(agent, "3-conversation")

	step(agent, "wrap up", choose("wrapup-reason", "Question answered"), chromedp.Click(chromedp.ID("wrapup-submit")))
	until(agent, "conversation closed", `document.getElementById('work').hidden && !document.getElementById('idle').hidden`, 5*time.Second)
	var ap struct {
		Notes []appeal.Note `json:"notes"`
	}
	super.do("GET", "/appeals/"+created.AppealNumber, nil, &ap)
	if len(ap.Notes) < 2 || !strings.Contains(ap.Notes[len(ap.Notes)-1].Text, "Question answered") {
		t.Errorf("wrap-up not recorded in the appeal notes: %+v", ap.Notes)
	}

	// A voice handoff: the supervisor moves it to the general queue, the
	// agent is offered it again there.
	voiceReq := map[string]any{"channel": "voice", "lang": "en", "queue": "tech", "intent": "operator", "call_ref": "call-1",
		"contact": map[string]string{"phone": "+44 20 7946 0000"}, "wait_so_far_seconds": 10}
	var voice struct {
		HandoffID string `json:"handoff_id"`
	}
	if code := bot.do("POST", "/handoffs", voiceReq, &voice); code != http.StatusCreated {
		t.Fatalf("POST /handoffs (voice) = %d", code)
	}
	sent = time.Now()
	until(agent, "voice offer", offerShown(voice.HandoffID), 10*time.Second)
	t.Logf("voice offer card visible %v after the API answered", time.Since(sent).Round(time.Millisecond))
	step(agent, "accept voice", chromedp.Click(chromedp.ID("btn-accept")))
	until(agent, "voice placeholder", `!document.getElementById('voice').hidden && document.getElementById('chat').hidden && /Connecting to the caller|Could not connect to the caller|Microphone unavailable/.test(document.getElementById('voice-status').textContent)`, 5*time.Second)
	if tr := js(agent, `document.getElementById('transfer').textContent`); !strings.Contains(tr, "bridge") {
		t.Errorf("transfer info = %q, want the bridge mode", tr)
	}
	shot(agent, "4-voice")

	row := fmt.Sprintf(`document.querySelector('#live tr[data-handoff-id=%q]')`, voice.HandoffID)
	until(supervisor, "supervisor sees the voice handoff", row+` && `+row+`.querySelector('[data-field=agent]').textContent === 'anna'`, 5*time.Second)
	step(supervisor, "open reassign", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#live tr[data-handoff-id=%q] button.reassign`, voice.HandoffID))))
	step(supervisor, "reassign to general", choose("reassign-queue", "general"), chromedp.Click(chromedp.ID("reassign-submit")))
	shot(supervisor, "5-supervisor")
	until(agent, "agent told", `document.getElementById('flash').textContent.includes('reassigned')`, 5*time.Second)
	// anna is the only ready agent, so the general queue offers it to her.
	until(agent, "offered again", offerShown(voice.HandoffID)+` && document.getElementById('offer-card').textContent.includes('general')`, 5*time.Second)
	var hv struct {
		Queue, State, Agent string
	}
	super.do("GET", "/handoffs/"+voice.HandoffID, nil, &hv)
	if hv.Queue != "general" {
		t.Errorf("after reassign the handoff is in %q, want general", hv.Queue)
	}
	step(agent, "accept again", chromedp.Click(chromedp.ID("btn-accept")))
	until(agent, "voice again", `!document.getElementById('work').hidden`, 5*time.Second)

	// The feed drops: the desk says so, reconnects by itself within the
	// grace and the conversation is still the agent's.
	step(agent, "drop the feed", chromedp.Evaluate[chromedp.Void](`state.ws.close()`))
	until(agent, "shows the drop", `document.getElementById('conn').textContent.includes('reconnecting')`, 2*time.Second)
	until(agent, "reconnected", `document.getElementById('conn').dataset.state === 'ok'`, 5*time.Second)
	until(agent, "still holds it", fmt.Sprintf(`!document.getElementById('work').hidden && document.querySelector('#work-card [data-handoff-id=%q]')`, voice.HandoffID), 2*time.Second)
	hv = struct{ Queue, State, Agent string }{}
	super.do("GET", "/handoffs/"+voice.HandoffID, nil, &hv)
	if hv.State != "accepted" || hv.Agent != "anna" {
		t.Errorf("after a quick reconnect the handoff is %+v, want accepted by anna", hv)
	}

	// The agent closes the page mid-conversation: after the grace the
	// handoff is back at the front of its queue.
	closeAgent()
	start := time.Now()
	for {
		hv = struct{ Queue, State, Agent string }{} // agent is omitted when empty
		super.do("GET", "/handoffs/"+voice.HandoffID, nil, &hv)
		if hv.State == "queued" && hv.Agent == "" {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("handoff not back in the queue after the agent left: %+v", hv)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("handoff back in the queue %v after the agent closed the page (grace 2s)", time.Since(start).Round(time.Millisecond))
	until(supervisor, "supervisor sees it queued", row+` && `+row+`.querySelector('[data-field=state]').textContent === 'queued'`, 5*time.Second)
	until(supervisor, "supervisor sees anna offline", `document.querySelector('#agents [data-agent="anna"] .state-offline')`, 5*time.Second)
}
