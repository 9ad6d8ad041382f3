package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBridgeInChromium: a caller on the /call/ page (Chromium's fake
// microphone: a beep) presses 0; the agent's desk (another profile,
// logged in and ready, the same fake microphone) shows the voice offer,
// the agent accepts and the desk connects the audio; both pages play the
// other side's audio (the remote stream advances with a level above
// silence), the desk says connected and the call page says an operator
// has joined.
func TestBridgeInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	browser := mediaBrowser(t)
	const secret = "webhook-secret-0123456789"
	hookURL, _ := webhookReceiver(t, secret)
	dataDir := t.TempDir()
	cfgPath := deskConfig(t, hookURL, secret)
	addUser(t, cfgPath, dataDir, "anna", "agent")
	base, logs := startServe(t, "--config", cfgPath, "--data", dataDir)

	pages := pageSteps{t: t, logs: logs}
	until, step := pages.until, pages.step
	// playing reports how far the element's remote stream advanced in 3 s
	// and its peak level.
	playing := func(ctx context.Context, who, id string) {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](remoteAudioJS(id, 30), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s audio: %v", who, err)
		}
		var adv, peak float64
		if _, err := fmt.Sscan(got, &adv, &peak); err != nil || adv < 2 || peak <= 0.001 {
			t.Errorf("%s: remote audio advanced %v s, peak %v (%q): want live audio", who, adv, peak, got)
		}
		t.Logf("%s hears the other side: advanced %.2f s, peak %.4f", who, adv, peak)
	}

	agent, _ := browser.NewProfile(t)
	pages.logIn(agent, base, "anna")
	step(agent, "ready", chromedp.Click(chromedp.ID("btn-ready")))
	until(agent, "state ready", `document.getElementById('my-state').textContent === 'ready'`, 5*time.Second)

	caller, _ := browser.NewProfile(t)
	step(caller, "open the call page", chromedp.Navigate(base+"/call/"), chromedp.WaitVisible(chromedp.ID("start")))
	step(caller, "start the call", chromedp.Click(chromedp.ID("start")))
	until(caller, "the greeting", `document.querySelector('#transcript li.bot') && !document.getElementById('keypad').disabled`, 30*time.Second)
	step(caller, "press 0", chromedp.Click(chromedp.CSS(`#keypad button[data-digit="0"]`)))
	until(caller, "the wait is shown", `!document.getElementById('handoff').hidden`, 30*time.Second)

	until(agent, "voice offer", `!document.getElementById('offer').hidden && /voice/i.test(document.getElementById('offer-card').textContent)`, 20*time.Second)
	step(agent, "accept", chromedp.Click(chromedp.ID("btn-accept")))
	until(agent, "desk connected to the caller", `document.getElementById('voice-status').textContent === 'Connected to caller.'`, 30*time.Second)
	until(caller, "operator joined", `/An operator has joined the call/.test(document.getElementById('handoff-text').textContent)`, 10*time.Second)
	playing(agent, "agent", "voice-audio")
	playing(caller, "caller", "remote")

	step(caller, "caller hangs up", chromedp.Click(chromedp.ID("stop")))
	until(agent, "desk sees the call end", `/call has ended/.test(document.getElementById('voice-status').textContent)`, 30*time.Second)
}

// TestCallToChatInChromium: on the /call/ page the caller types a
// question, then presses "Switch to text chat": the call ends, the chat
// page opens with the call's turns as history (the token gone from the
// address) and the bot goes on there.
func TestCallToChatInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	browser := mediaBrowser(t)
	base, logs := startServe(t)
	ctx, _ := browser.NewProfile(t)
	pages := pageSteps{t: t, logs: logs}
	until := func(name, cond string, timeout time.Duration) {
		t.Helper()
		pages.until(ctx, name, cond, timeout)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/call/"), chromedp.WaitVisible(chromedp.ID("start")),
		chromedp.Click(chromedp.ID("start"))); err != nil {
		t.Fatal(err)
	}
	until("the greeting", `document.querySelector('#transcript li.bot') && !document.getElementById('to-chat').disabled`, 30*time.Second)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("text"), "What are the operator hours?"),
		chromedp.Click(chromedp.ID("send"))); err != nil {
		t.Fatal(err)
	}
	until("the typed turn", `[...document.querySelectorAll('#transcript li.bot')].length >= 2`, 30*time.Second)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("to-chat"))); err != nil {
		t.Fatal(err)
	}
	until("the chat with the call's history", `location.pathname === '/chat/' && !location.search.includes('resume') &&
		[...document.querySelectorAll('#log li.history')].some(li => li.textContent.includes('What are the operator hours?')) &&
		document.querySelectorAll('#log li.bot').length > 0`, 30*time.Second)
	got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('log').innerText`))
	t.Logf("chat:\n%s", got)
}
