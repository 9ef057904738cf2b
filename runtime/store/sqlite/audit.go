package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/trackstack/trackstack/runtime/store"
)

var _ store.AuditLog = (*Store)(nil)

// RecordAudit stores one audit entry; see store.AuditLog.
func (s *Store) RecordAudit(ctx context.Context, e store.AuditEntry) error {
	if err := store.ValidateAudit(e); err != nil {
		return fmt.Errorf("while recording an audit entry: %w", err)
	}
	_, err := s.writer.ExecContext(ctx, `INSERT INTO audit_log (site, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)`,
		e.Site, micros(e.At), e.Actor, e.Action, e.Detail)
	if err != nil {
		return fmt.Errorf("while recording an audit entry of site %q: %w", e.Site, classify(err))
	}
	return nil
}

// ListAudit returns a site's newest audit entries; see store.AuditLog. The
// ORDER BY reads the (site, at) index, whose rows end in the rowid,
// backwards.
func (s *Store) ListAudit(ctx context.Context, site string, limit int) ([]store.AuditEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT at, actor, action, detail FROM audit_log
WHERE site = ? ORDER BY at DESC, rowid DESC LIMIT ?`, site, limit)
	if err != nil {
		return nil, fmt.Errorf("while listing the audit log of site %q: %w", site, classify(err))
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		e := store.AuditEntry{Site: site}
		var at int64
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.Detail); err != nil {
			return nil, fmt.Errorf("while reading the audit log of site %q: %w", site, classify(err))
		}
		e.At = time.UnixMicro(at).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("while reading the audit log of site %q: %w", site, classify(err))
	}
	return out, nil
}
