package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// Recent returns the newest events of a site, newest first; see store.Store.
func (s *Store) Recent(ctx context.Context, site string, limit int) ([]event.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.reader.QueryContext(ctx, store.SelectEvents+` WHERE site = ? ORDER BY received_at DESC, rowid DESC LIMIT ?`, site, limit)
	if err != nil {
		return nil, fmt.Errorf("while listing recent events of site %q: %w", site, err)
	}
	defer rows.Close()
	var out []event.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("while reading recent events of site %q: %w", site, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("while reading recent events of site %q: %w", site, err)
	}
	return out, nil
}

// scanEvent reads one row of store.EventColumns.
func scanEvent(row interface{ Scan(...any) error }) (event.Event, error) {
	var sc eventScan
	if err := row.Scan(sc.dest()...); err != nil {
		return event.Event{}, err
	}
	return sc.event()
}

// eventScan holds one row of store.EventColumns while it is scanned, so
// that a query can read more columns beside them (dest, then event).
type eventScan struct {
	e                     event.Event
	typ, source           string
	received, occurred    int64
	value                 sql.NullFloat64
	clickIDs, user, props sql.NullString
}

// dest returns the scan destinations of store.EventColumns, in order.
func (sc *eventScan) dest() []any {
	e := &sc.e
	return []any{&e.Site, &sc.received, &e.EventID, &sc.typ, &e.Name, &sc.source, &sc.occurred,
		&e.VisitorID, &e.SessionID, &e.UserID, &e.URL, &e.Referrer,
		&e.UTM.Source, &e.UTM.Medium, &e.UTM.Campaign, &e.UTM.Term, &e.UTM.Content,
		&e.Channel, &sc.clickIDs, &sc.value, &e.Currency, &e.OrderID,
		&e.Consent.AdStorage, &e.Consent.AnalyticsStorage, &e.Consent.AdUserData, &e.Consent.AdPersonalization,
		&e.Device.Browser, &e.Device.OS, &e.Device.Type,
		&e.IP, &e.UserAgent, &e.Screen, &e.Language, &e.FBP, &e.FBC, &e.GAClientID,
		&sc.user, &sc.props}
}

// event returns the scanned event.
func (sc *eventScan) event() (event.Event, error) {
	e := sc.e
	e.Type, e.Source = event.Type(sc.typ), event.Source(sc.source)
	e.ReceivedAt, e.Timestamp = time.UnixMicro(sc.received).UTC(), time.UnixMicro(sc.occurred).UTC()
	if sc.value.Valid {
		v := sc.value.Float64
		e.Value = &v
	}
	return e, store.DecodeJSONColumns(&e, nullBytes(sc.clickIDs), nullBytes(sc.user), nullBytes(sc.props))
}

// nullBytes is a TEXT column's bytes, nil for NULL.
func nullBytes(s sql.NullString) []byte {
	if !s.Valid {
		return nil
	}
	return []byte(s.String)
}
