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
	var (
		e                     event.Event
		typ, source           string
		received, occurred    int64
		value                 sql.NullFloat64
		clickIDs, user, props sql.NullString
	)
	err := row.Scan(&e.Site, &received, &e.EventID, &typ, &e.Name, &source, &occurred,
		&e.VisitorID, &e.SessionID, &e.UserID, &e.URL, &e.Referrer,
		&e.UTM.Source, &e.UTM.Medium, &e.UTM.Campaign, &e.UTM.Term, &e.UTM.Content,
		&e.Channel, &clickIDs, &value, &e.Currency, &e.OrderID,
		&e.Consent.AdStorage, &e.Consent.AnalyticsStorage, &e.Consent.AdUserData, &e.Consent.AdPersonalization,
		&e.Device.Browser, &e.Device.OS, &e.Device.Type,
		&e.IP, &e.UserAgent, &e.Screen, &e.Language, &e.FBP, &e.FBC, &e.GAClientID,
		&user, &props)
	if err != nil {
		return e, err
	}
	e.Type, e.Source = event.Type(typ), event.Source(source)
	e.ReceivedAt, e.Timestamp = time.UnixMicro(received).UTC(), time.UnixMicro(occurred).UTC()
	if value.Valid {
		v := value.Float64
		e.Value = &v
	}
	return e, store.DecodeJSONColumns(&e, nullBytes(clickIDs), nullBytes(user), nullBytes(props))
}

// nullBytes is a TEXT column's bytes, nil for NULL.
func nullBytes(s sql.NullString) []byte {
	if !s.Valid {
		return nil
	}
	return []byte(s.String)
}
