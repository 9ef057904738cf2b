package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/sqlite"
)

// TestForwardReplay: --replay makes the destination's failed deliveries
// pending again (one, then all), prints how many as JSON, and exits.
func TestForwardReplay(t *testing.T) {
	root := t.TempDir()
	cfg := sqliteConfig("shop") + `destinations:
- name: hook
  type: webhook
  credentialsDir: /etc/trackstack/credentials
  webhook: {url: "http://127.0.0.1:9/hook"}
`
	writeFile(t, filepath.Join(root, "etc/trackstack/config/config.yaml"), cfg)
	ctx := context.Background()
	if err := os.MkdirAll(filepath.Join(root, "var/lib/trackstack"), 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(root, "var/lib/trackstack/events.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := st.OpenCursor(ctx, "shop", "hook", now.Add(-time.Hour), false); err != nil {
		t.Fatal(err)
	}
	var evs []event.Event
	for _, id := range []string{"a", "b"} {
		evs = append(evs, event.Event{Site: "shop", EventID: id, Type: event.TypeConversion, Name: "purchase", Source: event.SourceServer, Timestamp: now, ReceivedAt: now})
	}
	if _, err := st.Insert(ctx, evs); err != nil {
		t.Fatal(err)
	}
	fed, pos, err := st.Feed(ctx, "shop", "hook", 10)
	if err != nil {
		t.Fatal(err)
	}
	var recs []store.Delivery
	for _, e := range fed {
		recs = append(recs, store.Delivery{EventID: e.EventID, Status: store.DeliveryPending, SendAs: "conversion", ReceivedAt: e.ReceivedAt, Source: e.Source})
	}
	if _, err := st.Track(ctx, "shop", "hook", recs, pos); err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		recs[i].Status, recs[i].Reason, recs[i].Attempts = store.DeliveryFailed, "HTTP 400", 1
	}
	if err := st.Record(ctx, "shop", "hook", recs); err != nil {
		t.Fatal(err)
	}
	st.Close()

	args := []string{"forward", "--config", "/etc/trackstack/config/config.yaml", "--root", root, "--destination", "hook", "--replay"}
	code, out, errOut := runCmd(ctx, nil, append(args, "--event-id", "a")...)
	if code != exitOK || strings.TrimSpace(out) != `{"destination":"hook","replayed":1,"site":"shop"}` {
		t.Fatalf("replay of one: exit %d, stdout %q\n%s", code, out, errOut)
	}
	code, out, _ = runCmd(ctx, nil, args...)
	if code != exitOK || strings.TrimSpace(out) != `{"destination":"hook","replayed":1,"site":"shop"}` {
		t.Fatalf("replay of the rest: exit %d, stdout %q", code, out)
	}
	code, out, _ = runCmd(ctx, nil, args...)
	if code != exitOK || !strings.Contains(out, `"replayed":0`) {
		t.Fatalf("replay with nothing failed: exit %d, stdout %q", code, out)
	}
}
