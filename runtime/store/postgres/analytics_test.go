package postgres_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// TestBreakdownOrdersByBytes: a database created with a language's
// collation orders "iOS" after "Linux" and before "iPadOS"; Breakdown must
// order tied values by bytes as SQLite does, whatever the collation. The
// test server is initialized with the C locale, so the column gets an
// English ICU collation here.
func TestBreakdownOrdersByBytes(t *testing.T) {
	ctx := context.Background()
	dsn := pg.NewDatabase(t)
	s := openDSN(t, dsn)
	defer s.Close()
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, `ALTER TABLE events ALTER COLUMN device_os TYPE text COLLATE "en-x-icu"`); err != nil {
		t.Fatalf("giving device_os an English collation: %v", err)
	}
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	var events []event.Event
	for _, os := range []string{"iPadOS", "Linux", "iOS", "Android"} {
		events = append(events, event.Event{Site: "shop", EventID: os, Type: event.TypePageview, Name: "pageview",
			Source: event.SourceBrowser, Timestamp: at, ReceivedAt: at, VisitorID: os, Device: event.Device{OS: os}})
	}
	if _, err := s.Insert(ctx, events); err != nil {
		t.Fatal(err)
	}
	got, err := s.Breakdown(ctx, store.Query{Site: "shop", From: at, To: at.Add(time.Hour)}, store.DimOS, 10)
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, r := range got {
		values = append(values, r.Value)
	}
	if want := []string{"Android", "Linux", "iOS", "iPadOS"}; !reflect.DeepEqual(values, want) {
		t.Errorf("Breakdown by os = %v, want %v", values, want)
	}
}
