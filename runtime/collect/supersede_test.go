package collect

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/ingest"
)

// TestServerEventIsNeverBlockedByABrowserEvent: an anonymous browser batch
// that uses an event_id first does not turn the site's authenticated server
// event into a duplicate; the server's value and matching data are stored,
// with the browser's attribution kept.
func TestServerEventIsNeverBlockedByABrowserEvent(t *testing.T) {
	st := openSQLite(t)
	c, err := New(Options{Store: st, Sites: []ingest.Site{site("shop", "/_ts")}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv := httptest.NewServer(c)
	defer srv.Close()
	now := time.Now().UTC()
	post := func(path, body string, header map[string]string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, res.StatusCode, b)
		}
		return string(b)
	}

	browser := `{"site":"shop","events":[{"event_id":"order-1001","type":"conversion","name":"purchase","scripted":true,
		"ts":` + strconv.FormatInt(now.UnixMilli(), 10) + `,"url":"https://shop.example.com/thanks?utm_source=google&utm_medium=cpc&gclid=abc",
		"utm":{"source":"google","medium":"cpc"},"click_ids":{"gclid":"abc"}}]}`
	if got := post("/_ts/e", browser, map[string]string{
		"Origin": "https://shop.example.com", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
	}); !strings.Contains(got, `"accepted":1`) {
		t.Fatalf("browser batch: %s", got)
	}
	server := `{"site":"shop","events":[{"event_id":"order-1001","type":"conversion","name":"purchase",
		"timestamp":"` + now.Format(time.RFC3339) + `","value":99.5,"currency":"EUR","order_id":"1001",
		"user":{"email":"Buyer@Example.com"}}]}`
	if got := post("/v1/events", server, map[string]string{"Authorization": "Bearer key-shop"}); got != `{"accepted":1,"duplicates":0,"rejected":[]}` {
		t.Fatalf("server event after a browser event with its id: %s, want it accepted", got)
	}

	evs, err := st.Recent(context.Background(), "shop", 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("stored %d events (%v), want the one merged event", len(evs), err)
	}
	e := evs[0]
	if e.Source != event.SourceServer || e.Value == nil || *e.Value != 99.5 || e.User.EmailSHA256 == "" {
		t.Errorf("the server's fields were lost: %+v", e)
	}
	if e.ClickIDs["gclid"] != "abc" || e.UTM.Source != "google" || e.Channel == "" || e.VisitorID == "" {
		t.Errorf("the browser's attribution was lost: %+v", e)
	}
}
