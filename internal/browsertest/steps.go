package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Steps drives one page of a browser test. A failing step or wait takes a
// screenshot (when HOTLINE_E2E_SCREENSHOTS names a folder) and stops the
// test, adding Diag's text, e.g. the page's own log.
type Steps struct {
	T      testing.TB
	Ctx    context.Context
	Prefix string        // screenshot file name prefix
	Diag   func() string // extra text for failures; may be nil
}

// Shot saves a screenshot named name when HOTLINE_E2E_SCREENSHOTS is set.
func (s Steps) Shot(name string) {
	dir := os.Getenv("HOTLINE_E2E_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(s.Ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, s.Prefix+name+".png"), png, 0o644)
	}
	if err != nil {
		s.T.Logf("screenshot %s: %v", name, err)
	}
}

func (s Steps) fail(name, format string, args ...any) {
	s.T.Helper()
	s.Shot("failed-" + name)
	if s.Diag != nil {
		format += "\n%s"
		args = append(args, s.Diag())
	}
	s.T.Fatalf(format, args...)
}

// Step runs actions on the page.
func (s Steps) Step(name string, actions ...chromedp.Action[chromedp.Void]) {
	s.T.Helper()
	if err := chromedp.Do(s.Ctx, actions...); err != nil {
		s.fail(name, "%s: %v", name, err)
	}
}

// Until waits up to 20 s for the JavaScript condition cond to hold. A
// page that navigates meanwhile (a login redirect) takes the polling
// script's execution context with it; polling starts again on the new
// page.
func (s Steps) Until(name, cond string) {
	s.T.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := chromedp.Run(s.Ctx, chromedp.Poll[bool]("!!("+cond+")", chromedp.WithPollingTimeout(time.Until(deadline))))
		if err == nil {
			return
		}
		if strings.Contains(err.Error(), "Cannot find context with specified id") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		s.fail(name, "%s: waiting for %s: %v", name, cond, err)
		return
	}
}

// JS evaluates expr on the page and returns its string value.
func (s Steps) JS(expr string) string {
	s.T.Helper()
	v, err := chromedp.Run(s.Ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		s.T.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}
