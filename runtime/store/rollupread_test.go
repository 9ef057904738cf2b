package store

import (
	"reflect"
	"testing"
	"time"
)

func TestPlanRead(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 3, 10, h, m, 0, 0, time.UTC) }
	span := func(a, b time.Time) [2]time.Time { return [2]time.Time{a, b} }
	rolledTo := func(h int) rollupState { return rollupState{rolledTo: at(h, 0), ok: true} }
	kolkata := time.FixedZone("IST", 5*3600+1800)
	tests := []struct {
		name   string
		q      Query
		starts []time.Time
		st     rollupState
		stale  []time.Time
		want   readPlan
	}{
		{"never rolled up", Query{From: at(8, 0), To: at(12, 0)}, nil, rollupState{},
			nil, readPlan{raw: [][2]time.Time{span(at(8, 0), at(12, 0))}}},
		{"all rolled up", Query{From: at(8, 0), To: at(12, 0)}, nil, rolledTo(20),
			nil, readPlan{rolledFrom: at(8, 0), rolledTo: at(12, 0)}},
		// The partial hours at both ends, and from rolled_to on, are raw.
		{"edges and open hours", Query{From: at(8, 30), To: at(14, 15)}, nil, rolledTo(13),
			nil, readPlan{rolledFrom: at(9, 0), rolledTo: at(13, 0), raw: [][2]time.Time{span(at(8, 30), at(9, 0)), span(at(13, 0), at(14, 15))}}},
		// Stale hours are skipped and read raw, joined to adjacent spans.
		{"stale hours", Query{From: at(8, 30), To: at(14, 0)}, nil, rolledTo(13),
			[]time.Time{at(9, 0), at(11, 0), at(12, 0)},
			readPlan{rolledFrom: at(9, 0), rolledTo: at(13, 0), skip: []time.Time{at(9, 0), at(11, 0), at(12, 0)},
				raw: [][2]time.Time{span(at(8, 30), at(10, 0)), span(at(11, 0), at(14, 0))}}},
		{"within one hour", Query{From: at(8, 10), To: at(8, 50)}, nil, rolledTo(13),
			nil, readPlan{raw: [][2]time.Time{span(at(8, 10), at(8, 50))}}},
		{"rolled up to before the range", Query{From: at(8, 0), To: at(12, 0)}, nil, rolledTo(6),
			nil, readPlan{raw: [][2]time.Time{span(at(8, 0), at(12, 0))}}},
		{"day buckets on whole hours", Query{From: at(8, 0), To: at(12, 0)}, []time.Time{at(8, 0), at(10, 0)}, rolledTo(20),
			nil, readPlan{rolledFrom: at(8, 0), rolledTo: at(12, 0)}},
		{"buckets inside hours", Query{From: at(8, 0), To: at(12, 0)}, []time.Time{at(7, 30).In(kolkata), at(8, 30).In(kolkata)}, rolledTo(20),
			nil, readPlan{raw: [][2]time.Time{span(at(8, 0), at(12, 0))}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := rollableHours(tt.q, tt.starts, tt.st)
			var got readPlan
			if lo.Before(hi) {
				got = planRead(tt.q, lo, hi, tt.stale)
			} else {
				got = readPlan{raw: [][2]time.Time{span(tt.q.From, tt.q.To)}}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("plan =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestClipBuckets(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 3, 10, h, 0, 0, 0, time.UTC) }
	starts := []time.Time{at(0), at(6), at(12), at(18)}
	end := at(24)
	tests := []struct {
		name      string
		lo, hi    time.Time
		wantSub   []time.Time
		wantFirst int
		wantEnd   time.Time
	}{
		{"all", at(0), at(24), starts, 0, end},
		{"inside one bucket", at(7), at(9), []time.Time{at(7)}, 1, at(9)},
		{"across two", at(10), at(14), []time.Time{at(10), at(12)}, 1, at(14)},
		{"from a start", at(12), at(24), []time.Time{at(12), at(18)}, 2, end},
		{"empty", at(24), at(24), []time.Time{at(24)}, 0, at(24)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub, first, subEnd := clipBuckets(starts, end, tt.lo, tt.hi)
			if !reflect.DeepEqual(sub, tt.wantSub) || first != tt.wantFirst || !subEnd.Equal(tt.wantEnd) {
				t.Errorf("clipBuckets(%v, %v) = %v, %d, %v; want %v, %d, %v", tt.lo, tt.hi, sub, first, subEnd, tt.wantSub, tt.wantFirst, tt.wantEnd)
			}
		})
	}
}
