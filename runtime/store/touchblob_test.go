package store

import (
	"errors"
	"math"
	"testing"
)

// TestTouchBlobRoundTrip packs records of every kind (touch, conversion,
// shared, by user number, user id, visitor number, visitor id or nobody;
// equal times) and identities of every kind, and reads them back.
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
	identities := []rawTouch{
		{at: hour, seq: 0, visitor: str("v2"), number: num(7), user: str("u-9"), userNumber: num(1 << 33)},
		{at: hour + 3_599_999_999, seq: 1 << 40, visitor: str("v-unnumbered"), user: str("u-1")},
		{at: hour + 17, seq: 12, visitor: str("v3"), number: num(8), user: str("u-1")},
		{at: hour + 18, seq: 13, visitor: str("v-unnumbered-2"), user: str("u-2"), userNumber: num(300)},
	}
	w := newTouchBlobWriter(hour)
	for _, row := range rows {
		if err := w.add(row.r, row.touch, row.shared); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range identities {
		if err := w.addIdentity(id); err != nil {
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
	for i, want := range identities {
		var id blobIdentity
		more, err := r.nextIdentity(&id)
		if err != nil || !more {
			t.Fatalf("identity %d: more %v, %v", i, more, err)
		}
		if id.at != want.at || id.seq != want.seq {
			t.Errorf("identity %d: at %d seq %d, want %d %d", i, id.at, id.seq, want.at, want.seq)
		}
		if want.number != nil {
			if id.flags&blobVisitorNumber == 0 || id.visitorNumber != *want.number {
				t.Errorf("identity %d: visitor number %d flags %b, want %d", i, id.visitorNumber, id.flags, *want.number)
			}
		} else if id.flags&blobVisitorID == 0 || string(id.visitor) != *want.visitor {
			t.Errorf("identity %d: visitor %q flags %b, want %q", i, id.visitor, id.flags, *want.visitor)
		}
		if want.userNumber != nil {
			if id.flags&blobUserNumber == 0 || id.userNumber != *want.userNumber {
				t.Errorf("identity %d: user number %d flags %b, want %d", i, id.userNumber, id.flags, *want.userNumber)
			}
		} else if id.flags&blobUser == 0 || string(id.user) != *want.user {
			t.Errorf("identity %d: user %q flags %b, want %q", i, id.user, id.flags, *want.user)
		}
	}
	if more, err := r.nextIdentity(&blobIdentity{}); more || err != nil {
		t.Errorf("after the last identity: more %v, %v", more, err)
	}

	// Every truncation, and anything after the end, is an error, never
	// a panic; a record out of order and an identity outside the hour,
	// without a visitor or without a user are refused.
	for _, cut := range append([][]byte{append(append([]byte{}, data...), 0)}, prefixes(data)...) {
		if err := readBlob(cut, hour); !errors.Is(err, errTouchBlob) {
			t.Errorf("cut at %d of %d bytes: %v, want errTouchBlob", len(cut), len(data), err)
		}
	}
	if err := readBlob(data, hour); err != nil {
		t.Errorf("the whole blob: %v", err)
	}
	if err := w.add(rawTouch{at: hour + 1}, true, false); err == nil {
		t.Error("a record before the previous one was accepted")
	}
	for _, bad := range []rawTouch{
		{at: hour - 1, visitor: str("v"), user: str("u")},
		{at: hour + 3_600_000_000, visitor: str("v"), user: str("u")},
		{at: hour, user: str("u")},
		{at: hour, visitor: str("v")},
	} {
		if err := w.addIdentity(bad); err == nil {
			t.Errorf("identity %+v was accepted", bad)
		}
	}
}

// prefixes is every proper prefix of data.
func prefixes(data []byte) [][]byte {
	out := make([][]byte, len(data))
	for n := range out {
		out[n] = data[:n]
	}
	return out
}

// readBlob reads a blob's records and identities to the end.
func readBlob(data []byte, hour int64) error {
	r, err := newTouchBlobReader(data, hour)
	if err != nil {
		return err
	}
	for {
		more, err := r.next(&blobRecord{})
		if err != nil {
			return err
		}
		if !more {
			break
		}
	}
	for {
		more, err := r.nextIdentity(&blobIdentity{})
		if err != nil || !more {
			return err
		}
	}
}
