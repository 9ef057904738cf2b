package store

import (
	"context"
	"errors"
	"time"
)

// ErrInvalidAudit means an audit entry lacks what every entry needs.
var ErrInvalidAudit = errors.New("invalid audit entry")

// AuditEntry is one entry of a site's audit log: who signed in, failed to,
// or signed out of its dashboard. It holds no visitor's data: Actor is the
// dashboard user's own identity ("admin", an OIDC e-mail) or empty, Detail
// the sign-in method or why it failed.
type AuditEntry struct {
	Site   string    `json:"-"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Detail string    `json:"detail"`
}

// AuditLog stores the dashboard's audit log, per site.
type AuditLog interface {
	// RecordAudit stores e. Site, At and Action are required
	// (ErrInvalidAudit); At is kept to the microsecond.
	RecordAudit(ctx context.Context, e AuditEntry) error
	// ListAudit returns up to limit entries of site, newest first (by At,
	// then by the order they were recorded). A non-positive limit returns
	// none.
	ListAudit(ctx context.Context, site string, limit int) ([]AuditEntry, error)
}

// ValidateAudit checks what RecordAudit requires of e.
func ValidateAudit(e AuditEntry) error {
	switch {
	case e.Site == "":
		return errors.Join(ErrInvalidAudit, errors.New("no site"))
	case e.At.IsZero():
		return errors.Join(ErrInvalidAudit, errors.New("no time"))
	case e.Action == "":
		return errors.Join(ErrInvalidAudit, errors.New("no action"))
	}
	return nil
}
