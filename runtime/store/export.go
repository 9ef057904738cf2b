package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
)

// Exporter streams a site's stored events.
type Exporter interface {
	// ExportEvents calls fn for each of the site's events matching the
	// filter, oldest first (received_at, then insertion order), reading in
	// pages so memory stays flat at any size. An error from fn ends the
	// export and is returned.
	//
	// Pages are separate statements, not one snapshot: an event stored
	// while the export runs may or may not be in it. One long transaction
	// would hold PostgreSQL's xmin back for the whole export, and with it
	// every forwarder's feed.
	ExportEvents(ctx context.Context, site string, filter ExportFilter, fn func(event.Event) error) error
}

// ExportFilter narrows an export; zero fields do not narrow it.
type ExportFilter struct {
	// VisitorID and UserID keep only the events carrying that id; both
	// set keep the events carrying both.
	VisitorID, UserID string
	// From keeps events received at or after it, To those received
	// before it.
	From, To time.Time
}

// Validate reports a range that ends before it starts.
func (f ExportFilter) Validate() error {
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return fmt.Errorf("export range ends (%v) before it starts (%v)", f.To, f.From)
	}
	return nil
}

// ExportPageSize is how many events an export reads per statement: large
// enough that paging costs little, small enough to keep memory flat.
const ExportPageSize = 1000

// ExportPosition is an event's place in the export order: its received_at
// and its insertion order (seq).
type ExportPosition struct {
	ReceivedAt time.Time
	Seq        int64
}

// ExportPageSQL returns the statement of one export page: at most limit
// events of the site after position after (nil: from the start), selecting
// EventColumns and then seq. The order is that of the (site, received_at,
// seq) index, so a page reads the index from where the last one stopped.
func (d *AnalyticsDialect) ExportPageSQL(site string, f ExportFilter, after *ExportPosition, limit int) (string, []any) {
	p := &Params{d: d}
	where := "e.site = " + p.Add(site)
	if f.VisitorID != "" {
		where += " AND e.visitor_id = " + p.Add(f.VisitorID)
	}
	if f.UserID != "" {
		where += " AND e.user_id = " + p.Add(f.UserID)
	}
	if !f.From.IsZero() {
		where += " AND e.received_at >= " + p.Add(d.Time(f.From))
	}
	if !f.To.IsZero() {
		where += " AND e.received_at < " + p.Add(d.Time(f.To))
	}
	if after != nil {
		// The range on received_at alone is what both databases read the
		// index with; the OR only drops the ties already exported.
		at := p.Add(d.Time(after.ReceivedAt))
		where += " AND e.received_at >= " + at + " AND (e.received_at > " + at + " OR e.seq > " + p.Add(after.Seq) + ")"
	}
	sql := `SELECT ` + EventColumns + `, e.seq FROM events e
WHERE ` + where + `
ORDER BY e.received_at, e.seq
LIMIT ` + strconv.Itoa(limit)
	return sql, p.Args
}

// ExportEvents streams a site's events, read with the store's scanEvent (a
// row of EventColumns); see Exporter. Each page is read completely before
// fn sees its events, so a slow consumer never holds a statement open.
func (a SQLAnalytics) ExportEvents(ctx context.Context, site string, f ExportFilter, scanEvent func(Scanner) (event.Event, error), fn func(event.Event) error) error {
	if site == "" {
		return errors.New("export without a site")
	}
	if err := f.Validate(); err != nil {
		return err
	}
	var after *ExportPosition
	page := make([]event.Event, 0, ExportPageSize)
	for {
		page = page[:0]
		var last ExportPosition
		sql, args := a.Dialect.ExportPageSQL(site, f, after, ExportPageSize)
		err := a.Query(ctx, sql, args, func(scan func(...any) error) error {
			e, err := scanEvent(withSeq{scan, &last.Seq})
			if err == nil {
				page = append(page, e)
				last.ReceivedAt = e.ReceivedAt
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("while exporting events of site %q: %w", site, err)
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < ExportPageSize {
			return nil
		}
		after = &last
	}
}

// withSeq scans a row of EventColumns followed by seq: a store's
// scanEvent sees the event's columns, seq goes to *seq.
type withSeq struct {
	scan func(dest ...any) error
	seq  *int64
}

func (w withSeq) Scan(dest ...any) error { return w.scan(append(dest, w.seq)...) }
