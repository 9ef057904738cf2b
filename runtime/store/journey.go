package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/trackstack/trackstack/runtime/event"
)

// JourneyKey finds a person: exactly one field is set. EmailSHA256 is the
// stored digest of the email (Meta's normalization, as ingest stores it):
// the raw address is never stored, so a lookup hashes it first.
type JourneyKey struct {
	VisitorID   string
	UserID      string
	EmailSHA256 string
	OrderID     string
}

// JourneyLookup finds a person's events.
type JourneyLookup interface {
	// Journey returns the events of the person key names, oldest first,
	// at most limit: the events of every visitor id and user id the
	// matching events carry, and of every visitor that used one of those
	// user ids (the same person on another device). It never matches on
	// anything but these ids: no fingerprinting.
	Journey(ctx context.Context, site string, key JourneyKey, limit int) ([]event.Event, error)
}

// ErrJourneyKey means a JourneyKey sets no field or several.
var ErrJourneyKey = errors.New("name exactly one of visitor_id, user_id, email or order_id")

// JourneySQL returns the statement of a journey lookup, selecting
// EventColumns.
func (d *AnalyticsDialect) JourneySQL(site string, key JourneyKey, limit int) (string, []any, error) {
	p := &Params{d: d}
	siteP := p.Add(site)
	var cond string
	n := 0
	for _, c := range []struct{ expr, v string }{
		{"e.visitor_id", key.VisitorID}, {"e.user_id", key.UserID},
		{"(e.user_data ->> 'em')", key.EmailSHA256}, {"e.order_id", key.OrderID},
	} {
		if c.v != "" {
			cond, n = c.expr+" = "+p.Add(c.v), n+1
		}
	}
	if n != 1 {
		return "", nil, ErrJourneyKey
	}
	sql := `WITH seed AS (
    SELECT e.visitor_id, e.user_id FROM events e WHERE e.site = ` + siteP + ` AND ` + cond + `
), users AS (
    SELECT DISTINCT user_id AS u FROM seed WHERE user_id IS NOT NULL
), visitors AS (
    SELECT visitor_id AS v FROM seed WHERE visitor_id IS NOT NULL
    UNION
    SELECT e.visitor_id FROM events e WHERE e.site = ` + siteP + ` AND e.user_id IN (SELECT u FROM users) AND e.visitor_id IS NOT NULL
)
SELECT ` + EventColumns + ` FROM events e
WHERE e.site = ` + siteP + ` AND (e.visitor_id IN (SELECT v FROM visitors) OR e.user_id IN (SELECT u FROM users))
ORDER BY e.received_at, e.seq
LIMIT ` + strconv.Itoa(limit)
	return sql, p.Args, nil
}

// Scanner reads one row; both SQL stores' row types have this method.
type Scanner interface{ Scan(dest ...any) error }

// scanFunc adapts a QueryFunc row's scan to Scanner.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// Journey returns a person's events, read with the store's scanEvent (a
// row of EventColumns); see JourneyLookup.
func (a SQLAnalytics) Journey(ctx context.Context, site string, key JourneyKey, limit int, scanEvent func(Scanner) (event.Event, error)) ([]event.Event, error) {
	sql, args, err := a.Dialect.JourneySQL(site, key, limit)
	if err != nil {
		return nil, err
	}
	var out []event.Event
	err = a.Query(ctx, sql, args, func(scan func(...any) error) error {
		e, err := scanEvent(scanFunc(scan))
		if err == nil {
			out = append(out, e)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("while reading a journey of site %q: %w", site, err)
	}
	return out, nil
}
