package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotline-ivr/hotline/internal/browsertest"
)

// mediaBrowser starts Chromium with a fake microphone (a beep, or what
// the extra flags give it), no permission prompt and autoplay allowed.
func mediaBrowser(t *testing.T, extra ...browsertest.Option) *browsertest.Browser {
	return browsertest.Start(t, append([]browsertest.Option{
		browsertest.WithFlag("use-fake-ui-for-media-stream", true),
		browsertest.WithFlag("use-fake-device-for-media-stream", true),
		browsertest.WithFlag("autoplay-policy", "no-user-gesture-required")}, extra...)...)
}

// pageSteps drives Chromium pages in the browser tests of `hotline
// serve`: a step is chromedp actions within 20 s, a wait polls a page
// condition. A failure stops the test with the page's address and text
// and the server's log.
type pageSteps struct {
	t        *testing.T
	logs     *syncBuffer
	interval time.Duration                          // polling interval; 50 ms when 0
	onFail   func(ctx context.Context, name string) // e.g. a screenshot; may be nil
}

func (p pageSteps) fail(ctx context.Context, name, format string, args ...any) {
	p.t.Helper()
	if p.onFail != nil {
		p.onFail(ctx, "failed-"+name)
	}
	page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + '\n' + document.body.innerText`))
	p.t.Fatalf(format+"\npage:\n%s\nserver log:\n%s", append(args, page, p.logs)...)
}

// step runs actions on the page within 20 s.
func (p pageSteps) step(ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		p.fail(ctx, name, "%s: %v", name, err)
	}
}

// until waits for the JavaScript condition cond to hold on the page.
func (p pageSteps) until(ctx context.Context, name, cond string, timeout time.Duration) {
	p.t.Helper()
	interval := p.interval
	if interval == 0 {
		interval = 50 * time.Millisecond
	}
	end := time.Now().Add(timeout)
	var err error
	for {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool]("!!("+cond+")",
			chromedp.WithPollingTimeout(time.Until(end)), chromedp.WithPollingInterval(interval)))
		// A page that navigates (after the login) ends the poll: poll the new page.
		if err == nil || !strings.Contains(err.Error(), "navigated") || time.Now().After(end) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.fail(ctx, name, "%s: waiting for %s: %v", name, cond, err)
	}
}

// logIn opens the desk at base as user: an anonymous visitor is sent to
// the login page, logs in and is back on the desk, connected.
func (p pageSteps) logIn(ctx context.Context, base, user string) {
	p.t.Helper()
	p.step(ctx, user+" opens the desk", chromedp.Navigate(base+"/desk/"), chromedp.WaitVisible(chromedp.ID("login-user")))
	p.until(ctx, user+" on the login page", `location.pathname + location.search === '/login?next=%2Fdesk%2F'`, 5*time.Second)
	p.step(ctx, user+" logs in",
		chromedp.SendKeys(chromedp.ID("login-user"), user),
		chromedp.SendKeys(chromedp.ID("login-pass"), deskPassword),
		chromedp.Click(chromedp.ID("login-submit")))
	p.until(ctx, user+" back on the desk", `location.pathname === '/desk/' && document.getElementById('who').textContent === '`+user+`'`, 10*time.Second)
	p.until(ctx, user+" connected", `document.getElementById('conn').dataset.state === 'ok'`, 10*time.Second)
}

// remoteAudioJS is a script that listens to the remote stream of the
// audio element id for tenths × 100 ms and resolves to how far the
// element advanced (s) and the stream's peak level, as "0.00 0.0000".
func remoteAudioJS(id string, tenths int) string {
	return fmt.Sprintf(`(async () => {
		const a = document.getElementById(%q);
		const t0 = a.currentTime;
		const ctx = new AudioContext();
		const an = ctx.createAnalyser();
		ctx.createMediaStreamSource(a.srcObject).connect(an);
		const buf = new Float32Array(an.fftSize);
		let peak = 0;
		for (let i = 0; i < %d; i++) {
			await new Promise(r => setTimeout(r, 100));
			an.getFloatTimeDomainData(buf);
			for (const v of buf) peak = Math.max(peak, Math.abs(v));
		}
		ctx.close();
		return (a.currentTime - t0).toFixed(2) + ' ' + peak.toFixed(4);
	})()`, id, tenths)
}
