// Package browsertest starts headless Chromium for end-to-end tests of
// the web pages: the flags that keep it quiet and offline, a fresh
// profile per test, and separate profiles for tests with several users.
package browsertest

import (
	"context"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// FindChromium returns the browser binary, or "" when none is installed.
func FindChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser is one headless Chromium process owned by a test.
type Browser struct {
	ctx context.Context // the browser's first tab; children share the process
}

type options struct {
	width, height int
	flags         map[string]any
}

// Option configures Start.
type Option func(*options)

// WithWindowSize sets the window size (default 1400×1000).
func WithWindowSize(w, h int) Option { return func(o *options) { o.width, o.height = w, h } }

// WithFlag adds a Chromium command-line flag (name without the dashes;
// value true for a bare switch), e.g. the fake media devices of a call
// test: WithFlag("use-fake-device-for-media-stream", true).
func WithFlag(name string, value any) Option {
	return func(o *options) {
		if o.flags == nil {
			o.flags = map[string]any{}
		}
		o.flags[name] = value
	}
}

// Start launches Chromium for t and stops it when the test ends. It skips
// the test under -short and when no Chromium is installed.
func Start(t testing.TB, opts ...Option) *Browser {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	path := FindChromium()
	if path == "" {
		t.Skip("chromium is not installed (scripts/setup.sh installs the Debian package \"chromium\")")
	}
	o := options{width: 1400, height: 1000}
	for _, f := range opts {
		f(&o)
	}
	// DefaultExecAllocatorOptions already has headless, no-first-run,
	// disable-background-networking and disable-sync.
	flags := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(o.width, o.height),
	)
	for name, v := range o.flags {
		flags = append(flags, chromedp.Flag(name, v))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return &Browser{ctx: bctx}
}

// Context is the browser's first tab.
func (b *Browser) Context() context.Context { return b.ctx }

// NewProfile opens a tab in a fresh browser context: its own cookies and
// storage, as if another person used another computer. cancel closes the
// tab (a user closing the page); it also runs when the test ends.
func (b *Browser) NewProfile(t testing.TB) (ctx context.Context, cancel context.CancelFunc) {
	t.Helper()
	ctx, cancel = chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatalf("open a browser profile: %v", err)
	}
	return ctx, cancel
}
