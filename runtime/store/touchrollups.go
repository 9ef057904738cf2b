package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The touchpoints tier of the rollups: rollup_touches holds, per site and
// UTC hour, a blob (touchblob.go) of the hour's touchpoint candidates, so
// that attribution reads a 30-day range as 720 rows. It is rebuilt with
// the hour's rollup_sessions rows, and whenever some of them become
// shared, from the same events (those the watermark includes).
//
// A read (rolledTouches) is exact in the same way as the other rollup
// reads: in one snapshot it takes the blobs of the rolled, not stale,
// whole hours of its range and raw events elsewhere (rollupread.go's
// plan). A session's touch is its first event in the range, so for a
// session with events in several parts the earliest candidate wins:
//   - records of shared sessions carry the session id; as the read emits
//     points in time order, the first of a session's records and raw
//     candidates to come is its touch;
//   - a raw candidate whose session has rolled rows only in one unshared
//     row loses to it when that row's hour is earlier. When it is later
//     (an event stored after the roll-up, earlier than the session's
//     rolled events: imports, late events with old times), the record
//     cannot be named, and the read falls back to raw events.

// touchBlobsPerInsert bounds the rows of one INSERT of rollup_touches, and
// touchSessionsPerStatement the session ids, user ids or user numbers of
// one statement, well within both databases' limits on parameters.
const (
	touchBlobsPerInsert       = 50
	touchSessionsPerStatement = 500
)

// rebuildTouches replaces a site's rollup_touches rows of [lo, hi) by the
// blobs of the events watermark w includes there. Their visitors must be
// numbered, and their rollup_sessions rows rolled up.
func (d *AnalyticsDialect) rebuildTouches(ctx context.Context, tx RollupTx, site string, lo, hi time.Time, w int64) error {
	before, err := d.usersInBlobs(ctx, tx, site, lo, hi)
	if err != nil {
		return err
	}
	p := &Params{d: d}
	del := `DELETE FROM rollup_touches WHERE site = ` + p.Add(site) + ` AND hour >= ` + p.Add(d.Time(lo)) + ` AND hour < ` + p.Add(d.Time(hi))
	if err := tx.Exec(ctx, del, p.Args); err != nil {
		return fmt.Errorf("while clearing the touchpoint rollups of site %q from %v: %w", site, lo, err)
	}
	if err := d.writeTouches(ctx, tx, site, lo, hi, w); err != nil {
		return err
	}
	return d.forgetUsers(ctx, tx, site, before)
}

// writeTouches packs and writes the blobs of [lo, hi) (see rebuildTouches).
func (d *AnalyticsDialect) writeTouches(ctx context.Context, tx RollupTx, site string, lo, hi time.Time, w int64) error {
	shared, err := d.sharedSessions(ctx, tx, site, lo, hi)
	if err != nil {
		return err
	}
	p := &Params{d: d}
	where := `e.site = ` + p.Add(site) + ` AND e.received_at >= ` + p.Add(d.Time(lo)) + ` AND e.received_at < ` + p.Add(d.Time(hi)) +
		` AND NOT (` + d.Late(p, w) + `)`
	hours, rows, err := queryByHour(ctx, tx, d.touchCandidatesSQL(where, true, true), p.Args, scanRawTouch)
	if err != nil {
		return fmt.Errorf("while packing the touchpoints of site %q from %v: %w", site, lo, err)
	}
	idHours, ids, err := queryByHour(ctx, tx, d.identitiesSQL(where, true, true), p.Args, scanIdentity)
	if err != nil {
		return fmt.Errorf("while packing the identities of site %q from %v: %w", site, lo, err)
	}
	if err := d.numberUsers(ctx, tx, site, rows, ids); err != nil {
		return err
	}
	// Hours ascend in both lists; every hour with an identity has events,
	// so candidates, and so a blob.
	var blobs []*touchBlobWriter
	for i, r := range rows {
		if len(blobs) == 0 || blobs[len(blobs)-1].hour != hours[i] {
			blobs = append(blobs, newTouchBlobWriter(hours[i]))
		}
		if err := blobs[len(blobs)-1].add(r, r.first, r.session != nil && shared[sessionHour{hours[i], *r.session}]); err != nil {
			return err
		}
	}
	next := 0
	for i, r := range ids {
		for next < len(blobs) && blobs[next].hour < idHours[i] {
			next++
		}
		if next == len(blobs) || blobs[next].hour != idHours[i] {
			return fmt.Errorf("while packing the identities of site %q: hour %d has no touchpoints", site, idHours[i])
		}
		if err := blobs[next].addIdentity(r); err != nil {
			return err
		}
	}
	for start := 0; start < len(blobs); start += touchBlobsPerInsert {
		end := min(len(blobs), start+touchBlobsPerInsert)
		p := &Params{d: d}
		sql := `INSERT INTO rollup_touches (site, hour, records, shared, touches) VALUES `
		for i := start; i < end; i++ {
			if i > start {
				sql += ", "
			}
			w := blobs[i]
			sql += "(" + p.Add(site) + ", " + p.Add(d.Time(time.UnixMicro(w.hour).UTC())) + ", " + p.Add(w.count) + ", " + p.Add(w.sharedCount) + ", " + p.Add(w.bytes()) + ")"
		}
		if err := tx.Exec(ctx, sql, p.Args); err != nil {
			return fmt.Errorf("while writing the touchpoint rollups of site %q from %v: %w", site, lo, err)
		}
	}
	return nil
}

// queryByHour runs a query whose rows start with their hour (byHour), and
// returns the hours and the rows as scan reads them after it.
func queryByHour(ctx context.Context, tx RollupTx, sql string, args []any, scan func(func(...any) error, ...any) (rawTouch, error)) ([]int64, []rawTouch, error) {
	var hours []int64
	var rows []rawTouch
	err := tx.Query(ctx, sql, args, func(row func(...any) error) error {
		var hour int64
		r, err := scan(row, &hour)
		hours, rows = append(hours, hour), append(rows, r)
		return err
	})
	return hours, rows, err
}

// numberUsers gives the user ids of the rows (candidates and identities)
// that have no number yet the next numbers of the site, and the rows
// their numbers: blobs hold
// numbers, so no blob keeps a user id, and a read finds people by number
// rather than by hashing ids. Only the ids blobs hold get numbers, so
// forgetUsers finds every number to drop in the blobs it rebuilds.
func (d *AnalyticsDialect) numberUsers(ctx context.Context, tx RollupTx, site string, lists ...[]rawTouch) error {
	numbers := map[string]int64{}
	var missing []string
	for _, rows := range lists {
		for _, r := range rows {
			if r.user != nil && r.userNumber == nil {
				if _, ok := numbers[*r.user]; !ok {
					numbers[*r.user] = 0
					missing = append(missing, *r.user)
				}
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var base int64
	p := &Params{d: d}
	last := `SELECT coalesce(max(n), 0) FROM rollup_users WHERE site = ` + p.Add(site)
	if err := tx.Query(ctx, last, p.Args, func(scan func(...any) error) error { return scan(&base) }); err != nil {
		return fmt.Errorf("while reading the last user number of site %q: %w", site, err)
	}
	slices.Sort(missing)
	for start := 0; start < len(missing); start += touchSessionsPerStatement {
		p := &Params{d: d}
		var values []string
		for i, id := range missing[start:min(len(missing), start+touchSessionsPerStatement)] {
			n := base + int64(start+i) + 1
			numbers[id] = n
			values = append(values, "("+p.Add(site)+", "+p.Add(id)+", "+p.Add(n)+")")
		}
		sql := `INSERT INTO rollup_users (site, user_id, n) VALUES ` + strings.Join(values, ", ")
		if err := tx.Exec(ctx, sql, p.Args); err != nil {
			return fmt.Errorf("while numbering the users of site %q: %w", site, err)
		}
	}
	for _, rows := range lists {
		for i := range rows {
			if r := &rows[i]; r.user != nil && r.userNumber == nil {
				n := numbers[*r.user]
				r.userNumber = &n
			}
		}
	}
	return nil
}

// usersInBlobs returns the user numbers the blobs of [lo, hi) hold, in
// records and identities.
func (d *AnalyticsDialect) usersInBlobs(ctx context.Context, tx RollupTx, site string, lo, hi time.Time) ([]int64, error) {
	seen := map[int64]bool{}
	var out []int64
	err := d.readTouchBlobs(ctx, tx.Query, site, readPlan{rolledFrom: lo, rolledTo: hi}, nil, func(hour int64, data []byte) error {
		r, err := newTouchBlobReader(data, hour)
		if err != nil {
			return err
		}
		add := func(n int64) {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
		var rec blobRecord
		for {
			more, err := r.next(&rec)
			if err != nil {
				return err
			}
			if !more {
				break
			}
			if rec.flags&blobUserNumber != 0 {
				add(rec.number)
			}
		}
		var id blobIdentity
		for {
			more, err := r.nextIdentity(&id)
			if err != nil || !more {
				return err
			}
			if id.flags&blobUserNumber != 0 {
				add(id.userNumber)
			}
		}
	})
	return out, err
}

// forgetUsers drops the given user numbers of a site whose user id no
// event carries any more (deleted, or cleared by retention), so that no
// user id outlives its events in the rollups.
func (d *AnalyticsDialect) forgetUsers(ctx context.Context, tx RollupTx, site string, numbers []int64) error {
	for start := 0; start < len(numbers); start += touchSessionsPerStatement {
		p := &Params{d: d}
		sql := `DELETE FROM rollup_users WHERE site = ` + p.Add(site) + ` AND n IN ` +
			inList(p, numbers[start:min(len(numbers), start+touchSessionsPerStatement)]) + `
  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.site = rollup_users.site AND e.user_id = rollup_users.user_id)`
		if err := tx.Exec(ctx, sql, p.Args); err != nil {
			return fmt.Errorf("while forgetting the users of site %q: %w", site, err)
		}
	}
	return nil
}

// sessionHour is a session in a UTC hour (microseconds).
type sessionHour struct {
	hour    int64
	session string
}

// sharedSessions lists the sessions with shared rollup_sessions rows in
// each hour of [lo, hi).
func (d *AnalyticsDialect) sharedSessions(ctx context.Context, tx RollupTx, site string, lo, hi time.Time) (map[sessionHour]bool, error) {
	p := &Params{d: d}
	sql := `SELECT DISTINCT ` + d.Micros("hour") + `, session_id FROM rollup_sessions
WHERE site = ` + p.Add(site) + ` AND hour >= ` + p.Add(d.Time(lo)) + ` AND hour < ` + p.Add(d.Time(hi)) + `
  AND shared <> 0 AND session_id IS NOT NULL`
	out := map[sessionHour]bool{}
	err := tx.Query(ctx, sql, p.Args, func(scan func(...any) error) error {
		var k sessionHour
		if err := scan(&k.hour, &k.session); err != nil {
			return err
		}
		out[k] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("while reading the shared sessions of site %q from %v: %w", site, lo, err)
	}
	return out, nil
}

// errTouchConflict is a raw candidate earlier than its session's only
// rolled record, which the blob does not name.
var errTouchConflict = errors.New("a session's raw events precede its unshared rolled row")

// rolledTouches reads a range's touchpoints from rollups where they are
// complete; see the comment at the top.
func (a SQLAnalytics) rolledTouches(ctx context.Context, q Query) (*TouchSet, error) {
	d := a.Dialect
	var set *TouchSet
	err := a.Snapshot(ctx, func(query QueryFunc) error {
		st, err := d.readRollupState(ctx, query, q.Site)
		if err != nil {
			return err
		}
		lo, hi := rollableHours(q, nil, st)
		if lo.Before(hi) {
			stale, err := d.readStaleHours(ctx, query, q.Site, st.watermark, lo, hi)
			if err != nil {
				return err
			}
			set, err = d.mergeTouches(ctx, query, q, planRead(q, lo, hi, stale))
			if !errors.Is(err, errTouchConflict) {
				return err
			}
		}
		set, err = rawTouches(ctx, query, d, q)
		return err
	})
	return set, err
}

// touchedSessions holds the sessions whose touch a read has emitted.
// Points are emitted in time order, so a session's first candidate to
// arrive is its first in the range.
type touchedSessions map[string]bool

// first reports whether session has no touch yet, and records that it
// has one now. It allocates only for a session not seen yet.
func (t touchedSessions) first(session []byte) bool {
	if t[string(session)] {
		return false
	}
	t[string(session)] = true
	return true
}

// mergeTouches reads the touchpoints of plan: blobs of its rolled hours,
// raw events of the rest, merged in time order as the blobs arrive.
func (d *AnalyticsDialect) mergeTouches(ctx context.Context, query QueryFunc, q Query, plan readPlan) (*TouchSet, error) {
	var raw []rawTouch
	if len(plan.raw) > 0 {
		var err error
		if raw, err = readRawTouches(ctx, query, d, q, plan.raw, true); err != nil {
			return nil, err
		}
	}
	skip := map[int64]bool{}
	for _, h := range plan.skip {
		skip[h.UnixMicro()] = true
	}
	rawTouchOK, err := d.settleRaw(ctx, query, q.Site, plan, skip, raw)
	if err != nil {
		return nil, err
	}
	records, shared, err := d.countTouchRecords(ctx, query, q.Site, plan)
	if err != nil {
		return nil, err
	}
	b := newTouchSetBuilder(len(raw) + records)
	touched := make(touchedSessions, shared)
	next := 0
	emitRaw := func(before int64) {
		for ; next < len(raw) && raw[next].at < before; next++ {
			r := raw[next]
			b.addRaw(r, rawTouchOK[next] && (r.session == nil || touched.first([]byte(*r.session))))
		}
	}
	// Blobs are decoded as they arrive, on a second goroutine: reading
	// and decoding then overlap (a 30-day read is tens of megabytes).
	type hourBlob struct {
		hour int64
		data []byte
	}
	arrived := make(chan hourBlob, 32)
	built := make(chan error, 1)
	go func() {
		var err error
		for hb := range arrived {
			if err == nil {
				emitRaw(hb.hour)
				err = b.addBlob(hb.data, hb.hour, touched)
			}
		}
		built <- err
	}()
	err = d.readTouchBlobs(ctx, query, q.Site, plan, skip, func(hour int64, data []byte) error {
		arrived <- hourBlob{hour, data}
		return nil
	})
	close(arrived)
	if berr := <-built; err == nil {
		err = berr
	}
	if err != nil {
		return nil, err
	}
	emitRaw(q.To.UnixMicro())
	if err := readIdentities(ctx, query, d, q, plan.raw, true, b); err != nil {
		return nil, err
	}
	b.set.RolledHours = int(plan.rolledTo.Sub(plan.rolledFrom)/time.Hour) - len(plan.skip)
	return b.done(), nil
}

// countTouchRecords adds up the records and shared records of the blobs
// of a plan's rolled hours, so that a read sizes its result once.
func (d *AnalyticsDialect) countTouchRecords(ctx context.Context, query QueryFunc, site string, plan readPlan) (records, shared int, err error) {
	p := &Params{d: d}
	sql := `SELECT coalesce(sum(records), 0), coalesce(sum(shared), 0) FROM rollup_touches
WHERE site = ` + p.Add(site) + ` AND hour >= ` + p.Add(d.Time(plan.rolledFrom)) + ` AND hour < ` + p.Add(d.Time(plan.rolledTo))
	var r, s int64
	if err := query(ctx, sql, p.Args, func(scan func(...any) error) error { return scan(&r, &s) }); err != nil {
		return 0, 0, fmt.Errorf("while counting the touchpoint rollups of site %q: %w", site, err)
	}
	return int(r), int(s), nil
}

// readTouchBlobs hands each blob of a plan's rolled hours but the
// skipped ones to blob, ascending.
func (d *AnalyticsDialect) readTouchBlobs(ctx context.Context, query QueryFunc, site string, plan readPlan, skip map[int64]bool, blob func(hour int64, data []byte) error) error {
	p := &Params{d: d}
	sql := `SELECT ` + d.Micros("hour") + `, touches FROM rollup_touches
WHERE site = ` + p.Add(site) + ` AND hour >= ` + p.Add(d.Time(plan.rolledFrom)) + ` AND hour < ` + p.Add(d.Time(plan.rolledTo)) + `
ORDER BY hour`
	err := query(ctx, sql, p.Args, func(scan func(...any) error) error {
		var hour int64
		var data []byte
		if err := scan(&hour, &data); err != nil {
			return err
		}
		if skip[hour] {
			return nil
		}
		return blob(hour, data)
	})
	if err != nil {
		return fmt.Errorf("while reading the touchpoint rollups of site %q: %w", site, err)
	}
	return nil
}

// settleRaw decides which raw rows that are their session's first in the
// raw parts may be touches, given the session's rolled rows: it drops
// those a rolled unshared row precedes, and returns errTouchConflict when
// an unshared row follows. Sessions with shared rows are settled as the
// points are emitted (touchedSessions).
func (d *AnalyticsDialect) settleRaw(ctx context.Context, query QueryFunc, site string, plan readPlan, skip map[int64]bool, raw []rawTouch) ([]bool, error) {
	ok := make([]bool, len(raw))
	var sessions []string
	for i, r := range raw {
		ok[i] = r.first
		if r.first && r.session != nil {
			sessions = append(sessions, *r.session)
		}
	}
	rolled, err := d.rolledRowsOf(ctx, query, site, plan, skip, sessions)
	if err != nil {
		return nil, err
	}
	for i, r := range raw {
		if !r.first || r.session == nil {
			continue
		}
		rows, found := rolled[*r.session]
		switch {
		case !found:
		case rows.unshared:
			if rows.unsharedHour >= floorHour(time.UnixMicro(r.at)).UnixMicro() {
				return nil, errTouchConflict
			}
			ok[i] = false
		}
	}
	return ok, nil
}

// rolledRows is what a session has in the rolled hours of a read.
type rolledRows struct {
	unshared     bool
	unsharedHour int64
}

// rolledRowsOf finds the rollup_sessions rows of the given sessions in
// the plan's rolled hours but the skipped ones.
func (d *AnalyticsDialect) rolledRowsOf(ctx context.Context, query QueryFunc, site string, plan readPlan, skip map[int64]bool, sessions []string) (map[string]rolledRows, error) {
	out := map[string]rolledRows{}
	for start := 0; start < len(sessions); start += touchSessionsPerStatement {
		p := &Params{d: d}
		sql := `SELECT session_id, ` + d.Micros("hour") + `, shared FROM rollup_sessions
WHERE site = ` + p.Add(site) + ` AND hour >= ` + p.Add(d.Time(plan.rolledFrom)) + ` AND hour < ` + p.Add(d.Time(plan.rolledTo)) + `
  AND session_id IN ` + inList(p, sessions[start:min(len(sessions), start+touchSessionsPerStatement)])
		err := query(ctx, sql, p.Args, func(scan func(...any) error) error {
			var (
				session      string
				hour, shared int64
			)
			if err := scan(&session, &hour, &shared); err != nil {
				return err
			}
			if skip[hour] {
				return nil
			}
			rows := out[session]
			if shared == 0 {
				rows.unshared, rows.unsharedHour = true, hour
			}
			out[session] = rows
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("while looking up the rolled sessions of site %q: %w", site, err)
		}
	}
	return out, nil
}

// addBlob appends the records of one hour's blob: shared sessions'
// touches only where they are the session's first; then it records the
// blob's identities.
func (b *touchSetBuilder) addBlob(data []byte, hour int64, touched touchedSessions) error {
	r, err := newTouchBlobReader(data, hour)
	if err != nil {
		return err
	}
	values := make([]int32, len(r.values))
	for i, v := range r.values {
		values[i] = b.valueOfBytes(v)
	}
	var rec blobRecord
	for {
		more, err := r.next(&rec)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		touch := rec.flags&blobTouch != 0
		if touch && rec.flags&blobShared != 0 {
			touch = touched.first(rec.session)
		}
		conv := rec.flags&blobConversion != 0
		if !touch && !conv {
			continue
		}
		b.set.Points = append(b.set.Points, TouchPoint{
			At: rec.at, Value: rec.value, Person: b.personOfRecord(&rec), Touch: touch, Conversion: conv,
			Channel: values[rec.channel], Source: values[rec.source], Campaign: values[rec.campaign],
		})
	}
	var id blobIdentity
	for {
		more, err := r.nextIdentity(&id)
		if err != nil || !more {
			return err
		}
		b.identifyBlob(&id)
	}
}

// valueOfBytes is value for bytes, allocating only for a new value.
func (b *touchSetBuilder) valueOfBytes(v []byte) int32 {
	if i, ok := b.values[string(v)]; ok {
		return i
	}
	return b.value(string(v))
}

// personOfRecord is who a blob record belongs to.
func (b *touchSetBuilder) personOfRecord(rec *blobRecord) int32 {
	switch {
	case rec.flags&blobUserNumber != 0:
		return b.personByNumber(&b.byUserNumber, rec.number)
	case rec.flags&blobVisitorNumber != 0:
		return b.personByNumber(&b.byNumber, rec.number)
	case rec.flags&blobUser != 0:
		return b.personByID(b.users, rec.who)
	case rec.flags&blobVisitorID != 0:
		return b.personByID(b.visitors, rec.who)
	}
	return b.personOfNobody()
}
