package service_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/service"
)

// roller records RollUp calls and fails for the sites in fail.
type roller struct {
	calls []string
	fail  map[string]bool
}

func (r *roller) RollUp(_ context.Context, site string, until time.Time) error {
	r.calls = append(r.calls, site+"@"+until.Format(time.RFC3339))
	if r.fail[site] {
		return errors.New("database on fire")
	}
	return nil
}

func TestRollUpOnce(t *testing.T) {
	now := time.Date(2026, 3, 10, 14, 5, 0, 0, time.UTC)
	r := &roller{fail: map[string]bool{"broken": true}}
	var logs bytes.Buffer
	service.RollUpOnce(context.Background(), r, []string{"shop", "broken", "blog"}, now, slog.New(slog.NewTextHandler(&logs, nil)))
	want := []string{"shop@2026-03-10T14:05:00Z", "broken@2026-03-10T14:05:00Z", "blog@2026-03-10T14:05:00Z"}
	if !reflect.DeepEqual(r.calls, want) {
		t.Errorf("RollUp calls = %v, want %v (a failing site must not stop the others)", r.calls, want)
	}
	if !strings.Contains(logs.String(), "site=broken") || strings.Contains(logs.String(), "site=shop") {
		t.Errorf("logs = %q, want one warning, for site broken", logs.String())
	}
}
