package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/retention"
	"github.com/trackstack/trackstack/runtime/store/sqlite"
)

const retentionSite = `apiVersion: trackstack.dev/v1alpha1
kind: TrackingSite
metadata: {name: shop}
spec:
  domains: [shop.example.com]
---
apiVersion: trackstack.dev/v1alpha1
kind: RetentionPolicy
metadata: {name: daily}
spec:
  siteRef: {name: shop}
  maxAgeDays: 30
  anonymizeIPAfterDays: 7
`

// standaloneData writes the files of a standalone stack with one site and
// a policy, and a database holding an event of each age in days.
func standaloneData(t *testing.T, now time.Time, ages ...int) (files, data string) {
	t.Helper()
	dir := t.TempDir()
	files, data = filepath.Join(dir, "site.yaml"), filepath.Join(dir, "data")
	if err := os.WriteFile(files, []byte(retentionSite), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(data, "trackstack.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	var in []event.Event
	for _, d := range ages {
		at := now.AddDate(0, 0, -d)
		in = append(in, event.Event{Site: "shop", EventID: fmt.Sprintf("age-%d", d), Type: event.TypePageview,
			Source: event.SourceBrowser, IP: "203.0.113.77", Timestamp: at, ReceivedAt: at})
	}
	if _, err := st.Insert(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	return files, data
}

func storedIPs(t *testing.T, data string) []string {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(data, "trackstack.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events, err := st.Recent(context.Background(), "shop", 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		out = append(out, e.IP)
	}
	return out
}

func TestRetentionCommand(t *testing.T) {
	now := time.Date(2026, 12, 2, 3, 17, 0, 0, time.UTC)
	files, data := standaloneData(t, now, 1, 10, 40, 50)
	args := []string{"retention", "--policy", "daily", "-f", files, "--data", data, "--now", now.Format(time.RFC3339)}

	code, out, errOut := runCmd(context.Background(), nil, append(args, "--dry-run")...)
	var dry retention.Summary
	if code != exitOK || json.Unmarshal([]byte(out), &dry) != nil || !dry.DryRun || dry.Changed.EventsDeleted != 2 || dry.Changed.IPsAnonymized != 1 {
		t.Fatalf("dry run: exit %d, %s\n%s", code, out, errOut)
	}
	if ips := storedIPs(t, data); len(ips) != 4 {
		t.Fatalf("the dry run changed the store: %v", ips)
	}

	code, out, errOut = runCmd(context.Background(), nil, args...)
	var sum retention.Summary
	if code != exitOK || json.Unmarshal([]byte(out), &sum) != nil || sum.Changed != dry.Changed || sum.Policy != "daily" || sum.Site != "shop" {
		t.Fatalf("run: exit %d, %s\n%s", code, out, errOut)
	}
	if ips := strings.Join(storedIPs(t, data), " "); ips != "203.0.113.77 203.0.113.0" {
		t.Errorf("after the run the store holds IPs %q, want the 1-day-old event's kept and the 10-day-old one's anonymized", ips)
	}
	if !strings.Contains(errOut, "retention run done") {
		t.Errorf("stderr does not report the run: %s", errOut)
	}
}

func TestRetentionCommandUsage(t *testing.T) {
	now := time.Date(2026, 12, 2, 3, 17, 0, 0, time.UTC)
	files, data := standaloneData(t, now, 1)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no policy", []string{"-f", files, "--data", data}, "--policy is required"},
		{"unknown policy", []string{"--policy", "weekly", "-f", files, "--data", data}, `no RetentionPolicy "weekly" (the configuration has: shop/daily)`},
		{"bad clock", []string{"--policy", "daily", "-f", files, "--data", data, "--now", "yesterday"}, "--now"},
		{"bad config", []string{"--policy", "daily", "--config", filepath.Join(t.TempDir(), "none.yaml")}, "none.yaml"},
	} {
		code, _, errOut := runCmd(context.Background(), nil, append([]string{"retention"}, c.args...)...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, %s; want %d and %q", c.name, code, errOut, exitUsage, c.want)
		}
	}
	code, _, errOut := runCmd(context.Background(), nil, "retention", "--policy", "daily", "-f", files, "--data", filepath.Join(t.TempDir(), "empty"))
	if code != exitFailure || !strings.Contains(errOut, "no database") {
		t.Errorf("a data directory without a database: exit %d, %s", code, errOut)
	}
}
