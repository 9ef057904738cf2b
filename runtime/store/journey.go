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
	// StitchByEmail also joins the visitors and users whose events carry
	// an email digest of the person's events (the site's
	// privacy.stitchByEmail); it is not a key of its own.
	StitchByEmail bool
}

// JourneyLookup finds a person's events.
type JourneyLookup interface {
	// Journey returns the events of the person key names, oldest first,
	// at most limit: the events of every visitor id and user id the
	// matching events carry, and of every visitor that used one of those
	// user ids (the same person on another device); with StitchByEmail,
	// also of every visitor and user whose events carry one of the
	// matching events' email digests. It never matches on anything but
	// these ids: no fingerprinting.
	Journey(ctx context.Context, site string, key JourneyKey, limit int) ([]event.Event, error)
}

// ErrJourneyKey means a JourneyKey sets no field or several.
var ErrJourneyKey = errors.New("name exactly one of visitor_id, user_id, email or order_id")

// JourneySQL returns the statement of a journey lookup, selecting
// EventColumns.
func (d *AnalyticsDialect) JourneySQL(site string, key JourneyKey, limit int) (string, []any, error) {
	p := &Params{d: d}
	siteP := p.Add(site)
	cte, _, err := d.personCTE(p, siteP, key)
	if err != nil {
		return "", nil, err
	}
	byEmail := ""
	if key.StitchByEmail {
		byEmail = ` OR ` + d.inSet("(e.user_data ->> 'em')", "SELECT m FROM emails")
	}
	sql := cte + `
SELECT ` + EventColumns + ` FROM events e
WHERE e.site = ` + siteP + ` AND (` + d.inSet("e.visitor_id", "SELECT v FROM visitors") + ` OR ` + d.inSet("e.user_id", "SELECT u FROM users") + byEmail + `)
ORDER BY e.received_at, e.seq
LIMIT ` + strconv.Itoa(limit)
	return sql, p.Args, nil
}

// PersonSQL returns the statement listing every event of the person key
// names, for erasure: the journey's events, and those that match the key
// without carrying a visitor id or user id. It selects received_at, seq,
// event_id; each row is also tagged with one of the person's visitor ids
// or user ids (kind 'v' or 'u', id) on rows of their own, where
// received_at and seq are NULL.
func (d *AnalyticsDialect) PersonSQL(site string, key JourneyKey) (string, []any, error) {
	p := &Params{d: d}
	siteP := p.Add(site)
	cte, cond, err := d.personCTE(p, siteP, key)
	if err != nil {
		return "", nil, err
	}
	sql := cte + `
SELECT e.received_at, e.seq, e.event_id, CAST(NULL AS TEXT), CAST(NULL AS TEXT) FROM events e
WHERE e.site = ` + siteP + ` AND (` + d.inSet("e.visitor_id", "SELECT v FROM visitors") + ` OR ` + d.inSet("e.user_id", "SELECT u FROM users") + ` OR ` + cond + `)
UNION ALL SELECT NULL, NULL, NULL, 'v', v FROM visitors
UNION ALL SELECT NULL, NULL, NULL, 'u', u FROM users`
	return sql, p.Args, nil
}

// personCTE finds a person: the visitor ids and user ids of the events
// that match key, and every visitor that used one of those user ids (the
// same person on another device). It defines the tables users (u) and
// visitors (v), and returns the condition that matches key on events e.
func (d *AnalyticsDialect) personCTE(p *Params, siteP string, key JourneyKey) (cte, cond string, err error) {
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
		return "", "", ErrJourneyKey
	}
	// Stitching by email adds the ids of the events that share an email
	// digest with the matching ones; without it, emails is empty.
	emailUsers, emailVisitors, emails := "", "", `SELECT CAST(NULL AS TEXT) AS m WHERE 1 = 0`
	if key.StitchByEmail {
		emails = `SELECT DISTINCT em AS m FROM seed WHERE em IS NOT NULL`
		emailUsers = `
    UNION
    SELECT e.user_id FROM events e WHERE e.site = ` + siteP + ` AND ` + d.inSet("(e.user_data ->> 'em')", "SELECT m FROM emails") + ` AND e.user_id IS NOT NULL`
		emailVisitors = `
    UNION
    SELECT e.visitor_id FROM events e WHERE e.site = ` + siteP + ` AND ` + d.inSet("(e.user_data ->> 'em')", "SELECT m FROM emails") + ` AND e.visitor_id IS NOT NULL`
	}
	cte = `WITH seed AS (
    SELECT e.visitor_id, e.user_id, (e.user_data ->> 'em') AS em FROM events e WHERE e.site = ` + siteP + ` AND ` + cond + `
), emails AS (
    ` + emails + `
), users AS (
    SELECT DISTINCT user_id AS u FROM seed WHERE user_id IS NOT NULL` + emailUsers + `
), visitors AS (
    SELECT visitor_id AS v FROM seed WHERE visitor_id IS NOT NULL
    UNION
    SELECT e.visitor_id FROM events e WHERE e.site = ` + siteP + ` AND ` + d.inSet("e.user_id", "SELECT u FROM users") + ` AND e.visitor_id IS NOT NULL` + emailVisitors + `
)`
	return cte, cond, nil
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

// inSet is a condition that expr is one of the rows of query (one column,
// a few rows: one person's ids). PostgreSQL evaluates ARRAY(query) once;
// as "expr IN (query)" inside an OR it planned a scan of the query per
// event, which took 22 s for a journey among 1M events.
func (d *AnalyticsDialect) inSet(expr, query string) string {
	if d.InSetAsArray {
		return expr + " = ANY(ARRAY(" + query + "))"
	}
	return expr + " IN (" + query + ")"
}
