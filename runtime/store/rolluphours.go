package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// The second tier of the rollups (see rollups.go): rollup_hours holds, per
// site, UTC hour and dimension values, the sums of the sessions whole in
// the hour (rollup_sessions rows that are their session's only row, and
// spans not split that start there), and a bitmap of the numbers
// (rollup_visitors) of the visitors of all its rows; rollup_hours_all
// holds the same per hour over all dimension values. Both are rebuilt
// whenever rows or spans of their hour change.

// hourKey is a rollup_hours row's hour and dimension values.
type hourKey struct {
	hour                      int64 // microseconds
	source                    string
	channel, campaign, device sql.NullString // NULL when the events had none
}

// hourSums is what a rollup_hours row holds.
type hourSums struct {
	sessions, bounces, pageviews, conversions int64
	secs, revenue                             float64
	visitors                                  *roaring.Bitmap
}

// add adds o's sums (not its visitors) to s's.
func (s *hourSums) add(o hourSums) {
	s.sessions += o.sessions
	s.bounces += o.bounces
	s.secs += o.secs
	s.pageviews += o.pageviews
	s.conversions += o.conversions
	s.revenue += o.revenue
}

// tierRowsPerInsert bounds the rows of one INSERT of rollup_hours, well
// within both databases' limits on parameters.
const tierRowsPerInsert = 200

// numberVisitors gives the visitors of a site's rollup rows of [lo, hi)
// that have no number yet the next numbers of the site, so that each
// site's numbers stay dense and its bitmaps small.
func (d *AnalyticsDialect) numberVisitors(ctx context.Context, tx RollupTx, site string, lo, hi time.Time) error {
	// The site's largest number first, in its own statement: joined into
	// the INSERT, a planner that underestimates the new rows (statistics
	// lag behind a roll-up) may recompute it for each of them.
	var base int64
	p := &Params{d: d}
	last := `SELECT coalesce(max(n), 0) FROM rollup_visitors WHERE site = ` + p.Add(site)
	if err := tx.Query(ctx, last, p.Args, func(scan func(...any) error) error { return scan(&base) }); err != nil {
		return fmt.Errorf("while reading the last visitor number of site %q: %w", site, err)
	}
	p = &Params{d: d}
	s := p.Add(site)
	sql := `INSERT INTO rollup_visitors (site, visitor_id, n)
SELECT ` + s + `, nv.v, ` + p.Add(base) + ` + row_number() OVER (ORDER BY nv.v)
FROM (SELECT DISTINCT r.visitor_id AS v FROM rollup_sessions r
      WHERE r.site = ` + s + ` AND r.hour >= ` + p.Add(d.Time(lo)) + ` AND r.hour < ` + p.Add(d.Time(hi)) + `
        AND r.visitor_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM rollup_visitors m WHERE m.site = r.site AND m.visitor_id = r.visitor_id)) nv`
	if err := tx.Exec(ctx, sql, p.Args); err != nil {
		return fmt.Errorf("while numbering the visitors of site %q from %v: %w", site, lo, err)
	}
	return nil
}

// rebuildTier replaces a site's rollup_hours and rollup_hours_all rows of
// [lo, hi) by the sums of its rollup_sessions rows and spans there. Their
// visitors must be numbered.
func (d *AnalyticsDialect) rebuildTier(ctx context.Context, tx RollupTx, site string, lo, hi time.Time) error {
	for _, table := range []string{"rollup_hours", "rollup_hours_all"} {
		p := &Params{d: d}
		del := `DELETE FROM ` + table + ` WHERE site = ` + p.Add(site) + ` AND hour >= ` + p.Add(d.Time(lo)) + ` AND hour < ` + p.Add(d.Time(hi))
		if err := tx.Exec(ctx, del, p.Args); err != nil {
			return fmt.Errorf("while clearing the hourly rollups of site %q from %v: %w", site, lo, err)
		}
	}
	sums, order, err := d.sumTier(ctx, tx, site, lo, hi)
	if err != nil {
		return err
	}
	allSums, allOrder := sumHours(sums, order)
	for _, rows := range []struct {
		keys []hourKey
		sums map[hourKey]*hourSums
		all  bool
	}{{order, sums, false}, {allOrder, allSums, true}} {
		for start := 0; start < len(rows.keys); start += tierRowsPerInsert {
			sql, args, err := d.insertTierSQL(site, rows.keys[start:min(len(rows.keys), start+tierRowsPerInsert)], rows.sums, rows.all)
			if err != nil {
				return err
			}
			if err := tx.Exec(ctx, sql, args); err != nil {
				return fmt.Errorf("while writing the hourly rollups of site %q from %v: %w", site, lo, err)
			}
		}
	}
	return nil
}

// sumHours adds up sums over the dimension values of each hour: the rows
// of rollup_hours_all, keyed by hours alone.
func sumHours(sums map[hourKey]*hourSums, order []hourKey) (map[hourKey]*hourSums, []hourKey) {
	all := map[hourKey]*hourSums{}
	var keys []hourKey
	for _, k := range order {
		s, h := sums[k], hourKey{hour: k.hour}
		a := all[h]
		if a == nil {
			a = &hourSums{visitors: roaring.New()}
			all[h] = a
			keys = append(keys, h)
		}
		a.add(*s)
		a.visitors.Or(s.visitors)
	}
	return all, keys
}

// sumTier reads a site's rollup_sessions rows of [lo, hi) and sums them
// per hour and dimension values, returning the keys in the order read.
func (d *AnalyticsDialect) sumTier(ctx context.Context, tx RollupTx, site string, lo, hi time.Time) (map[hourKey]*hourSums, []hourKey, error) {
	p := &Params{d: d}
	sql := `SELECT ` + d.Micros("r.hour") + `, r.source, r.channel, r.campaign, r.device, r.shared,
    r.events, r.pageviews, r.conversions, coalesce(r.revenue, 0), ` + d.Seconds("r.last_at", "r.first_at") + `, m.n
FROM rollup_sessions r LEFT JOIN rollup_visitors m ON m.site = r.site AND m.visitor_id = r.visitor_id
WHERE r.site = ` + p.Add(site) + ` AND r.hour >= ` + p.Add(d.Time(lo)) + ` AND r.hour < ` + p.Add(d.Time(hi))
	sums := map[hourKey]*hourSums{}
	var order []hourKey
	err := tx.Query(ctx, sql, p.Args, func(scan func(...any) error) error {
		var k hourKey
		var shared, events, pageviews, conversions int64
		var revenue, secs float64
		var n *int64
		if err := scan(&k.hour, &k.source, &k.channel, &k.campaign, &k.device, &shared,
			&events, &pageviews, &conversions, &revenue, &secs, &n); err != nil {
			return err
		}
		s := sums[k]
		if s == nil {
			s = &hourSums{visitors: roaring.New()}
			sums[k] = s
			order = append(order, k)
		}
		if n != nil {
			if *n < 0 || *n > math.MaxUint32 {
				return fmt.Errorf("visitor number %d out of a bitmap's range", *n)
			}
			s.visitors.Add(uint32(*n))
		}
		if shared != 0 {
			return nil
		}
		var bounce int64
		if events == 1 && pageviews == 1 {
			bounce = 1
		}
		s.add(hourSums{sessions: 1, bounces: bounce, secs: secs, pageviews: pageviews, conversions: conversions, revenue: revenue})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("while summing the rollups of site %q from %v: %w", site, lo, err)
	}
	p = &Params{d: d}
	spans := `SELECT ` + d.Micros("s.first_hour") + `, s.source, s.channel, s.campaign, s.device,
    s.bounces, s.secs, s.pageviews, s.conversions, s.revenue
FROM rollup_spans s
WHERE s.site = ` + p.Add(site) + ` AND s.split = 0 AND s.first_hour >= ` + p.Add(d.Time(lo)) + ` AND s.first_hour < ` + p.Add(d.Time(hi))
	err = tx.Query(ctx, spans, p.Args, func(scan func(...any) error) error {
		var k hourKey
		var bounces, pageviews, conversions int64
		var secs, revenue float64
		if err := scan(&k.hour, &k.source, &k.channel, &k.campaign, &k.device, &bounces, &secs, &pageviews, &conversions, &revenue); err != nil {
			return err
		}
		s := sums[k]
		if s == nil {
			// A span's first hour always has one of its rows.
			return fmt.Errorf("a session spanning rows starts at %v without a row there", time.UnixMicro(k.hour).UTC())
		}
		s.add(hourSums{sessions: 1, bounces: bounces, secs: secs, pageviews: pageviews, conversions: conversions, revenue: revenue})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("while summing the sessions of site %q from %v that span rows: %w", site, lo, err)
	}
	return sums, order, nil
}

// insertTierSQL is one INSERT of the rows of keys: into rollup_hours, or
// with all into rollup_hours_all (keys by hour alone).
func (d *AnalyticsDialect) insertTierSQL(site string, keys []hourKey, sums map[hourKey]*hourSums, all bool) (string, []any, error) {
	p := &Params{d: d}
	var b strings.Builder
	if all {
		b.WriteString(`INSERT INTO rollup_hours_all (site, hour,`)
	} else {
		b.WriteString(`INSERT INTO rollup_hours (site, hour, source, channel, campaign, device,`)
	}
	b.WriteString(` sessions, bounces, secs, pageviews, conversions, revenue, visitors) VALUES `)
	for i, k := range keys {
		s := sums[k]
		s.visitors.RunOptimize()
		bitmap, err := s.visitors.ToBytes()
		if err != nil {
			return "", nil, fmt.Errorf("while encoding a visitor bitmap: %w", err)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		values := []any{site, d.Time(time.UnixMicro(k.hour).UTC())}
		if !all {
			values = append(values, k.source, k.channel, k.campaign, k.device)
		}
		values = append(values, s.sessions, s.bounces, s.secs, s.pageviews, s.conversions, s.revenue, bitmap)
		b.WriteString(inList(p, values))
	}
	return b.String(), p.Args, nil
}

// forgetVisitors drops the numbers of the given visitors of a site that
// no rollup row holds any more (their events were deleted), so that no
// visitor id outlives its events in the rollups.
func (d *AnalyticsDialect) forgetVisitors(ctx context.Context, tx RollupTx, site string, ids []string) error {
	err := chunks(ids, func(chunk []string) error {
		p := &Params{d: d}
		sql := `DELETE FROM rollup_visitors WHERE site = ` + p.Add(site) + ` AND visitor_id IN ` + inList(p, chunk) + `
  AND NOT EXISTS (SELECT 1 FROM rollup_sessions r WHERE r.site = rollup_visitors.site AND r.visitor_id = rollup_visitors.visitor_id)`
		return tx.Exec(ctx, sql, p.Args)
	})
	if err != nil {
		return fmt.Errorf("while dropping the rollup numbers of deleted visitors of site %q: %w", site, err)
	}
	return nil
}

// readVisitors counts the distinct visitors per group of a read planned
// by r: the union of the visitor bitmaps of its rolled hours, the numbers
// of the raw events' visitors that have one, and the raw visitors that
// have none yet (they are in no bitmap).
func (d *AnalyticsDialect) readVisitors(ctx context.Context, query QueryFunc, q Query, bucket func(*Params) bucketFunc, r readPlan) (map[int64]int64, error) {
	bitmaps := map[int64][]*roaring.Bitmap{}
	sql, args := d.visitorTierSQL(q, bucket, r)
	err := query(ctx, sql, args, func(scan func(...any) error) error {
		var g int64
		var data []byte
		if err := scan(&g, &data); err != nil {
			return err
		}
		b := roaring.New()
		if err := b.UnmarshalBinary(data); err != nil {
			return fmt.Errorf("while decoding a visitor bitmap: %w", err)
		}
		bitmaps[g] = append(bitmaps[g], b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("while reading the visitor bitmaps of site %q: %w", q.Site, err)
	}
	numbered := map[int64]*roaring.Bitmap{}
	for g, bs := range bitmaps {
		numbered[g] = roaring.FastOr(bs...)
	}
	unnumbered := map[int64]map[string]bool{}
	sql, args = d.rawVisitorsSQL(q, bucket, r)
	err = query(ctx, sql, args, func(scan func(...any) error) error {
		var g int64
		var id string
		var n *int64
		if err := scan(&g, &id, &n); err != nil {
			return err
		}
		if n != nil {
			if numbered[g] == nil {
				numbered[g] = roaring.New()
			}
			numbered[g].Add(uint32(*n))
			return nil
		}
		if unnumbered[g] == nil {
			unnumbered[g] = map[string]bool{}
		}
		unnumbered[g][id] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("while reading the raw visitors of site %q: %w", q.Site, err)
	}
	counts := map[int64]int64{}
	for g, b := range numbered {
		counts[g] += int64(b.GetCardinality())
	}
	for g, ids := range unnumbered {
		counts[g] += int64(len(ids))
	}
	return counts, nil
}
