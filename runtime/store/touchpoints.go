package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// TouchSet is what attribution reads of a range: its touchpoints in time
// order. It is compact, as a 30-day range of a busy site holds millions of
// touchpoints: no string per point, people and dimension values numbered.
type TouchSet struct {
	// Points are in the order of received_at, then seq.
	Points []TouchPoint
	// Values are the channels, sources and campaigns the points name, by
	// their index, numbered in order of first appearance.
	Values []string
	// People is how many people the points belong to.
	People int
	// RolledHours is how many hours of the range came from rollups rather
	// than raw events (0 when the read took raw events only).
	RolledHours int
}

// TouchPoint is an event that counts for attribution: the first event of
// a session (how the visitor arrived that time), a conversion, or both.
type TouchPoint struct {
	// At is the received_at, in microseconds since the Unix epoch.
	At int64
	// Value is a conversion's value (refunds negative); 0 for a touch.
	Value float64
	// Person numbers who the event belongs to (0 to People-1, in order of
	// first appearance): the user id when the event has one, so journeys
	// stitch across devices; else the user its visitor id signed in as
	// in the range (touchidentity.go); else the visitor id. A user id and
	// a visitor id are never the same person, even when equal as strings.
	// Events with neither belong to one person.
	Person int32
	// Channel, Source and Campaign index Values: the event's channel, its
	// source as the reports name it, and its utm campaign ("" for none).
	Channel, Source, Campaign int32
	Touch, Conversion         bool
}

// Time is the point's received_at.
func (p TouchPoint) Time() time.Time { return time.UnixMicro(p.At).UTC() }

// Journeys is what attribution needs of the store.
type Journeys interface {
	// Touches returns the touchpoints of q's site received in
	// [q.From, q.To) that match q's filters. A session's touch is its
	// first event in the range that matches them.
	Touches(ctx context.Context, q Query) (*TouchSet, error)
}

// Touches reads a range's touchpoints; see Journeys. Without filters it
// reads the rollups where they are complete (touchrollups.go).
func (a SQLAnalytics) Touches(ctx context.Context, q Query) (*TouchSet, error) {
	if err := ValidateQuery(q); err != nil {
		return nil, err
	}
	var set *TouchSet
	var err error
	if a.Snapshot != nil && q.Filters == (Filters{}) {
		set, err = a.rolledTouches(ctx, q)
	} else {
		set, err = rawTouches(ctx, a.Query, a.Dialect, q)
	}
	if err != nil {
		return nil, fmt.Errorf("while reading touchpoints of site %q: %w", q.Site, err)
	}
	return set, nil
}

// rawTouch is a row of rawTouchesSQL.
type rawTouch struct {
	at, seq                   int64
	session                   *string
	first, conv               bool
	value                     float64
	user, visitor             *string
	number, userNumber        *int64
	channel, source, campaign string
}

// rawTouchesSQL selects the touchpoint candidates of the events of q's site
// in the pieces (each [lo, hi)) that match q's filters, oldest first: each
// session's first event there (first), and every conversion. An event
// without a session id is a session of its own. With numbered, each row
// carries its visitor's and its user's rollup numbers, when they have one.
func (d *AnalyticsDialect) rawTouchesSQL(q Query, pieces [][2]time.Time, numbered bool) (string, []any) {
	p := &Params{d: d}
	return d.touchCandidatesSQL(d.wherePieces(p, q, pieces), false, numbered), p.Args
}

// wherePieces is the condition on events e of q's site and filters in any
// of the pieces, each [lo, hi).
func (d *AnalyticsDialect) wherePieces(p *Params, q Query, pieces [][2]time.Time) string {
	conds := make([]string, len(pieces))
	for i, pc := range pieces {
		conds[i] = "(" + d.whereRange(p, q, pc[0], pc[1]) + ")"
	}
	return strings.Join(conds, " OR ")
}

// touchCandidatesSQL selects the touchpoint candidates of the events that
// match where: each session's first event (per UTC hour with byHour, whose
// rows then start with the hour in microseconds) and every conversion,
// oldest first, as rows of rawTouch.
func (d *AnalyticsDialect) touchCandidatesSQL(where string, byHour, numbered bool) string {
	number, userNumber := rollupNumbers(numbered)
	hour, partition, outer := d.hourParts(byHour)
	// The source, a pattern match on the referrer, is worked out for the
	// candidates only (the outer e is the inner query's rows).
	return `SELECT ` + outer + `, seq, session_id, n = 1, conv, value, user_id, visitor_id, ` + number + `, ` + userNumber + `, channel, ` + d.source() + `, campaign FROM (
    SELECT ` + hour + d.Micros("e.received_at") + ` AS at, e.seq AS seq, e.site AS site, e.session_id AS session_id,
           CASE WHEN e.type = 'conversion' THEN 1 ELSE 0 END AS conv, coalesce(e.value, 0) AS value,
           e.user_id AS user_id, e.visitor_id AS visitor_id,
           coalesce(e.channel, '') AS channel, e.utm_source AS utm_source, e.referrer AS referrer, coalesce(e.utm_campaign, '') AS campaign,
           row_number() OVER (PARTITION BY ` + partition + `coalesce(e.session_id, 'seq:' || e.seq) ORDER BY e.received_at, e.seq) AS n
    FROM events e WHERE ` + where + `
) e WHERE conv = 1 OR n = 1
ORDER BY ` + outer + `, seq`
}

// rollupNumbers are the expressions of the rollup numbers of the visitor
// and the user of the outer query's row e (NULL without numbered). They
// are looked up for the selected rows only, by the primary key: joined to
// every event, a planner may read all the site's numbers.
func rollupNumbers(numbered bool) (visitor, user string) {
	if !numbered {
		return "CAST(NULL AS bigint)", "CAST(NULL AS bigint)"
	}
	return "(SELECT m.n FROM rollup_visitors m WHERE m.site = e.site AND m.visitor_id = e.visitor_id)",
		"(SELECT u.n FROM rollup_users u WHERE u.site = e.site AND u.user_id = e.user_id)"
}

// hourParts are, with byHour, the inner query's hour column, the window
// partition's hour and the outer query's leading columns; without, only
// at leads.
func (d *AnalyticsDialect) hourParts(byHour bool) (hour, partition, outer string) {
	if !byHour {
		return "", "", "at"
	}
	return d.Micros(d.Hour) + " AS hour, ", d.Hour + ", ", "hour, at"
}

// scanRawTouch scans a row of touchCandidatesSQL after its hour, if any.
func scanRawTouch(scan func(...any) error, hour ...any) (rawTouch, error) {
	var (
		r     rawTouch
		first any
		conv  int64
	)
	dest := append(hour, &r.at, &r.seq, &r.session, &first, &conv, &r.value, &r.user, &r.visitor, &r.number,
		&r.userNumber, &r.channel, &r.source, &r.campaign)
	if err := scan(dest...); err != nil {
		return r, err
	}
	r.first, r.conv = truth(first), conv == 1
	return r, nil
}

// readRawTouches runs rawTouchesSQL.
func readRawTouches(ctx context.Context, query QueryFunc, d *AnalyticsDialect, q Query, pieces [][2]time.Time, numbered bool) ([]rawTouch, error) {
	sql, args := d.rawTouchesSQL(q, pieces, numbered)
	var out []rawTouch
	err := query(ctx, sql, args, func(scan func(...any) error) error {
		r, err := scanRawTouch(scan)
		out = append(out, r)
		return err
	})
	return out, err
}

// rawTouches reads a range's touchpoints from raw events alone.
func rawTouches(ctx context.Context, query QueryFunc, d *AnalyticsDialect, q Query) (*TouchSet, error) {
	whole := [][2]time.Time{{q.From, q.To}}
	rows, err := readRawTouches(ctx, query, d, q, whole, false)
	if err != nil {
		return nil, err
	}
	b := newTouchSetBuilder(len(rows))
	for _, r := range rows {
		b.addRaw(r, r.first)
	}
	if err := readIdentities(ctx, query, d, q, whole, false, b); err != nil {
		return nil, err
	}
	return b.done(), nil
}

// touchSetBuilder appends points to a TouchSet, numbering people and
// values in order of first appearance.
type touchSetBuilder struct {
	set    TouchSet
	values map[string]int32
	// A person's index + 1 by user id and by visitor id (those without a
	// rollup number), and by rollup visitor and user number; nobody's for
	// events with neither id.
	users, visitors        map[string]int32
	byNumber, byUserNumber []int32
	nobody                 int32
	// identities holds, by visitor person, the user it is stitched to.
	identities []identity
}

func newTouchSetBuilder(points int) *touchSetBuilder {
	return &touchSetBuilder{
		set:      TouchSet{Points: make([]TouchPoint, 0, points)},
		values:   map[string]int32{},
		users:    map[string]int32{},
		visitors: map[string]int32{},
	}
}

// done stitches visitors to their users (touchidentity.go) and returns
// the set.
func (b *touchSetBuilder) done() *TouchSet {
	b.stitch()
	return &b.set
}

// value is the index of a dimension value.
func (b *touchSetBuilder) value(v string) int32 {
	if i, ok := b.values[v]; ok {
		return i
	}
	i := int32(len(b.set.Values))
	b.values[v] = i
	b.set.Values = append(b.set.Values, v)
	return i
}

// newPerson numbers the next person.
func (b *touchSetBuilder) newPerson() int32 {
	b.set.People++
	return int32(b.set.People - 1)
}

// personByID is the person of an id in ids (users or visitors),
// allocating only for an id not seen yet.
func (b *touchSetBuilder) personByID(ids map[string]int32, id []byte) int32 {
	if i, ok := ids[string(id)]; ok {
		return i - 1
	}
	i := b.newPerson()
	ids[string(id)] = i + 1
	return i
}

// personOfNobody is the person of the events with neither id.
func (b *touchSetBuilder) personOfNobody() int32 {
	if b.nobody == 0 {
		b.nobody = b.newPerson() + 1
	}
	return b.nobody - 1
}

// personByNumber is the person of a rollup number in numbers (byNumber
// or byUserNumber).
func (b *touchSetBuilder) personByNumber(numbers *[]int32, n int64) int32 {
	if n >= int64(len(*numbers)) {
		grown := make([]int32, max(int(n)+1, 2*len(*numbers)))
		copy(grown, *numbers)
		*numbers = grown
	}
	if (*numbers)[n] == 0 {
		(*numbers)[n] = b.newPerson() + 1
	}
	return (*numbers)[n] - 1
}

// personOfRaw is who a raw event belongs to.
func (b *touchSetBuilder) personOfRaw(r rawTouch) int32 {
	switch {
	case r.userNumber != nil:
		return b.personByNumber(&b.byUserNumber, *r.userNumber)
	case r.user != nil:
		return b.personByID(b.users, []byte(*r.user))
	case r.number != nil:
		return b.personByNumber(&b.byNumber, *r.number)
	case r.visitor != nil:
		return b.personByID(b.visitors, []byte(*r.visitor))
	}
	return b.personOfNobody()
}

// addRaw appends a raw row, as a touch when touch; a row that is neither
// a touch nor a conversion adds nothing.
func (b *touchSetBuilder) addRaw(r rawTouch, touch bool) {
	if !touch && !r.conv {
		return
	}
	p := TouchPoint{At: r.at, Person: b.personOfRaw(r), Touch: touch, Conversion: r.conv,
		Channel: b.value(r.channel), Source: b.value(r.source), Campaign: b.value(r.campaign)}
	if r.conv {
		p.Value = r.value
	}
	b.set.Points = append(b.set.Points, p)
}

// truth reads a boolean expression as a store returns it: a bool
// (PostgreSQL) or 0/1 (SQLite).
func truth(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int64:
		return x != 0
	}
	return false
}
