package chat_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotline-ivr/hotline/internal/browsertest"
)

// TestWidgetInChromium talks to the bot through the embedded widget in
// headless Chromium, the way the knowledge editor's end-to-end test drives
// its page (chromedp): the greeting, a language choice by quick-reply
// button, a question typed and answered, markup shown as text, a switch
// to English with the language button, and a handoff to an operator.
//
// Set HOTLINE_E2E_SCREENSHOTS=DIR to keep screenshots.
func TestWidgetInChromium(t *testing.T) {
	browser := browsertest.Start(t, browsertest.WithWindowSize(900, 1000)) // skips under -short or without Chromium
	e := newEnv(t, inHours)
	bctx, cancelTimeout := context.WithTimeout(browser.Context(), 2*time.Minute)
	defer cancelTimeout()
	page := browsertest.Steps{T: t, Ctx: bctx, Prefix: "chat-", Diag: func() string { return "log: " + logText(bctx) }}
	step, until, js, shot := page.Step, page.Until, page.JS, page.Shot

	// botSaid waits for a bot message containing text.
	botSaid := func(name, text string) {
		t.Helper()
		until(name, fmt.Sprintf(`[...document.querySelectorAll("#log li.bot .text")].some(el => el.textContent.includes(%q))`, text))
	}
	// ready waits until the bot has finished its turn.
	ready := func(name string) {
		t.Helper()
		until(name, `document.getElementById("status").textContent === "В сети" || document.getElementById("status").textContent === "Online"`)
	}
	typeText := func(text string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("input"), text)); err != nil {
				return chromedp.Void{}, err
			}
			return chromedp.Click(chromedp.ID("send"))(ctx, tg)
		}
	}

	step("open", chromedp.Navigate(e.srv.URL+"/chat/"), chromedp.WaitVisible(chromedp.ID("input")))
	botSaid("greeting", "Разговор записывается")
	ready("greeting done")
	shot("0-greeting")
	if js(`document.getElementById("log").getAttribute("role")`) != "log" ||
		js(`document.querySelector("label[for=input]").textContent`) == "" {
		t.Fatal("the message log or the input label is missing")
	}

	step("choose Russian", chromedp.Click(chromedp.ID("quick-1")))
	botSaid("russian", "Чем могу помочь?")
	ready("russian done")

	step("ask", typeText("Когда работают операторы?"))
	botSaid("answer", "Это помогло?")
	ready("answer done")
	shot("1-answer")

	// Markup typed by the user (or coming back in a reply) stays text.
	const evil = `<img src=x onerror="window.__xss=1">`
	step("markup", typeText(evil))
	until("markup shown", fmt.Sprintf(`[...document.querySelectorAll("#log li.me .text")].some(el => el.textContent === %q)`, evil))
	botSaid("markup answered", "Не удалось разобрать")
	ready("markup done")
	if js(`String(window.__xss)`) != "undefined" || js(`String(document.querySelectorAll("#log img").length)`) != "0" {
		t.Fatal("markup in a message was run as HTML")
	}

	step("switch to English", chromedp.Click(chromedp.ID("lang-en")))
	botSaid("english", "Switching to English")
	ready("english done")
	if js(`document.documentElement.lang`) != "en" || js(`document.getElementById("send").textContent`) != "Send" {
		t.Fatal("the widget did not switch its own labels to English")
	}

	step("operator", typeText("I want to talk to an operator"))
	botSaid("handoff", "Connecting you to an operator")
	until("handoff card", `[...document.querySelectorAll("#log li.system")].some(el => /Appeal number: \d{3} \d{3} \d{3} \d/.test(el.textContent))`)
	shot("2-handoff")
	num := js(`[...document.querySelectorAll("#log li.system")].map(el => el.textContent).join(" ").match(/\d{3} \d{3} \d{3} \d/)[0].replace(/ /g, "")`)
	if _, err := e.appeals.Get(t.Context(), num); err != nil {
		t.Fatalf("the appeal number the widget shows (%s) is not in the database: %v", num, err)
	}
}

func logText(ctx context.Context) string {
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("log").innerText`))
	if err != nil {
		return err.Error()
	}
	return strings.ReplaceAll(v, "\n", " | ")
}
