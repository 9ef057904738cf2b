package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// browserAndServer are the browser's and the backend's report of one sale
// under one event_id: the browser knows the visit, the backend the order.
func browserAndServer(id string, browserAt, serverAt time.Time) (browser, server event.Event) {
	browser = Full("shop", id, browserAt)
	browser.Source, browser.Value, browser.Currency, browser.User = event.SourceBrowser, nil, "", event.User{}
	browser.Name, browser.Properties = "purchase", nil

	v := 99.5
	server = event.Event{
		Site: "shop", EventID: id, Type: event.TypeConversion, Name: "purchase", Source: event.SourceServer,
		Timestamp: serverAt.Add(-time.Second), ReceivedAt: serverAt,
		Value: &v, Currency: "USD", OrderID: "order-from-backend",
		ClickIDs: map[string]string{"ttclid": "from-backend"},
		User:     event.User{EmailSHA256: "f1d2d2f924e986ac86fdf7b36c94bcdf32beec15f1d2d2f924e986ac86fdf7b3"},
	}
	return browser, server
}

// runSupersede checks that a server event is never blocked by a browser
// event that used its event_id first, and how the two combine.
func runSupersede(t *testing.T, fresh func(t *testing.T) store.Store, now time.Time) {
	ctx := context.Background()

	t.Run("ServerSupersedesBrowser", func(t *testing.T) {
		s := fresh(t)
		// The browser's copy came yesterday: the merged event stays in its day.
		browser, server := browserAndServer("order-1001", now.Add(-24*time.Hour), now)
		mustInsert(t, s, []event.Event{browser}, 1)
		mustInsert(t, s, []event.Event{server}, 1)

		got := mustRecent(t, s, "shop", 10)
		assertIDs(t, got, "order-1001")
		want := store.Supersede(server, browser)
		assertSame(t, got[0], want)
		e := got[0]
		checks := map[string]bool{
			"the server's source":            e.Source == event.SourceServer,
			"the server's value":             e.Value != nil && *e.Value == 99.5 && e.Currency == "USD",
			"the server's order id":          e.OrderID == "order-from-backend",
			"the server's matching data":     e.User.EmailSHA256 == server.User.EmailSHA256,
			"the browser's matching data":    e.User.PhoneSHA256 == "" && browser.User.PhoneSHA256 == "",
			"the browser's visit":            e.VisitorID == browser.VisitorID && e.SessionID == browser.SessionID && e.URL == browser.URL,
			"the browser's campaign":         e.UTM == browser.UTM && e.Channel == browser.Channel,
			"both sides' click ids":          e.ClickIDs["gclid"] == browser.ClickIDs["gclid"] && e.ClickIDs["ttclid"] == "from-backend",
			"the browser's device":           e.Device == browser.Device && e.FBP == browser.FBP,
			"received when first heard from": e.ReceivedAt.Equal(browser.ReceivedAt.Truncate(time.Microsecond)),
		}
		for what, ok := range checks {
			if !ok {
				t.Errorf("merged event lacks %s: %+v", what, e)
			}
		}

		// Later copies of either kind change nothing.
		again := server
		v := 1.0
		again.Value = &v
		mustInsert(t, s, []event.Event{again, browser}, 0)
		if got := mustRecent(t, s, "shop", 10); len(got) != 1 || *got[0].Value != 99.5 {
			t.Errorf("a repeated server event or a late browser copy changed the stored event: %+v", got)
		}
	})

	t.Run("BrowserNeverSupersedesServer", func(t *testing.T) {
		s := fresh(t)
		browser, server := browserAndServer("order-1002", now, now)
		mustInsert(t, s, []event.Event{server}, 1)
		mustInsert(t, s, []event.Event{browser}, 0)
		got := mustRecent(t, s, "shop", 10)
		assertIDs(t, got, "order-1002")
		assertSame(t, got[0], server)
	})

	t.Run("SupersedeBesideNewAndRepeated", func(t *testing.T) {
		// One call holds new events, a server event taking over a stored
		// browser event's id, and a repeat of a stored server event: each
		// is stored or not as it would be on its own.
		s := fresh(t)
		m, ok := s.(Marker)
		if !ok {
			t.Fatalf("%T does not implement InsertMarked", s)
		}
		browser, server := browserAndServer("order-2001", now, now.Add(time.Second))
		_, stored := browserAndServer("order-2002", now, now)
		mustInsert(t, s, []event.Event{browser, stored}, 2)
		repeat := stored
		v := 1.0
		repeat.Value = &v
		in := []event.Event{Full("shop", "new-1", now), server, repeat, Full("shop", "new-2", now)}
		marks := make([]bool, len(in))
		n, err := m.InsertMarked(ctx, in, marks)
		if err != nil {
			t.Fatal(err)
		}
		if want := []bool{true, true, false, true}; n != 3 || !reflect.DeepEqual(marks, want) {
			t.Errorf("InsertMarked = %d, %v; want 3, %v", n, marks, want)
		}
		got := mustRecent(t, s, "shop", 10)
		if len(got) != 4 {
			t.Fatalf("stored %d events, want 4", len(got))
		}
		for _, e := range got {
			switch e.EventID {
			case "order-2001":
				assertSame(t, e, store.Supersede(server, browser))
			case "order-2002":
				assertSame(t, e, stored)
			}
		}
	})

	t.Run("SupersedeWithinOneCall", func(t *testing.T) {
		s := fresh(t)
		m, ok := s.(Marker)
		if !ok {
			t.Fatalf("%T does not implement InsertMarked", s)
		}
		browser, server := browserAndServer("order-1003", now, now.Add(time.Second))
		other := Full("shop", "other", now)
		in := []event.Event{browser, other, server}
		marks := make([]bool, len(in))
		n, err := m.InsertMarked(ctx, in, marks)
		if err != nil {
			t.Fatal(err)
		}
		if want := []bool{false, true, true}; n != 2 || !reflect.DeepEqual(marks, want) {
			t.Errorf("InsertMarked = %d, %v; want 2, %v (the server event stored, the browser copy it replaced not counted)", n, marks, want)
		}
		// Events stored by one call are stored at once: their order among
		// themselves is the store's.
		got := mustRecent(t, s, "shop", 10)
		if len(got) != 2 {
			t.Fatalf("stored %d events, want 2", len(got))
		}
		for _, e := range got {
			if e.EventID == "order-1003" {
				assertSame(t, e, store.Supersede(server, browser))
			}
		}
	})
}
