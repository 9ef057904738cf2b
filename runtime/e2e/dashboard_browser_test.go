package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/trackstack/trackstack/runtime/internal/browsertest"
	"github.com/trackstack/trackstack/runtime/standalone"
)

// TestDashboardInBrowser signs into the standalone dashboard of make run's
// samples (with its month of demo traffic) in Chromium, opens every page,
// checks that the numbers a page shows are the API's, and saves a
// screenshot of each page (go test -artifacts keeps them).
func TestDashboardInBrowser(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	s, err := standalone.New(context.Background(), standalone.Options{
		Files: []string{"../../config/samples/standalone"}, DataDir: data, Listen: "127.0.0.1:0",
		Getenv: func(string) string { return "" }, DemoData: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("standalone server: %v", err)
		}
	}()
	pw, err := os.ReadFile(filepath.Join(data, "adminPassword"))
	if err != nil {
		t.Fatal(err)
	}
	password := strings.TrimSpace(string(pw))

	b := browsertest.Start(t)
	tab := b.Tab(t)
	base := s.URL() + "/sites/demo/"
	if err := chromedp.Do(tab.Ctx, chromedp.Navigate(base)); err != nil {
		t.Fatal(err)
	}
	// Not signed in: the login form, then the overview.
	if err := chromedp.Do(tab.Ctx,
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS(`[data-metric="visitors"]`)),
	); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	if banner := eval[string](t, tab, `document.querySelector(".demo") ? document.querySelector(".demo").textContent : ""`); !strings.Contains(banner, "Demo data") {
		t.Errorf("the demo site's dashboard does not say its data is generated: %q", banner)
	}

	var ov struct {
		Current map[string]float64 `json:"current"`
	}
	apiJSON(t, s.URL()+"/api/v1/sites/demo/overview", password, &ov)
	if ov.Current["visitors"] < 100 {
		t.Fatalf("the demo month has %v visitors", ov.Current["visitors"])
	}
	shown := eval[map[string]string](t, tab, `Object.fromEntries([...document.querySelectorAll("[data-metric]")].map(e => [e.dataset.metric, e.textContent]))`)
	for _, k := range []string{"visitors", "sessions", "pageviews", "conversions"} {
		if want := formatInt(ov.Current[k]); shown[k] != want {
			t.Errorf("overview shows %s = %q, the API says %s", k, shown[k], want)
		}
	}
	if got := eval[bool](t, tab, `!!document.querySelector("#chart canvas")`); !got {
		t.Errorf("the overview has no chart")
	}
	screenshot(t, tab, "overview")

	// On a phone: nothing wider than the screen but the tables' own
	// scrolling boxes, and every control reachable with the keyboard.
	if _, err := chromedp.Call(tab.Ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 390, Height: 844, DeviceScaleFactor: 2, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tab.Ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-metric="visitors"]`))); err != nil {
		t.Fatal(err)
	}
	if w := eval[int](t, tab, `document.documentElement.scrollWidth`) - 390; w > 0 {
		t.Errorf("on a 390 px phone the overview is %d px too wide", w)
	}
	screenshot(t, tab, "overview-phone")
	// Tab through the page with the keyboard: every link and form control
	// takes the focus in turn.
	want := eval[int](t, tab, `document.querySelectorAll("a[href], input:not([type=hidden]), button").length`)
	seen := map[string]bool{}
	for range 3 * want { // a date input takes a stop per field
		if err := chromedp.Do(tab.Ctx, chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
		seen[eval[string](t, tab, `(() => { const e = document.activeElement; return e.tagName + (e.getAttribute("href") || e.name || e.textContent); })()`)] = true
	}
	delete(seen, "BODY")
	if len(seen) < want {
		t.Errorf("the Tab key reaches %d of %d links and controls", len(seen), want)
	}
	if _, err := chromedp.Call(tab.Ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}

	// A pending erasure request, so the erasures page lists one.
	req, _ := http.NewRequest("POST", s.URL()+"/api/v1/sites/demo/erasures", strings.NewReader(`{"visitor_id": "nobody-at-all"}`))
	req.SetBasicAuth("admin", password)
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("requesting an erasure: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	for _, page := range []string{"pages", "sources", "channels", "campaigns", "devices", "goals", "realtime", "audit", "erasures", "destinations"} {
		// The report's table has the page's name as its id; a chart's
		// legend is a table too.
		if err := chromedp.Do(tab.Ctx, chromedp.Navigate(base+page), chromedp.WaitVisible(chromedp.ID(page))); err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		cells := eval[[][]string](t, tab, `[...document.getElementById("`+page+`").tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent))`)
		csv := apiText(t, s.URL()+"/api/v1/sites/demo/"+page+"?format=csv", password)
		lines := strings.Split(strings.TrimSpace(csv), "\n")[1:]
		if page != "realtime" && len(cells) != len(lines) {
			t.Errorf("%s shows %d rows, the API has %d", page, len(cells), len(lines))
		}
		for i := 0; i < len(cells) && i < len(lines) && page != "realtime"; i++ {
			if got := strings.Join(cells[i], ","); got != lines[i] && `"`+cells[i][0]+`"`+got[len(cells[i][0]):] != lines[i] {
				t.Errorf("%s row %d shows %s, the API says %s", page, i, got, lines[i])
			}
		}
		screenshot(t, tab, page)
	}
	// uPlot drew each destination's per-day chart.
	if n := eval[int](t, tab, `document.querySelectorAll("div.chart canvas").length`); n == 0 {
		t.Error("the destinations page drew no delivery chart")
	}
	checkAttributionPage(t, tab, base, s.URL()+"/api/v1/sites/demo", password)
	checkJourneyPage(t, tab, base, s.URL()+"/api/v1/sites/demo", password)
}

// checkJourneyPage looks up the newest visitor's journey on the page and
// compares its rows with the API's CSV.
func checkJourneyPage(t *testing.T, tab *browsertest.Tab, base, api, password string) {
	t.Helper()
	var recent []struct {
		VisitorID string `json:"visitor_id"`
	}
	apiJSON(t, api+"/events?limit=1", password, &recent)
	if len(recent) == 0 || recent[0].VisitorID == "" {
		t.Fatalf("no recent visitor: %+v", recent)
	}
	visitor := recent[0].VisitorID
	if err := chromedp.Do(tab.Ctx, chromedp.Navigate(base+"journeys"), chromedp.WaitVisible(chromedp.CSS(`input[name="visitor_id"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="visitor_id"]`), visitor), chromedp.Submit(chromedp.CSS(`input[name="visitor_id"]`)),
	); err != nil {
		t.Fatal(err)
	}
	// The page shows an empty journeys table before the search too: wait
	// for the answer's page (evaluating fails while it loads).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		loaded, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[bool](`location.search.includes("visitor_id=") && document.readyState === "complete" && !!document.getElementById("journeys")`))
		if err == nil && loaded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the journey search never loaded: %v", err)
		}
	}
	cells := eval[[][]string](t, tab, `[...document.getElementById("journeys").tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent))`)
	lines := strings.Split(strings.TrimSpace(apiText(t, api+"/journeys?format=csv&visitor_id="+visitor, password)), "\n")[1:]
	if len(lines) == 0 || len(cells) != len(lines) {
		t.Fatalf("the journey of %s shows %d rows, the API has %d", visitor, len(cells), len(lines))
	}
	for i := range lines {
		if got := strings.Join(cells[i], ","); got != lines[i] {
			t.Errorf("journey row %d shows %s, the API says %s", i, got, lines[i])
		}
	}
	screenshot(t, tab, "journeys")
}

// checkAttributionPage compares the attribution page's last_non_direct
// column with the API's report for that model.
func checkAttributionPage(t *testing.T, tab *browsertest.Tab, base, api, password string) {
	t.Helper()
	if err := chromedp.Do(tab.Ctx, chromedp.Navigate(base+"attribution"), chromedp.WaitVisible(chromedp.ID("attribution-conversions"))); err != nil {
		t.Fatal(err)
	}
	shown := eval[map[string]string](t, tab, `(() => {
		const t = document.getElementById("attribution-conversions");
		const col = [...t.tHead.rows[0].cells].findIndex(c => c.textContent === "last_non_direct");
		return Object.fromEntries([...t.tBodies[0].rows].map(r => [r.cells[0].textContent, r.cells[col].textContent]));
	})()`)
	var rep struct {
		Credits []struct {
			Key         string  `json:"key"`
			Conversions float64 `json:"conversions"`
		} `json:"credits"`
	}
	apiJSON(t, api+"/attribution?model=last_non_direct", password, &rep)
	if len(rep.Credits) == 0 {
		t.Fatal("the demo month has no attributed conversions")
	}
	for _, c := range rep.Credits {
		if want := strconv.FormatFloat(c.Conversions, 'f', -1, 64); shown[c.Key] != want {
			t.Errorf("attribution page shows %s = %q under last_non_direct, the API says %s", c.Key, shown[c.Key], want)
		}
	}
	screenshot(t, tab, "attribution")
}

func apiText(t *testing.T, url, password string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.SetBasicAuth("admin", password)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("%s: %d %s", url, res.StatusCode, b)
	}
	return string(b)
}

func apiJSON(t *testing.T, url, password string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(apiText(t, url, password)), v); err != nil {
		t.Fatal(err)
	}
}

// formatInt writes a count from the API's JSON as the page shows it.
func formatInt(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// The page and the API were once compared through a helper that trimmed
// trailing zeros off whole numbers, so a day with 290 conversions failed.
func TestFormatInt(t *testing.T) {
	for f, want := range map[float64]string{0: "0", 29: "29", 290: "290", 1000: "1000", 12345: "12345"} {
		if got := formatInt(f); got != want {
			t.Errorf("formatInt(%v) = %q, want %q", f, got, want)
		}
	}
}

// screenshot saves the tab as <name>.png in the test's artifact directory.
func screenshot(t *testing.T, tab *browsertest.Tab, name string) {
	t.Helper()
	png, err := chromedp.Run(tab.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot of %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
