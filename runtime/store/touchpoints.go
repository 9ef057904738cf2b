package store

import (
	"context"
	"fmt"
	"time"
)

// Touchpoint is an event that counts for attribution: the first event of a
// session (how the visitor arrived that time), a conversion, or both.
type Touchpoint struct {
	// Who is the person: the user id when known (so journeys stitch across
	// devices), else the visitor id.
	Who        string
	At         time.Time
	Touch      bool // the first event of its session
	Conversion bool
	Value      float64
	Channel    string
	Source     string
	Campaign   string
}

// Journeys is what attribution needs of the store.
type Journeys interface {
	// Touchpoints returns the touchpoints of q's site received in
	// [q.From, q.To) that match q's filters, oldest first.
	Touchpoints(ctx context.Context, q Query) ([]Touchpoint, error)
}

// touchpointsSQL numbers each session's events to find its first; an event
// without a session id is a session of its own, as in the other reports.
func (d *AnalyticsDialect) touchpointsSQL(q Query) (string, []any) {
	p := &Params{d: d}
	where := d.where(p, q)
	return `SELECT who, at, n = 1, conv, value, channel, source, campaign FROM (
    SELECT coalesce(e.user_id, e.visitor_id, '') AS who, e.received_at AS at,
           CASE WHEN e.type = 'conversion' THEN 1 ELSE 0 END AS conv, coalesce(e.value, 0) AS value,
           coalesce(e.channel, '') AS channel, ` + d.source() + ` AS source, coalesce(e.utm_campaign, '') AS campaign,
           row_number() OVER (PARTITION BY coalesce(e.session_id, 'seq:' || e.seq) ORDER BY e.received_at, e.seq) AS n,
           e.seq AS seq
    FROM events e WHERE ` + where + `
) t WHERE conv = 1 OR n = 1
ORDER BY at, seq`, p.Args
}

// Touchpoints returns the touchpoints of a range; see Journeys.
func (a SQLAnalytics) Touchpoints(ctx context.Context, q Query) ([]Touchpoint, error) {
	if err := ValidateQuery(q); err != nil {
		return nil, err
	}
	sql, args := a.Dialect.touchpointsSQL(q)
	var out []Touchpoint
	err := a.Query(ctx, sql, args, func(scan func(...any) error) error {
		var (
			t         Touchpoint
			at, first any
			conv      int64
		)
		if err := scan(&t.Who, &at, &first, &conv, &t.Value, &t.Channel, &t.Source, &t.Campaign); err != nil {
			return err
		}
		var err error
		if t.At, err = timeOf(at); err != nil {
			return err
		}
		t.Touch = truth(first)
		t.Conversion = conv == 1
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("while reading touchpoints of site %q: %w", q.Site, err)
	}
	return out, nil
}

// timeOf reads a received_at as a store returns it: a time (PostgreSQL) or
// microseconds since the epoch (SQLite).
func timeOf(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), nil
	case int64:
		return time.UnixMicro(x).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("received_at of type %T", v)
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
