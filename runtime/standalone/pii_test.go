package standalone

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/forward/meta/metafake"
	"github.com/trackstack/trackstack/runtime/retention"
	"github.com/trackstack/trackstack/runtime/store/sqlite"
)

// The personal data the test sends in the clear; none of it may be
// stored as sent.
var clearPII = []string{"jo.e.smith", "Jo.E.Smith", "gmail.com", "Gmail.com", "6505551212", "650) 555-1212", "198.51.100.7", "198.51.100.8", "Smithson"}

// TestNoPersonalDataAtRest runs the stack as a site would (server events
// with an email, a phone, a name and the visitor's IP, forwarded to Meta
// with the IP sealed), then scans every column of every table of the
// database: no raw email, phone, name or full IP anywhere. The sealed IP
// is gone once Meta has the event, and for an event not yet delivered,
// once retention's anonymizeIPAfterDays has passed.
func TestNoPersonalDataAtRest(t *testing.T) {
	fake := metafake.New("1234567890", "standalone-test-token")
	srv := httptest.NewServer(fake)
	defer srv.Close()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	post := func(s *Server, id, ip string) {
		body := fmt.Sprintf(`{"site": "shop", "events": [{"event_id": %q, "type": "conversion", "name": "purchase", "timestamp": %q,
		  "value": 10, "currency": "EUR", "url": "https://shop.example.com/done", "user_id": "customer-17",
		  "user": {"email": " Jo.E.Smith+promo@Gmail.com ", "phone": "+1 (650) 555-1212", "first_name": "Jo", "last_name": "Smithson",
		           "ip": %q, "user_agent": "Mozilla/5.0 test"}}]}`, id, time.Now().UTC().Format(time.RFC3339), ip)
		auth := map[string]string{"Authorization": "Bearer " + string(s.Keys().Sites["shop"].Ingest)}
		if code, resp := do(t, "POST", s.URL()+"/v1/events", body, auth); code != 200 {
			t.Fatalf("posting %s: %d %s", id, code, resp)
		}
	}
	run := func(paused bool, id, ip string, wait int) {
		s := startForwarding(t, forwardFiles(t, dir, srv.URL, paused), data)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		post(s, id, ip)
		if wait > 0 {
			waitEvents(t, fake, wait)
			waitSealedGone(t, data, id)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	run(false, "delivered", "198.51.100.7", 1)
	run(true, "undelivered", "198.51.100.8", 0)

	if sealed := sealedIPs(t, data); len(sealed) != 1 || sealed["undelivered"] == 0 {
		t.Errorf("sealed IPs %v: want only the undelivered event's", sealed)
	}
	scanForPII(t, data)

	// Retention after anonymizeIPAfterDays drops the undelivered event's
	// sealed IP too.
	days := int32(7)
	st := openData(t, data)
	rt := &config.Runtime{Site: config.Site{Name: "shop"}}
	policy := config.Retention{Name: "p", MaxAgeDays: 30, AnonymizeIPAfterDays: &days}
	if _, err := retention.Run(context.Background(), retention.Options{Store: st, Site: rt, Policy: policy, Now: time.Now().AddDate(0, 0, 8)}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if sealed := sealedIPs(t, data); len(sealed) != 0 {
		t.Errorf("sealed IPs after anonymizeIPAfterDays: %v, want none", sealed)
	}
	scanForPII(t, data)
}

// waitSealedGone waits until the event's sealed IP is dropped (the
// forwarder drops it after recording the delivery).
func waitSealedGone(t *testing.T, data, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for sealedIPs(t, data)[id] != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the sealed IP of %s was kept after delivery", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func rawDB(t *testing.T, data string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, databaseFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// sealedIPs returns the length of each event's sealed IP.
func sealedIPs(t *testing.T, data string) map[string]int {
	t.Helper()
	db := rawDB(t, data)
	defer db.Close()
	rows, err := db.Query(`SELECT event_id, length(ip_sealed) FROM events WHERE ip_sealed IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	return out
}

// scanForPII reads every value of every table and fails on any clear
// personal data.
func scanForPII(t *testing.T, data string) {
	t.Helper()
	db := rawDB(t, data)
	defer db.Close()
	tables := queryStrings(t, db, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if len(tables) < 5 {
		t.Fatalf("found only tables %v", tables)
	}
	cells := 0
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				cells++
				var b []byte
				switch v := v.(type) {
				case []byte:
					b = v
				case string:
					b = []byte(v)
				default:
					b = []byte(fmt.Sprint(v))
				}
				for _, pii := range clearPII {
					if bytes.Contains(b, []byte(pii)) {
						t.Errorf("table %s, column %s holds %q in the clear: %.120q", table, cols[i], pii, b)
					}
				}
			}
		}
		rows.Close()
	}
	if cells < 100 {
		t.Errorf("scanned only %d values", cells)
	}
	if ips := strings.Join(queryStrings(t, db, `SELECT coalesce(ip, '') FROM events`), ","); ips != "198.51.100.0,198.51.100.0" {
		t.Errorf("stored IPs %q, want both truncated", ips)
	}
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// openData opens the data directory's store, as retention does.
func openData(t *testing.T, data string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(data, databaseFile))
	if err != nil {
		t.Fatal(err)
	}
	return st
}
