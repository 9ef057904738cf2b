package retention_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/retention"
	"github.com/trackstack/trackstack/runtime/store/sqlite"
)

var now = time.Date(2026, 12, 2, 3, 17, 0, 0, time.UTC)

func ptr(v int32) *int32 { return &v }

func site(mode string, policies ...config.Retention) *config.Runtime {
	rt := &config.Runtime{Site: config.Site{Name: "shop"}, Retention: policies}
	rt.Privacy.IPAnonymization = mode
	return rt
}

func TestPlan(t *testing.T) {
	policy := config.Retention{Name: "p", MaxAgeDays: 395, AnonymizeIPAfterDays: ptr(7), DeletePIIAfterDays: ptr(0)}
	plan, cut := retention.Plan(site("none", policy), policy, now)
	if want := time.Date(2025, 11, 2, 3, 17, 0, 0, time.UTC); !plan.DeleteBefore.Equal(want) || !cut.DeleteBefore.Equal(want) {
		t.Errorf("DeleteBefore = %v, want %v (395 days)", plan.DeleteBefore, want)
	}
	if want := now.AddDate(0, 0, -7); !plan.AnonymizeIPBefore.Equal(want) || cut.AnonymizeIPBefore == nil {
		t.Errorf("AnonymizeIPBefore = %v, want %v", plan.AnonymizeIPBefore, want)
	}
	if !plan.ClearPIIBefore.Equal(now) {
		t.Errorf("deletePIIAfterDays 0 clears everything received before now, got %v", plan.ClearPIIBefore)
	}
	for _, c := range []struct{ mode, in, want string }{
		{"none", "203.0.113.77", "203.0.113.0"},
		{"truncate", "203.0.113.77", "203.0.113.0"},
		{"truncate", "2001:db8:1:2::7", "2001:db8:1::"},
		{"full", "203.0.113.77", ""},
		{"none", "not an ip", ""},
	} {
		plan, _ := retention.Plan(site(c.mode, policy), policy, now)
		if got := plan.AnonymizeIP(c.in); got != c.want {
			t.Errorf("mode %s: AnonymizeIP(%q) = %q, want %q", c.mode, c.in, got, c.want)
		}
	}
	bare := config.Retention{Name: "p", MaxAgeDays: 30}
	plan, cut = retention.Plan(site("", bare), bare, now)
	if !plan.AnonymizeIPBefore.IsZero() || !plan.ClearPIIBefore.IsZero() || cut.AnonymizeIPBefore != nil || cut.ClearPIIBefore != nil {
		t.Errorf("a policy without IP and PII ages plans %+v", plan)
	}
}

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func ev(id, visitor string, age time.Duration) event.Event {
	return event.Event{Site: "shop", EventID: id, Type: event.TypePageview, Source: event.SourceBrowser,
		VisitorID: visitor, IP: "203.0.113.77", UserID: "u-" + visitor,
		Timestamp: now.Add(-age), ReceivedAt: now.Add(-age)}
}

func TestRunDeletesErasesAndRecords(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	day := 24 * time.Hour
	if _, err := s.Insert(ctx, []event.Event{ev("old", "a", 40*day), ev("ip-age", "b", 10*day), ev("new", "c", time.Hour), ev("erase-me", "d", time.Hour)}); err != nil {
		t.Fatal(err)
	}
	policy := config.Retention{Name: "daily", MaxAgeDays: 30, AnonymizeIPAfterDays: ptr(7)}
	rt := site("none", policy)
	got, err := retention.RequestErasure(ctx, s, "shop", true, retention.Request{VisitorID: "d"}, "admin", now)
	if err != nil || got.Completed {
		t.Fatalf("RequestErasure with a policy = %+v, %v; want it pending for the run", got, err)
	}
	reg := prometheus.NewRegistry()
	m, err := retention.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := retention.Run(ctx, retention.Options{Store: s, Site: rt, Policy: policy, Now: now, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Changed.EventsDeleted != 1 || sum.Changed.IPsAnonymized != 1 || len(sum.Erasures) != 1 || sum.Erasures[0].EventsDeleted != 1 {
		t.Errorf("summary = %+v", sum)
	}
	left, _ := s.Recent(ctx, "shop", 10)
	var ids []string
	for _, e := range left {
		ids = append(ids, e.EventID+"@"+e.IP)
	}
	if fmt.Sprint(ids) != "[new@203.0.113.77 ip-age@203.0.113.0]" {
		t.Errorf("events left: %v", ids)
	}
	if n := testutil.ToFloat64(m.RowsCounter("shop", "events_deleted")); n != 1 {
		t.Errorf("events_deleted metric = %v, want 1", n)
	}
	run, ok, err := s.LastRetentionRun(ctx, "shop")
	if err != nil || !ok || run.Policy != "daily" || run.Error != "" {
		t.Fatalf("LastRetentionRun = %+v, %v, %v", run, ok, err)
	}
	var stored retention.Summary
	if err := json.Unmarshal(run.Summary, &stored); err != nil || stored.Changed != sum.Changed {
		t.Errorf("stored summary %s, %v; want %+v", run.Summary, err, sum.Changed)
	}
	lastRun := retention.LastRunCollector{Store: s, Site: "shop"}
	if err := testutil.CollectAndCompare(lastRun, strings.NewReader(`
# HELP trackstack_retention_last_run_success 1 when the last retention run succeeded, 0 when it failed.
# TYPE trackstack_retention_last_run_success gauge
trackstack_retention_last_run_success{policy="daily",site="shop"} 1
`), "trackstack_retention_last_run_success"); err != nil {
		t.Error(err)
	}
}

func TestDryRunRecordsNothing(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	if _, err := s.Insert(ctx, []event.Event{ev("old", "a", 40*24*time.Hour)}); err != nil {
		t.Fatal(err)
	}
	policy := config.Retention{Name: "daily", MaxAgeDays: 30}
	sum, err := retention.Run(ctx, retention.Options{Store: s, Site: site("", policy), Policy: policy, Now: now, DryRun: true})
	if err != nil || sum.Changed.EventsDeleted != 1 || !sum.DryRun {
		t.Fatalf("dry run = %+v, %v", sum, err)
	}
	if left, _ := s.Recent(ctx, "shop", 10); len(left) != 1 {
		t.Error("a dry run deleted an event")
	}
	if _, ok, _ := s.LastRetentionRun(ctx, "shop"); ok {
		t.Error("a dry run was recorded")
	}
}

func TestRequestErasure(t *testing.T) {
	ctx := context.Background()
	policy := config.Retention{Name: "daily", MaxAgeDays: 30}
	for _, c := range []struct {
		name    string
		rt      *config.Runtime
		req     retention.Request
		runsNow bool
	}{
		{"no policy runs at once", site(""), retention.Request{UserID: "u-a"}, true},
		{"immediate runs at once", site("", policy), retention.Request{UserID: "u-a", Immediate: true}, true},
		{"with a policy waits for the run", site("", policy), retention.Request{UserID: "u-a"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openStore(t)
			if _, err := s.Insert(ctx, []event.Event{ev("e1", "a", time.Hour), ev("e2", "b", time.Hour)}); err != nil {
				t.Fatal(err)
			}
			got, err := retention.RequestErasure(ctx, s, "shop", len(c.rt.Retention) > 0, c.req, "admin", now)
			if err != nil || got.Completed != c.runsNow {
				t.Fatalf("RequestErasure = %+v, %v; want completed %v", got, err, c.runsNow)
			}
			left, _ := s.Recent(ctx, "shop", 10)
			if want := map[bool]int{true: 1, false: 2}[c.runsNow]; len(left) != want {
				t.Errorf("%d events left, want %d", len(left), want)
			}
		})
	}
	s := openStore(t)
	for _, bad := range []retention.Request{{}, {VisitorID: "a", UserID: "b"}, {Email: "not an address"}} {
		if _, err := retention.RequestErasure(ctx, s, "shop", false, bad, "admin", now); !errors.Is(err, retention.ErrBadRequest) {
			t.Errorf("RequestErasure(%+v) = %v, want ErrBadRequest", bad, err)
		}
	}
	// An email is matched, and recorded, by its digest only.
	if _, err := retention.RequestErasure(ctx, s, "shop", true, retention.Request{Email: " Jo@Example.com "}, "admin", now); err != nil {
		t.Fatal(err)
	}
	pending, _ := s.PendingErasures(ctx, "shop")
	if len(pending) != 1 || strings.Contains(pending[0].Key, "@") || len(pending[0].Key) != 64 {
		t.Errorf("pending request holds %q, want the digest", pending[0].Key)
	}
}
