// Package browsertest starts Debian's Chromium for tests that need a real
// browser, driven through the DevTools protocol with chromedp.
//
// Chromium comes from the distribution (apt-get install chromium, which
// hack/install-test-deps.sh runs); nothing is downloaded. Without it a test
// fails, whoever runs it, so a machine that lost the package cannot pass
// silently; only go test -short skips browser tests, on purpose.
package browsertest

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ExecPath is where Debian's chromium package installs the browser.
const ExecPath = "/usr/bin/chromium"

// Browser is one headless Chromium process with a fresh profile.
type Browser struct {
	t   testing.TB
	ctx context.Context // the browser's first tab; Tab opens more
}

// SkipReason is why a browser test skips under go test -short
// (`make test SHORT=1`), the one case in which it does not run.
const SkipReason = "needs Chromium: left out by go test -short; make test runs it"

// Start launches Chromium for t and stops it when t ends.
func Start(t testing.TB) *Browser {
	t.Helper()
	requireChromium(t, ExecPath)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ExecPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Tests never reach the internet: every host but the loopback test
		// servers fails to resolve (pages may still try, e.g. pixel scripts).
		// localhost stays, so a test can serve a page on a second origin
		// (127.0.0.1 and localhost are different sites to the browser).
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", ExecPath, err)
	}
	return &Browser{t: t, ctx: ctx}
}

// requireChromium fails t, saying how to install it, when there is no
// executable Chromium at path; under go test -short it skips t instead.
func requireChromium(t testing.TB, path string) {
	t.Helper()
	if testing.Short() {
		t.Skip(SkipReason)
	}
	if _, err := exec.LookPath(path); err != nil {
		t.Fatalf("browser tests need Debian's Chromium at %s: install it with `sudo hack/install-test-deps.sh` "+
			"from the repository root (apt-get install chromium chromium-driver), or run `make test` as root (%v)", path, err)
	}
}

// Tab is one browser tab (with its own sessionStorage) and what its pages
// logged.
type Tab struct {
	// Ctx runs chromedp actions in the tab.
	Ctx context.Context

	mu   sync.Mutex
	logs []string
}

// Tab opens a new tab, closed when the test ends. Uncaught exceptions and
// console errors of its pages are kept for Logs.
func (b *Browser) Tab(t testing.TB) *Tab {
	t.Helper()
	tab := &Tab{}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithListener(tab.listen))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	tab.Ctx = ctx
	return tab
}

func (tab *Tab) listen(ev any) {
	var line string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		line = "exception: " + d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			line += " " + d.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeWarning {
			return
		}
		var args []string
		for _, a := range ev.Args {
			if a.Value != nil {
				args = append(args, string(a.Value))
			} else {
				args = append(args, a.Description)
			}
		}
		line = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
	default:
		return
	}
	tab.mu.Lock()
	tab.logs = append(tab.logs, line)
	tab.mu.Unlock()
}

// Logs returns the exceptions and console errors and warnings seen so far.
func (tab *Tab) Logs() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.logs...)
}
