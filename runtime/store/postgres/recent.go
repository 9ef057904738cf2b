package postgres

import (
	"context"
	"fmt"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// recentEventsSQL lists a site's newest events ($1 site, $2 limit). The
// ORDER BY must match the (site, received_at, seq) index, read backwards, so
// that the newest page is read without sorting a partition; the plan test
// EXPLAINs this very statement.
const recentEventsSQL = store.SelectEvents + ` WHERE site = $1 ORDER BY received_at DESC, seq DESC LIMIT $2`

// Recent returns the newest events of a site, newest first; see store.Store.
func (s *Store) Recent(ctx context.Context, site string, limit int) ([]event.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, recentEventsSQL, site, limit)
	if err != nil {
		return nil, fmt.Errorf("while listing recent events of site %q: %w", site, classify(err))
	}
	defer rows.Close()
	var out []event.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("while reading recent events of site %q: %w", site, classify(err))
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("while reading recent events of site %q: %w", site, classify(err))
	}
	return out, nil
}

// scanEvent reads one row of store.EventColumns.
func scanEvent(rows interface{ Scan(...any) error }) (event.Event, error) {
	var sc eventScan
	if err := rows.Scan(sc.dest()...); err != nil {
		return event.Event{}, err
	}
	return sc.event()
}

// eventScan holds one row of store.EventColumns while it is scanned, so
// that a query can read more columns beside them (dest, then event).
type eventScan struct {
	e                     event.Event
	typ, source           string
	clickIDs, user, props []byte
}

// dest returns the scan destinations of store.EventColumns, in order.
func (sc *eventScan) dest() []any {
	e := &sc.e
	return []any{&e.Site, &e.ReceivedAt, &e.EventID, &sc.typ, &e.Name, &sc.source, &e.Timestamp,
		&e.VisitorID, &e.SessionID, &e.UserID, &e.URL, &e.Referrer,
		&e.UTM.Source, &e.UTM.Medium, &e.UTM.Campaign, &e.UTM.Term, &e.UTM.Content,
		&e.Channel, &sc.clickIDs, &e.Value, &e.Currency, &e.OrderID,
		&e.Consent.AdStorage, &e.Consent.AnalyticsStorage, &e.Consent.AdUserData, &e.Consent.AdPersonalization,
		&e.Device.Browser, &e.Device.OS, &e.Device.Type,
		&e.IP, &e.UserAgent, &e.Screen, &e.Language, &e.FBP, &e.FBC, &e.GAClientID,
		&sc.user, &sc.props}
}

// event returns the scanned event.
func (sc *eventScan) event() (event.Event, error) {
	e := sc.e
	e.Type, e.Source = event.Type(sc.typ), event.Source(sc.source)
	e.ReceivedAt, e.Timestamp = e.ReceivedAt.UTC(), e.Timestamp.UTC()
	return e, store.DecodeJSONColumns(&e, sc.clickIDs, sc.user, sc.props)
}
