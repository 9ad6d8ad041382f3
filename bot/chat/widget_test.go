package chat_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findChromium returns the browser binary, or "" when none is installed.
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestWidgetInChromium talks to the bot through the embedded widget in
// headless Chromium, the way the knowledge editor's end-to-end test drives
// its page (chromedp): the greeting, a language choice by quick-reply
// button, a question typed and answered, markup shown as text, a switch
// to English with the language button, and a handoff to an operator.
//
// Set HOTLINE_E2E_SCREENSHOTS=DIR to keep screenshots.
func TestWidgetInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	browser := findChromium()
	if browser == "" {
		t.Skip("chromium is not installed (scripts/setup.sh installs the Debian package \"chromium\")")
	}
	e := newEnv(t, inHours)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(900, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	bctx, cancelTimeout := context.WithTimeout(bctx, 2*time.Minute)
	defer cancelTimeout()

	shotDir := os.Getenv("HOTLINE_E2E_SCREENSHOTS")
	shot := func(name string) {
		if shotDir == "" {
			return
		}
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(filepath.Join(shotDir, "chat-"+name+".png"), png, 0o644)
		}
		if err != nil {
			t.Logf("screenshot %s: %v", name, err)
		}
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			shot("failed-" + name)
			t.Fatalf("%s: %v", name, err)
		}
	}
	until := func(name, cond string) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Poll[bool]("!!("+cond+")", chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			shot("failed-" + name)
			t.Fatalf("%s: waiting for %s: %v\nlog: %s", name, cond, err, logText(bctx))
		}
	}
	js := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
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
