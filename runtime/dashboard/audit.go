package dashboard

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/trackstack/trackstack/runtime/dashboard/auth"
	"github.com/trackstack/trackstack/runtime/store"
)

// StoreAudit is an auth.Audit that writes to the store's audit log. A
// write that fails is logged and dropped: an audit log that is down must
// not lock people out of the dashboard.
type StoreAudit struct {
	Log    store.AuditLog
	Logger *slog.Logger
	// Timeout bounds one write (0: defaultAuditTimeout), so that a slow
	// database delays a sign-in by at most that much.
	Timeout time.Duration
}

var _ auth.Audit = (*StoreAudit)(nil)

// defaultAuditTimeout is how long a sign-in waits for its audit entry.
const defaultAuditTimeout = 3 * time.Second

// Record stores e. The write outlives the request's cancellation: a client
// that hangs up right after signing in still leaves its entry.
func (a *StoreAudit) Record(ctx context.Context, e auth.Entry) {
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = defaultAuditTimeout
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	err := a.Log.RecordAudit(ctx, store.AuditEntry{Site: e.Site, At: e.Time, Actor: e.Actor, Action: e.Action, Detail: e.Detail})
	if err != nil && a.Logger != nil {
		// The actor is left out: logs are kept and shipped more widely than
		// the audit log, and the entry's site, action and time find it.
		a.Logger.Error("cannot store an audit entry", "site", e.Site, "action", e.Action, "detail", e.Detail,
			"at", e.Time, "err", err)
	}
}

// errNoAuditLog answers the audit report of a dashboard whose store keeps
// no audit log.
var errNoAuditLog = errors.New("this dashboard keeps no audit log")

// AuditReport is the audit report: a site's newest audit entries.
type AuditReport struct {
	Entries []store.AuditEntry `json:"entries"`
}

// audit lists the site's newest audit entries (up to limit). The range and
// filters do not apply: they select visits, and the log is not one.
func (a *API) audit(ctx context.Context, p params) (any, [][]string, error) {
	if a.Audit == nil {
		return nil, nil, errNoAuditLog
	}
	entries, err := a.Audit.ListAudit(ctx, p.q.Site, p.limit)
	if err != nil {
		return nil, nil, err
	}
	if entries == nil {
		entries = []store.AuditEntry{}
	}
	table := [][]string{{"time", "actor", "action", "detail"}}
	for _, e := range entries {
		table = append(table, []string{e.At.Format(time.RFC3339), e.Actor, e.Action, e.Detail})
	}
	return AuditReport{Entries: entries}, table, nil
}
