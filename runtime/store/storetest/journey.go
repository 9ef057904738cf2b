package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// testJourney checks journey lookups and their cross-device stitching: a
// person browses on a phone, signs in there (user u-9), buys on a laptop
// signed in as u-9, then browses the laptop signed out. Every key finds
// all four events; an unrelated visitor and another site's events with
// the same ids never join.
func testJourney(t *testing.T, fresh func(t *testing.T) store.Store) {
	s := fresh(t)
	at := time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)
	const hash = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
	ev := func(site, id, visitor, user string, min int) event.Event {
		e := Full(site, id, at.Add(time.Duration(min)*time.Minute))
		e.VisitorID, e.UserID, e.OrderID, e.User = visitor, user, "", event.User{}
		return e
	}
	buy := ev("shop", "d3", "laptop", "u-9", 30)
	buy.OrderID, buy.User.EmailSHA256 = "o-1", hash
	evs := []event.Event{
		ev("shop", "d1", "phone", "", 0), ev("shop", "d2", "phone", "u-9", 5), buy, ev("shop", "d4", "laptop", "", 60),
		ev("shop", "d5", "stranger", "", 10), ev("other", "x1", "phone", "u-9", 1),
	}
	mustInsert(t, s, evs, len(evs))
	j, ok := s.(store.JourneyLookup)
	if !ok {
		t.Fatalf("%T does not implement store.JourneyLookup", s)
	}
	ids := func(key store.JourneyKey) string {
		t.Helper()
		got, err := j.Journey(context.Background(), "shop", key, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range got {
			out = append(out, e.EventID)
		}
		return strings.Join(out, " ")
	}
	for name, key := range map[string]store.JourneyKey{
		"visitor on the phone": {VisitorID: "phone"}, "user": {UserID: "u-9"},
		"email digest": {EmailSHA256: hash}, "order": {OrderID: "o-1"}, "visitor on the laptop": {VisitorID: "laptop"},
	} {
		if got := ids(key); got != "d1 d2 d3 d4" {
			t.Errorf("%s: %q, want d1 d2 d3 d4 (both devices, no stranger, no other site)", name, got)
		}
	}
	if got := ids(store.JourneyKey{VisitorID: "stranger"}); got != "d5" {
		t.Errorf("stranger: %q, want d5", got)
	}
	if got := ids(store.JourneyKey{VisitorID: "nobody"}); got != "" {
		t.Errorf("unknown visitor: %q, want nothing", got)
	}
	// A tablet never signed in, but its newsletter sign-up carries the
	// same email digest as the purchase: only stitching by email joins it,
	// both ways.
	tablet := ev("shop", "d6", "tablet", "", 90)
	tablet.User.EmailSHA256 = hash
	mustInsert(t, s, []event.Event{tablet, ev("shop", "d7", "tablet", "", 95)}, 2)
	if got := ids(store.JourneyKey{VisitorID: "phone"}); got != "d1 d2 d3 d4" {
		t.Errorf("phone without email stitching: %q, want d1 d2 d3 d4", got)
	}
	if got := ids(store.JourneyKey{VisitorID: "laptop", StitchByEmail: true}); got != "d1 d2 d3 d4 d6 d7" {
		t.Errorf("laptop with email stitching: %q, want d1 d2 d3 d4 d6 d7", got)
	}
	if got := ids(store.JourneyKey{VisitorID: "tablet", StitchByEmail: true}); got != "d1 d2 d3 d4 d6 d7" {
		t.Errorf("tablet with email stitching: %q, want d1 d2 d3 d4 d6 d7 (the email gives user u-9, whose devices join)", got)
	}
	if got := ids(store.JourneyKey{VisitorID: "stranger", StitchByEmail: true}); got != "d5" {
		t.Errorf("stranger with email stitching: %q, want d5", got)
	}
	for _, bad := range []store.JourneyKey{{}, {StitchByEmail: true}, {VisitorID: "phone", UserID: "u-9"}} {
		if _, err := j.Journey(context.Background(), "shop", bad, 10); !errors.Is(err, store.ErrJourneyKey) {
			t.Errorf("key %+v: %v, want ErrJourneyKey", bad, err)
		}
	}
}
