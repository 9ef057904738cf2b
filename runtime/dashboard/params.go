package dashboard

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/trackstack/trackstack/runtime/store"
)

// params are a report request's parameters, as the URL gives them, so a
// link shows a colleague the same view.
type params struct {
	q        store.Query
	goals    []store.Goal
	csv      bool
	interval string // hour or day
	step     time.Duration
	limit    int
	// by is the by parameter as given; each report that takes one checks it.
	by string
	// model and window are the attribution report's (model, window).
	model, window string
	// person are the journeys report's keys (visitor_id, user_id, email,
	// order_id), as given.
	person map[string]string
}

// Defaults and bounds of the parameters.
const (
	defaultRange = 30 * 24 * time.Hour
	maxRange     = 2 * 366 * 24 * time.Hour
	defaultLimit = 50
	maxLimit     = 1000
	// maxHourlyRange keeps an hourly series to at most 31 days of buckets.
	maxHourlyRange = 31 * 24 * time.Hour
)

// parseParams reads from, to (RFC 3339 or YYYY-MM-DD, in tz), tz (an IANA
// zone, default UTC), the filters, interval, by, limit and format. The
// range defaults to the 30 days up to now; a date as to means the end of
// that day.
func parseParams(r *http.Request, site string, goals []store.Goal, now time.Time) (params, error) {
	v := r.URL.Query()
	p := params{goals: goals, limit: defaultLimit, by: v.Get("by"), model: v.Get("model"), window: v.Get("window"), person: map[string]string{}}
	for _, k := range []string{"visitor_id", "user_id", "email", "order_id"} {
		if x := v.Get(k); x != "" {
			p.person[k] = x
		}
	}
	loc := time.UTC
	if tz := v.Get("tz"); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return p, fmt.Errorf("tz %q is not a time zone such as Europe/Berlin", tz)
		}
		loc = l
	}
	to, err := parseTime(v.Get("to"), loc, true)
	if err != nil {
		return p, fmt.Errorf("to: %w", err)
	}
	if to.IsZero() {
		to = now
	}
	from, err := parseTime(v.Get("from"), loc, false)
	if err != nil {
		return p, fmt.Errorf("from: %w", err)
	}
	if from.IsZero() {
		from = to.Add(-defaultRange)
	}
	switch {
	case !from.Before(to):
		return p, fmt.Errorf("from (%s) must be before to (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	case to.Sub(from) > maxRange:
		return p, fmt.Errorf("the range is %s; at most two years", to.Sub(from).Round(time.Hour))
	}
	p.q = store.Query{Site: site, From: from, To: to, Location: loc, Filters: store.Filters{
		Page: v.Get("page"), Source: v.Get("source"), Channel: v.Get("channel"),
		Campaign: v.Get("campaign"), Device: v.Get("device"),
	}}
	if err := p.parseShape(v.Get("format"), v.Get("interval"), v.Get("limit")); err != nil {
		return p, err
	}
	return p, nil
}

// parseShape reads format, interval and limit.
func (p *params) parseShape(format, interval, limit string) error {
	switch format {
	case "", "json":
	case "csv":
		p.csv = true
	default:
		return fmt.Errorf("format %q is not json or csv", format)
	}
	switch interval {
	case "":
		p.interval, p.step = "day", 24*time.Hour
		if p.q.To.Sub(p.q.From) <= 48*time.Hour {
			p.interval, p.step = "hour", time.Hour
		}
	case "day":
		p.interval, p.step = "day", 24*time.Hour
	case "hour":
		if p.q.To.Sub(p.q.From) > maxHourlyRange {
			return fmt.Errorf("interval hour takes a range of at most 31 days")
		}
		p.interval, p.step = "hour", time.Hour
	default:
		return fmt.Errorf("interval %q is not hour or day", interval)
	}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > maxLimit {
			return fmt.Errorf("limit %q is not a number from 1 to %d", limit, maxLimit)
		}
		p.limit = n
	}
	return nil
}

// previous is the same query over the period of the same length just
// before, for comparisons.
func (p params) previous() store.Query {
	q := p.q
	d := q.To.Sub(q.From)
	q.From, q.To = q.From.Add(-d), q.From
	return q
}

// parseTime reads RFC 3339 or a date in loc; a date as the end of a range
// means the end of that day. "" is the zero time.
func parseTime(s string, loc *time.Location, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-11-01T00:00:00Z) nor a date (2026-11-01)", s)
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}
