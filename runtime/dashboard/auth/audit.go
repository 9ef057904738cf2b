package auth

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Actions recorded in the audit log.
const (
	ActionSignIn       = "sign_in"
	ActionSignInFailed = "sign_in_failed"
	ActionLogout       = "logout"
)

// Entry is one audited event.
type Entry struct {
	Time time.Time
	// Site is the site whose dashboard was signed into.
	Site string
	// Actor is who acted: "admin" or the OIDC e-mail of the signed-in
	// user; for a failed sign-in, who it claimed to be, if anyone.
	Actor string
	// Action is one of the Action constants.
	Action string
	// Detail says how (the method: "password", "basic", "oidc") or why a
	// sign-in failed. It never holds a visitor's data.
	Detail string
}

// Audit records sign-ins, failed sign-ins and logouts. Record must not
// block for long: it is called while answering the request.
type Audit interface {
	Record(ctx context.Context, e Entry)
}

// MemoryAudit keeps entries in memory. It is safe for concurrent use.
type MemoryAudit struct {
	mu      sync.Mutex
	entries []Entry
}

// Record appends e.
func (m *MemoryAudit) Record(_ context.Context, e Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
}

// Entries returns a copy of what was recorded, oldest first.
func (m *MemoryAudit) Entries() []Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.entries)
}

type discardAudit struct{}

func (discardAudit) Record(context.Context, Entry) {}
