package dashboard

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestParseParams(t *testing.T) {
	now := time.Date(2026, 11, 20, 15, 4, 5, 0, time.UTC)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tests := []struct {
		query          string
		from, to       time.Time
		interval       string
		wantErrContain string
	}{
		{"", now.Add(-30 * 24 * time.Hour), now, "day", ""},
		{"from=2026-11-01&to=2026-11-01", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), "hour", ""},
		{"from=2026-10-25&to=2026-10-25&tz=Europe/Berlin", time.Date(2026, 10, 25, 0, 0, 0, 0, berlin), time.Date(2026, 10, 26, 0, 0, 0, 0, berlin), "hour", ""},
		{"from=2026-11-01T10:00:00Z&to=2026-11-03T10:00:00Z&interval=day", time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC), "day", ""},
		{"from=yesterday", time.Time{}, time.Time{}, "", "from: \"yesterday\" is neither RFC 3339"},
		{"from=2026-11-02&to=2026-11-01", time.Time{}, time.Time{}, "", "must be before to"},
		{"from=2020-01-01", time.Time{}, time.Time{}, "", "at most two years"},
		{"tz=Mars/Olympus", time.Time{}, time.Time{}, "", "tz \"Mars/Olympus\" is not a time zone"},
		{"format=xml", time.Time{}, time.Time{}, "", "format \"xml\""},
		{"from=2026-09-01&interval=hour", time.Time{}, time.Time{}, "", "interval hour takes a range of at most 31 days"},
		{"limit=0", time.Time{}, time.Time{}, "", "limit \"0\""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/v1/sites/shop/overview?"+tt.query, nil)
			p, err := parseParams(r, "shop", nil, now)
			if tt.wantErrContain != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrContain) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErrContain)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !p.q.From.Equal(tt.from) || !p.q.To.Equal(tt.to) || p.interval != tt.interval {
				t.Fatalf("range %s..%s (%s), want %s..%s (%s)", p.q.From, p.q.To, p.interval, tt.from, tt.to, tt.interval)
			}
		})
	}
}

func TestPreviousPeriod(t *testing.T) {
	r := httptest.NewRequest("GET", "/?from=2026-11-10&to=2026-11-19", nil)
	p, err := parseParams(r, "shop", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	prev := p.previous()
	if want := time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC); !prev.From.Equal(want) || !prev.To.Equal(p.q.From) {
		t.Fatalf("previous %s..%s, want %s..%s", prev.From, prev.To, want, p.q.From)
	}
}
