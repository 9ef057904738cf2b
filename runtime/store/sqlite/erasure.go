package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trackstack/trackstack/runtime/store"
)

var _ store.Erasure = (*Store)(nil)

// RequestErasure records a request; see store.Erasure.
func (s *Store) RequestErasure(ctx context.Context, req store.ErasureRequest) (int64, error) {
	if err := req.Validate(); err != nil {
		return 0, err
	}
	res, err := s.writer.ExecContext(ctx, `INSERT INTO erasures (site, requested_at, requested_by, key_kind, key, suppress)
VALUES (?, ?, ?, ?, ?, ?)`, req.Site, micros(req.RequestedAt), req.RequestedBy, req.KeyKind, req.Key, req.Suppress)
	if err != nil {
		return 0, fmt.Errorf("while recording an erasure request of site %q: %w", req.Site, classify(err))
	}
	return res.LastInsertId()
}

// erasureColumns are read by scanErasure.
const erasureColumns = `id, requested_at, requested_by, key_kind, coalesce(key, ''), suppress, completed_at, coalesce(rows_removed, 0)`

// listErasures runs a query of erasureColumns.
func (s *Store) listErasures(ctx context.Context, site, query string, args ...any) ([]store.ErasureRequest, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+erasureColumns+` FROM erasures WHERE site = ? `+query, append([]any{site}, args...)...)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []store.ErasureRequest
	for rows.Next() {
		r := store.ErasureRequest{Site: site}
		var at int64
		var done sql.NullInt64
		if err := rows.Scan(&r.ID, &at, &r.RequestedBy, &r.KeyKind, &r.Key, &r.Suppress, &done, &r.RowsRemoved); err != nil {
			return nil, classify(err)
		}
		r.RequestedAt = time.UnixMicro(at).UTC()
		if done.Valid {
			r.CompletedAt = time.UnixMicro(done.Int64).UTC()
		}
		out = append(out, r)
	}
	return out, classify(rows.Err())
}

// PendingErasures lists pending requests; see store.Erasure.
func (s *Store) PendingErasures(ctx context.Context, site string) ([]store.ErasureRequest, error) {
	out, err := s.listErasures(ctx, site, `AND completed_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("while listing pending erasures of site %q: %w", site, err)
	}
	return out, nil
}

// ListErasures lists requests without keys; see store.Erasure.
func (s *Store) ListErasures(ctx context.Context, site string, limit int) ([]store.ErasureRequest, error) {
	if limit <= 0 {
		return nil, nil
	}
	out, err := s.listErasures(ctx, site, `ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("while listing erasures of site %q: %w", site, err)
	}
	for i := range out {
		out[i].Key = ""
	}
	return out, nil
}

// RunErasure carries out a request; see store.Erasure.
func (s *Store) RunErasure(ctx context.Context, site string, id int64, now time.Time, dryRun bool) (store.ErasureResult, error) {
	return store.RunErasureOn(ctx, retentionOps{s}, site, id, now, dryRun)
}

// ErasureRequest reads one request; see store.ErasureOps.
func (o retentionOps) ErasureRequest(ctx context.Context, site string, id int64) (store.ErasureRequest, bool, error) {
	reqs, err := o.s.listErasures(ctx, site, `AND id = ?`, id)
	if err != nil || len(reqs) == 0 {
		return store.ErasureRequest{}, false, err
	}
	return reqs[0], true, nil
}

// CompleteErasure completes a request; see store.ErasureOps.
func (o retentionOps) CompleteErasure(ctx context.Context, site string, id int64, now time.Time) error {
	_, err := o.s.writer.ExecContext(ctx, `UPDATE erasures SET completed_at = ?, key = NULL, rows_removed = coalesce(rows_removed, 0)
WHERE site = ? AND id = ?`, micros(now), site, id)
	return classify(err)
}

// Suppress adds suppression entries; see store.ErasureOps.
func (o retentionOps) Suppress(ctx context.Context, site string, list []store.Suppression) (int, error) {
	added := 0
	err := o.s.inTx(ctx, func(tx *sql.Tx) error {
		for _, x := range list {
			res, err := tx.ExecContext(ctx, `INSERT INTO suppressions (site, kind, key_hash, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT DO NOTHING`, site, x.Kind, x.KeyHash, micros(time.Now()))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			added += int(n)
		}
		return nil
	})
	return added, err
}

// Suppressions lists a site's suppressed keys; see store.Erasure.
func (s *Store) Suppressions(ctx context.Context, site string) ([]store.Suppression, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT kind, key_hash FROM suppressions WHERE site = ?`, site)
	if err != nil {
		return nil, fmt.Errorf("while listing suppressions of site %q: %w", site, classify(err))
	}
	defer rows.Close()
	var out []store.Suppression
	for rows.Next() {
		var x store.Suppression
		if err := rows.Scan(&x.Kind, &x.KeyHash); err != nil {
			return nil, classify(err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("while reading suppressions of site %q: %w", site, classify(err))
	}
	return out, nil
}
