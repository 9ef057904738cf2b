package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

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
func scanEvent(rows pgx.Rows) (event.Event, error) {
	var (
		e                     event.Event
		typ, source           string
		clickIDs, user, props []byte
	)
	err := rows.Scan(&e.Site, &e.ReceivedAt, &e.EventID, &typ, &e.Name, &source, &e.Timestamp,
		&e.VisitorID, &e.SessionID, &e.UserID, &e.URL, &e.Referrer,
		&e.UTM.Source, &e.UTM.Medium, &e.UTM.Campaign, &e.UTM.Term, &e.UTM.Content,
		&e.Channel, &clickIDs, &e.Value, &e.Currency, &e.OrderID,
		&e.Consent.AdStorage, &e.Consent.AnalyticsStorage, &e.Consent.AdUserData, &e.Consent.AdPersonalization,
		&e.Device.Browser, &e.Device.OS, &e.Device.Type,
		&e.IP, &e.UserAgent, &e.Screen, &e.Language, &e.FBP, &e.FBC, &e.GAClientID,
		&user, &props)
	if err != nil {
		return e, err
	}
	e.Type, e.Source = event.Type(typ), event.Source(source)
	e.ReceivedAt, e.Timestamp = e.ReceivedAt.UTC(), e.Timestamp.UTC()
	return e, store.DecodeJSONColumns(&e, clickIDs, user, props)
}
