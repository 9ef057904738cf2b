package store

import (
	"errors"
	"math"
	"testing"
)

// TestTouchBlobRoundTrip packs records of every kind (touch, conversion,
// shared, by user number, user id, visitor number, visitor id or nobody;
// equal times)
// and reads them back.
func TestTouchBlobRoundTrip(t *testing.T) {
	const hour = int64(1_777_000_000_000_000)
	str := func(s string) *string { return &s }
	num := func(n int64) *int64 { return &n }
	rows := []struct {
		r             rawTouch
		touch, shared bool
	}{
		{rawTouch{at: hour, seq: 10, session: str("s1"), user: str("u-1"), channel: "email", source: "newsletter", campaign: "spring"}, true, true},
		{rawTouch{at: hour, seq: 4, session: str("s2"), visitor: str("v2"), number: num(7), channel: "direct", source: "(direct)"}, true, false},
		{rawTouch{at: hour + 5, seq: 11, session: str("s1"), user: str("u-1"), conv: true, value: -30.25, channel: "email", source: "newsletter", campaign: "spring"}, false, true},
		{rawTouch{at: hour + 3_599_999_999, seq: 1 << 40, visitor: str("v-unnumbered"), conv: true, value: math.MaxFloat64, channel: "", source: "(direct)"}, true, false},
		{rawTouch{at: hour + 3_599_999_999, seq: 3, conv: true, value: 0.5, source: "(direct)"}, false, false},
		{rawTouch{at: hour + 3_599_999_999, seq: 5, user: str("u-2"), userNumber: num(300), visitor: str("v3"), number: num(8), source: "(direct)"}, true, false},
	}
	w := newTouchBlobWriter(hour)
	for _, row := range rows {
		if err := w.add(row.r, row.touch, row.shared); err != nil {
			t.Fatal(err)
		}
	}
	if w.count != 6 || w.sharedCount != 1 {
		t.Errorf("count %d, shared %d; want 6 and 1 (a conversion that is no touch names no session)", w.count, w.sharedCount)
	}
	data := w.bytes()
	r, err := newTouchBlobReader(data, hour)
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		var rec blobRecord
		more, err := r.next(&rec)
		if err != nil || !more {
			t.Fatalf("record %d: more %v, %v", i, more, err)
		}
		if rec.at != row.r.at {
			t.Errorf("record %d: at %d, want %d", i, rec.at, row.r.at)
		}
		if got := rec.flags&blobTouch != 0; got != row.touch {
			t.Errorf("record %d: touch %v", i, got)
		}
		if got := rec.flags&blobConversion != 0; got != row.r.conv || (row.r.conv && rec.value != row.r.value) {
			t.Errorf("record %d: conversion %v value %v, want %v %v", i, got, rec.value, row.r.conv, row.r.value)
		}
		wantSession := ""
		if row.touch && row.shared {
			wantSession = *row.r.session
		}
		if string(rec.session) != wantSession {
			t.Errorf("record %d: session %q, want %q", i, rec.session, wantSession)
		}
		switch {
		case row.r.userNumber != nil:
			if rec.flags&blobUserNumber == 0 || rec.number != *row.r.userNumber || rec.who != nil {
				t.Errorf("record %d: number %d who %q flags %b, want user number %d", i, rec.number, rec.who, rec.flags, *row.r.userNumber)
			}
		case row.r.user != nil:
			if rec.flags&blobUser == 0 || string(rec.who) != *row.r.user {
				t.Errorf("record %d: who %q flags %b, want user %q", i, rec.who, rec.flags, *row.r.user)
			}
		case row.r.number != nil:
			if rec.flags&blobVisitorNumber == 0 || rec.number != *row.r.number {
				t.Errorf("record %d: number %d flags %b, want %d", i, rec.number, rec.flags, *row.r.number)
			}
		case row.r.visitor != nil:
			if rec.flags&blobVisitorID == 0 || string(rec.who) != *row.r.visitor {
				t.Errorf("record %d: who %q flags %b, want visitor %q", i, rec.who, rec.flags, *row.r.visitor)
			}
		default:
			if rec.flags&(blobUser|blobVisitorNumber|blobVisitorID) != 0 {
				t.Errorf("record %d: flags %b, want nobody", i, rec.flags)
			}
		}
		for _, d := range []struct {
			got  int
			want string
		}{{rec.channel, row.r.channel}, {rec.source, row.r.source}, {rec.campaign, row.r.campaign}} {
			if string(r.values[d.got]) != d.want {
				t.Errorf("record %d: value %q, want %q", i, r.values[d.got], d.want)
			}
		}
	}
	if more, err := r.next(&blobRecord{}); more || err != nil {
		t.Errorf("after the last record: more %v, %v", more, err)
	}

	// Every truncation is an error (or, cut between records, fewer
	// records), never a panic; a record out of order is refused.
	for n := range len(data) {
		r, err := newTouchBlobReader(data[:n], hour)
		for err == nil {
			var more bool
			if more, err = r.next(&blobRecord{}); !more {
				break
			}
		}
		if err != nil && !errors.Is(err, errTouchBlob) {
			t.Errorf("cut at %d: %v, want errTouchBlob", n, err)
		}
	}
	if err := w.add(rawTouch{at: hour + 1}, true, false); err == nil {
		t.Error("a record before the previous one was accepted")
	}
}
