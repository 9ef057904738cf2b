package store

import (
	"context"
	"time"
)

// Dimensions a report can break events down by.
const (
	DimPage     = "page"     // the URL's path
	DimSource   = "source"   // utm_source, else the referrer's host, else "(direct)"
	DimReferrer = "referrer" // the referrer's host
	DimChannel  = "channel"
	DimCampaign = "campaign" // utm_campaign
	DimDevice   = "device"   // device type: desktop, mobile, tablet, ...
	DimBrowser  = "browser"
	DimOS       = "os"
)

// Filters narrow a report to the events that match every set field (exact
// match; empty means any).
type Filters struct {
	Page     string `json:"page,omitempty"`
	Source   string `json:"source,omitempty"`
	Channel  string `json:"channel,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Device   string `json:"device,omitempty"`
}

// Query selects a site's events received in [From, To), with filters.
// Location is the site's time zone for day buckets (nil: UTC).
type Query struct {
	Site     string
	From, To time.Time
	Filters  Filters
	Location *time.Location
}

// Totals are a site's numbers over a query's range. A session counts when
// it has at least one matching event in range; a bounce is a session with
// one page view and no other event; duration is the time from a
// session's first to its last event in range.
type Totals struct {
	Visitors    int64   `json:"visitors"`
	Sessions    int64   `json:"sessions"`
	Pageviews   int64   `json:"pageviews"`
	BounceRate  float64 `json:"bounce_rate"`        // 0..1, 0 without sessions
	VisitSecs   float64 `json:"visit_duration_sec"` // mean per session
	Conversions int64   `json:"conversions"`        // events of type conversion
	Revenue     float64 `json:"revenue"`            // sum of conversion values (refunds negative)
}

// Point is one bucket of a time series.
type Point struct {
	Start time.Time `json:"start"`
	Totals
}

// Row is one value of a dimension with its numbers.
type Row struct {
	Value       string  `json:"value"`
	Visitors    int64   `json:"visitors"`
	Pageviews   int64   `json:"pageviews"`
	Conversions int64   `json:"conversions"`
	Revenue     float64 `json:"revenue"`
}

// Goal is a site's conversion goal: events of a name, or page views of a
// path, where a trailing * matches any rest ("/welcome*").
type Goal struct {
	Name  string
	Event string
	Path  string
}

// GoalRow is how a goal did over a query's range.
type GoalRow struct {
	Name        string  `json:"name"`
	Visitors    int64   `json:"visitors"`    // distinct visitors who completed it
	Completions int64   `json:"completions"` // matching events
	Revenue     float64 `json:"revenue"`     // sum of their values
	// ConversionRate is Visitors over the range's visitors, 0..1.
	ConversionRate float64 `json:"conversion_rate"`
}

// Analytics is what the dashboard needs of the store. Every call reads
// one site only.
type Analytics interface {
	// Totals returns the numbers over the query's range.
	Totals(ctx context.Context, q Query) (Totals, error)
	// Series returns the numbers per bucket of step (time.Hour or 24h; day
	// buckets start at midnight in q.Location), every bucket of the range
	// included, empty ones with zeros.
	Series(ctx context.Context, q Query, step time.Duration) ([]Point, error)
	// Breakdown returns the top limit values of a dimension by visitors
	// (then pageviews, then value), "" shown as "(none)".
	Breakdown(ctx context.Context, q Query, dim string, limit int) ([]Row, error)
	// Goals returns each goal's numbers, in the order given.
	Goals(ctx context.Context, q Query, goals []Goal) ([]GoalRow, error)
}
