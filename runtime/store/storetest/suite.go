package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// Marker is implemented by stores that report which events of a call were
// new (the batch writer needs it to count per caller).
type Marker interface {
	InsertMarked(ctx context.Context, events []event.Event, inserted []bool) (int, error)
}

// Run runs the conformance suite. open returns a fresh, empty, migrated
// store for one subtest; the suite closes it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	// A fixed base with sub-microsecond digits checks that both stores keep
	// times at the same (microsecond) precision.
	now := time.Now().UTC().Truncate(time.Second).Add(123456789 * time.Nanosecond)
	fresh := func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	ctx := context.Background()

	t.Run("RoundTripEveryField", func(t *testing.T) {
		s := fresh(t)
		zero := 0.0
		full := Full("shop", "full-1", now)
		minimal := event.Event{Site: "shop", EventID: "min-1", Type: event.TypePageview, Source: event.SourceBrowser,
			Timestamp: now, ReceivedAt: now.Add(time.Microsecond)}
		zeroValue := Full("shop", "zero-1", now.Add(2*time.Microsecond))
		zeroValue.Value = &zero
		zeroValue.Properties = json.RawMessage(`[1, "zwei", {"drei": 3.5}]`)
		in := []event.Event{full, minimal, zeroValue}
		mustInsert(t, s, in, 3)

		got := mustRecent(t, s, "shop", 10)
		want := []event.Event{zeroValue, minimal, full}
		if len(got) != len(want) {
			t.Fatalf("Recent returned %d events, want %d", len(got), len(want))
		}
		for i := range want {
			assertSame(t, got[i], want[i])
		}
		if got[1].Value != nil {
			t.Errorf("nil Value came back as %v", *got[1].Value)
		}
		if got[0].Value == nil || *got[0].Value != 0 {
			t.Errorf("Value 0 came back as %v, want a pointer to 0", got[0].Value)
		}
	})

	t.Run("DedupAcrossBatches", func(t *testing.T) {
		s := fresh(t)
		mustInsert(t, s, []event.Event{Full("shop", "a", now), Full("shop", "b", now)}, 2)
		// A retried batch, one new event, and the same id on another day.
		retry := Full("shop", "a", now.Add(30*time.Hour))
		mustInsert(t, s, []event.Event{retry, Full("shop", "b", now), Full("shop", "c", now)}, 1)
		// The same event id on another site is another event.
		mustInsert(t, s, []event.Event{Full("other", "a", now)}, 1)
		assertIDs(t, mustRecent(t, s, "shop", 10), "c", "b", "a")
		assertIDs(t, mustRecent(t, s, "other", 10), "a")
	})

	t.Run("DedupWithinBatch", func(t *testing.T) {
		s := fresh(t)
		first := Full("shop", "x", now)
		second := Full("shop", "x", now)
		second.Name = "second copy"
		mustInsert(t, s, []event.Event{first, second, Full("shop", "y", now)}, 2)
		got := mustRecent(t, s, "shop", 10)
		assertIDs(t, got, "y", "x")
		if got[1].Name != first.Name {
			t.Errorf("stored copy has name %q, want the first one's %q", got[1].Name, first.Name)
		}
	})

	t.Run("InsertMarked", func(t *testing.T) {
		s := fresh(t)
		m, ok := s.(Marker)
		if !ok {
			t.Fatalf("%T does not implement InsertMarked", s)
		}
		mustInsert(t, s, []event.Event{Full("shop", "old", now)}, 1)
		in := []event.Event{Full("shop", "new", now), Full("shop", "old", now), Full("shop", "new", now), Full("shop", "new2", now)}
		marks := make([]bool, len(in))
		n, err := m.InsertMarked(ctx, in, marks)
		if err != nil {
			t.Fatal(err)
		}
		if want := []bool{true, false, false, true}; n != 2 || !reflect.DeepEqual(marks, want) {
			t.Errorf("InsertMarked = %d, %v; want 2, %v", n, marks, want)
		}
	})

	runSupersede(t, fresh, now)
	runExport(t, fresh, now)

	t.Run("RecentOrderAndLimit", func(t *testing.T) {
		s := fresh(t)
		// Out of order across two batches; ties on received_at keep
		// insertion order (later first).
		mustInsert(t, s, []event.Event{
			Full("shop", "t2", now.Add(2*time.Second)),
			Full("shop", "t0", now),
			Full("shop", "t3a", now.Add(3*time.Second)),
			Full("shop", "t3b", now.Add(3*time.Second)),
		}, 4)
		mustInsert(t, s, []event.Event{Full("shop", "t1", now.Add(time.Second)), Full("other", "o", now.Add(time.Hour))}, 2)
		tests := []struct {
			limit int
			want  []string
		}{
			{10, []string{"t3b", "t3a", "t2", "t1", "t0"}},
			{2, []string{"t3b", "t3a"}},
			{1, []string{"t3b"}},
			{0, nil},
			{-1, nil},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprint("limit=", tt.limit), func(t *testing.T) {
				assertIDs(t, mustRecent(t, s, "shop", tt.limit), tt.want...)
			})
		}
		assertIDs(t, mustRecent(t, s, "nobody", 10))
	})

	t.Run("OldAndFutureDays", func(t *testing.T) {
		s := fresh(t)
		// The collector accepts events up to 72 h old and 5 min ahead; a
		// clock skewed by days must still be storable.
		days := []time.Duration{-72 * time.Hour, -49 * time.Hour, -24 * time.Hour, 0, 26 * time.Hour, 50 * time.Hour, 9 * 24 * time.Hour}
		var in []event.Event
		for i, d := range days {
			in = append(in, Full("shop", fmt.Sprint("d", i), now.Add(d)))
		}
		mustInsert(t, s, in, len(in))
		assertIDs(t, mustRecent(t, s, "shop", 10), "d6", "d5", "d4", "d3", "d2", "d1", "d0")
		// Dedup holds across days.
		mustInsert(t, s, []event.Event{Full("shop", "d0", now)}, 0)
	})

	t.Run("Normalization", func(t *testing.T) {
		s := fresh(t)
		e := Full("shop", "nul", now)
		e.Name = "bad\x00byte\xff"
		e.ClickIDs = map[string]string{"gclid": "a\x00b"}
		e.Properties = json.RawMessage(`{"k":"v\u0000w","lone":"\ud800","pair":"\ud83c\udf89"}`)
		mustInsert(t, s, []event.Event{e}, 1)
		got := mustRecent(t, s, "shop", 1)[0]
		if got.Name != "bad\uFFFDbyte\uFFFD" || got.ClickIDs["gclid"] != "a\uFFFDb" {
			t.Errorf("stored name %q, gclid %q: want NUL and invalid UTF-8 replaced by U+FFFD", got.Name, got.ClickIDs["gclid"])
		}
		assertJSON(t, "properties", got.Properties, json.RawMessage(`{"k":"v\ufffdw","lone":"\ufffd","pair":"🎉"}`))
	})

	runLoneSurrogates(t, fresh, now)

	t.Run("RejectsInvalidEvents", func(t *testing.T) {
		s := fresh(t)
		bad := map[string]func(*event.Event){
			"no site":             func(e *event.Event) { e.Site = "" },
			"no event id":         func(e *event.Event) { e.EventID = "" },
			"no received_at":      func(e *event.Event) { e.ReceivedAt = time.Time{} },
			"properties not json": func(e *event.Event) { e.Properties = json.RawMessage(`{"a":`) },
			"value beyond bound":  func(e *event.Event) { v := 1.7e308; e.Value = &v },
			"value below bound":   func(e *event.Event) { v := -event.MaxAbsValue * 2; e.Value = &v },
		}
		for name, mutate := range bad {
			t.Run(name, func(t *testing.T) {
				e := Full("shop", "bad", now)
				mutate(&e)
				n, err := s.Insert(ctx, []event.Event{Full("shop", "good", now), e})
				if !errors.Is(err, store.ErrInvalidEvent) || n != 0 {
					t.Errorf("Insert = %d, %v; want 0 and ErrInvalidEvent", n, err)
				}
			})
		}
		assertIDs(t, mustRecent(t, s, "shop", 10)) // nothing of a failed call is stored
	})

	t.Run("EmptyInsertAndPing", func(t *testing.T) {
		s := fresh(t)
		mustInsert(t, s, nil, 0)
		if err := s.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})

	t.Run("CanceledContext", func(t *testing.T) {
		s := fresh(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Insert(cctx, []event.Event{Full("shop", "c", now)}); err == nil {
			t.Error("Insert with a canceled context succeeded")
		}
		mustInsert(t, s, []event.Event{Full("shop", "c", now)}, 1)
	})

	t.Run("MigrateTwice", func(t *testing.T) {
		s := fresh(t)
		mustInsert(t, s, []event.Event{Full("shop", "m", now)}, 1)
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		assertIDs(t, mustRecent(t, s, "shop", 10), "m")
	})

	runDeliveries(t, fresh, now)
	runAudit(t, fresh, now)
	runPurge(t, fresh, now)
	runAnalytics(t, fresh)
	runRetention(t, fresh)
}

func mustInsert(t *testing.T, s store.Store, events []event.Event, want int) {
	t.Helper()
	n, err := s.Insert(context.Background(), events)
	if err != nil {
		t.Fatalf("Insert: %v", err)
	}
	if n != want {
		t.Fatalf("Insert stored %d new events, want %d", n, want)
	}
}

func mustRecent(t *testing.T, s store.Store, site string, limit int) []event.Event {
	t.Helper()
	got, err := s.Recent(context.Background(), site, limit)
	if err != nil {
		t.Fatalf("Recent(%q, %d): %v", site, limit, err)
	}
	return got
}

func assertIDs(t *testing.T, got []event.Event, want ...string) {
	t.Helper()
	ids := make([]string, len(got))
	for i, e := range got {
		ids[i] = e.EventID
	}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("event ids = %v, want %v", ids, want)
	}
}

// assertSame compares a stored event with what was inserted: times at
// microsecond precision, Properties as JSON values.
func assertSame(t *testing.T, got, want event.Event) {
	t.Helper()
	assertJSON(t, want.EventID+" properties", got.Properties, want.Properties)
	if !got.ReceivedAt.Equal(want.ReceivedAt.Truncate(time.Microsecond)) || got.ReceivedAt.Location() != time.UTC {
		t.Errorf("%s: received_at = %v, want %v in UTC", want.EventID, got.ReceivedAt, want.ReceivedAt)
	}
	if !got.Timestamp.Equal(want.Timestamp.Truncate(time.Microsecond)) {
		t.Errorf("%s: timestamp = %v, want %v", want.EventID, got.Timestamp, want.Timestamp)
	}
	got.Properties, want.Properties = nil, nil
	got.ReceivedAt, want.ReceivedAt = time.Time{}, time.Time{}
	got.Timestamp, want.Timestamp = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("%s: stored event differs:\ngot  %s\nwant %s", want.EventID, g, w)
	}
}

func assertJSON(t *testing.T, what string, got, want json.RawMessage) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Errorf("%s = %s, want %s", what, got, want)
		return
	}
	if want == nil {
		return
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s: stored value %s is not JSON: %v", what, got, err)
		return
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: fixture %s is not JSON: %v", what, want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}
