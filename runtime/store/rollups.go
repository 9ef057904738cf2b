package store

import (
	"context"
	"time"
)

// Rollups: why and how
//
// Totals and Series over raw events read every event of the range, which
// takes seconds at millions of events. Both SQL stores therefore keep two
// tiers of rollups. rollup_sessions has, per site and UTC hour, one row
// per session (an event without a session id is a session of its own),
// visitor and value of the dimensions a filter can name except the page
// (source, channel, campaign, device), holding the session's events, page
// views, conversions and revenue in that hour and its first and last
// occurred_at there. rollup_spans sums each session with more than one
// row (rollupspans.go). rollup_hours has, per site, hour and dimension
// values, the sums of the sessions whole there (rows that are their
// session's only row, and spans starting in the hour), and a roaring
// bitmap of the visitors of all its rows, by their per-site numbers in
// rollup_visitors (rolluphours.go); rollup_hours_all is the same over all
// dimension values. The raw events stay the truth; a rollup row is only a
// cached sum of them:
//
//   - Sums (page views, conversions, revenue) add up over hours.
//   - Sessions, bounces and durations do not (a session can span hours).
//     Rows of sessions with more than one row are marked shared when
//     rolled up (markSharedSQL) and summed into a span, counted whole in
//     its first hour. A read merges per session only the sessions its
//     boundaries cut (mergeSQL): their rows' sums, and the min and max
//     occurred_at, which is what the raw statement computes from the
//     events.
//   - Distinct visitors cannot be summed from hourly counts either; a read
//     unions the bitmaps of its hours, which is exact for any set of
//     hours; per-day visitor tables could not serve hours or days in
//     other time zones.
//   - The page is left out: a page filter reads raw events, because a row
//     per session, hour and page would be about as many rows as events.
//
// Each site's rollup_state holds rolled_to and a watermark: every UTC hour
// before rolled_to is rolled up from exactly the events the watermark
// includes (PostgreSQL: txid below the xmin of the snapshot that rolled
// it; SQLite: seq up to the largest at the time). A read, in one snapshot,
// takes from the rollups the whole hours of its range that are rolled and
// whose events are all included, and reads raw: the partial hours at both
// ends of the range, the hours from rolled_to on (the current hour is
// always raw), and every rolled hour holding an event beyond the
// watermark (a late event, or a server event that superseded a browser
// one, which keeps the browser's received_at). Found through the feed's
// index, those are few. So every answer equals the raw computation, at
// any moment, except in the order floating-point revenue is summed.
//
// Series buckets must be made of whole UTC hours to use rollups; in a
// zone whose offset is not a whole number of hours (Asia/Kolkata) a series
// reads raw events. A query with a page filter reads raw events.
//
// RollUp (run every minute by the dashboard and by standalone) rolls the
// hours closed since the last run and re-rolls the hours that late events
// made stale, then advances the watermark. It never runs on the insert
// path, so ingest pays nothing for rollups.
//
// Deleting events is the one change reads cannot see by themselves: a
// deleted event leaves no trace beyond the watermark. Retention and
// erasure delete through RetentionOps.DeleteEvents, which re-rolls the
// hours it deleted from in the same transaction (RefreshHoursOnce);
// other deletions call RefreshRollups for the hours of what they
// deleted, and retry it until it succeeds. See Rollups.

// Rollups keeps pre-aggregated analytics consistent with the raw events.
//
// Code that deletes events calls it for the range of the deleted events'
// received times: retention at the end of each expiry (covering dropped
// partitions). Retention's and erasure's DeleteEvents do the same inside
// their own transaction; a site's purge deletes the rollup rows with every
// other row of the site. Until
// it has returned nil the deleted events still count in rolled hours and
// their visitor and session ids remain in the rollups, so a caller
// retries it as it retries the deletion itself.
type Rollups interface {
	// RefreshRollups recomputes the site's rollups of every hour overlapping
	// [from, to) from the raw events that remain, removing rollup rows of
	// hours that have no events left.
	RefreshRollups(ctx context.Context, site string, from, to time.Time) error
}

// Roller rolls up the hours that closed and catches up with late events.
// Runs of different processes on one database exclude each other.
type Roller interface {
	// RollUp rolls up the site's hours that end at or before until (whole
	// UTC hours) and re-rolls the rolled hours that events stored since
	// the last run belong to.
	RollUp(ctx context.Context, site string, until time.Time) error
}

// floorHour is the start of t's UTC hour.
func floorHour(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// ceilHour is the first whole UTC hour at or after t.
func ceilHour(t time.Time) time.Time {
	f := floorHour(t)
	if f.Equal(t) {
		return f
	}
	return f.Add(time.Hour)
}
