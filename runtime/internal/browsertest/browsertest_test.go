package browsertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestBrowserRunsPages(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<!doctype html><title>hello</title><script>console.error("boom"); null.x</script>`) //nolint:errcheck // test server
	}))
	defer srv.Close()

	b := Start(t)
	tab := b.Tab(t)
	if err := chromedp.Do(tab.Ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(tab.Ctx, chromedp.Title())
	if err != nil || title != "hello" {
		t.Fatalf("title %q, %v", title, err)
	}
	n, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[int](`1 + 2`))
	if err != nil || n != 3 {
		t.Fatalf("evaluate: %d, %v", n, err)
	}
	logs := strings.Join(tab.Logs(), "\n")
	if !strings.Contains(logs, "boom") || !strings.Contains(logs, "exception") {
		t.Errorf("logs %q lack the page's console error and exception", logs)
	}

	// A second tab has its own sessionStorage.
	if err := chromedp.Do(tab.Ctx, chromedp.Evaluate[chromedp.Void](`sessionStorage.k = "v"; undefined`)); err != nil {
		t.Fatal(err)
	}
	other := b.Tab(t)
	if err := chromedp.Do(other.Ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	if v, err := chromedp.Run(other.Ctx, chromedp.Evaluate[string](`String(sessionStorage.k)`)); err != nil || v != "undefined" {
		t.Errorf("second tab sees sessionStorage %q, %v", v, err)
	}
}
