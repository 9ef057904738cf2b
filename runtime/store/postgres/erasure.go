package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trackstack/trackstack/runtime/store"
)

var _ store.Erasure = (*Store)(nil)

// RequestErasure records a request; see store.Erasure.
func (s *Store) RequestErasure(ctx context.Context, req store.ErasureRequest) (int64, error) {
	if err := req.Validate(); err != nil {
		return 0, err
	}
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO erasures (site, requested_at, requested_by, key_kind, key, suppress)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		req.Site, req.RequestedAt.Truncate(time.Microsecond), req.RequestedBy, req.KeyKind, req.Key, req.Suppress).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("while recording an erasure request of site %q: %w", req.Site, classify(err))
	}
	return id, nil
}

// erasureColumns are read by scanErasure.
const erasureColumns = `id, requested_at, requested_by, key_kind, coalesce(key, ''), suppress, completed_at, coalesce(rows_removed, 0)`

func scanErasure(site string) func(pgx.CollectableRow) (store.ErasureRequest, error) {
	return func(row pgx.CollectableRow) (store.ErasureRequest, error) {
		r := store.ErasureRequest{Site: site}
		var done *time.Time
		err := row.Scan(&r.ID, &r.RequestedAt, &r.RequestedBy, &r.KeyKind, &r.Key, &r.Suppress, &done, &r.RowsRemoved)
		r.RequestedAt = r.RequestedAt.UTC()
		if done != nil {
			r.CompletedAt = done.UTC()
		}
		return r, err
	}
}

// PendingErasures lists pending requests; see store.Erasure.
func (s *Store) PendingErasures(ctx context.Context, site string) ([]store.ErasureRequest, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+erasureColumns+` FROM erasures
WHERE site = $1 AND completed_at IS NULL ORDER BY id`, site)
	if err != nil {
		return nil, fmt.Errorf("while listing pending erasures of site %q: %w", site, classify(err))
	}
	out, err := pgx.CollectRows(rows, scanErasure(site))
	if err != nil {
		return nil, fmt.Errorf("while reading pending erasures of site %q: %w", site, classify(err))
	}
	return out, nil
}

// ListErasures lists requests without keys; see store.Erasure.
func (s *Store) ListErasures(ctx context.Context, site string, limit int) ([]store.ErasureRequest, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+erasureColumns+` FROM erasures
WHERE site = $1 ORDER BY id DESC LIMIT $2`, site, limit)
	if err != nil {
		return nil, fmt.Errorf("while listing erasures of site %q: %w", site, classify(err))
	}
	out, err := pgx.CollectRows(rows, scanErasure(site))
	if err != nil {
		return nil, fmt.Errorf("while reading erasures of site %q: %w", site, classify(err))
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
	rows, err := o.s.pool.Query(ctx, `SELECT `+erasureColumns+` FROM erasures WHERE site = $1 AND id = $2`, site, id)
	if err != nil {
		return store.ErasureRequest{}, false, classify(err)
	}
	req, err := pgx.CollectExactlyOneRow(rows, scanErasure(site))
	if errors.Is(err, pgx.ErrNoRows) {
		return req, false, nil
	}
	return req, err == nil, classify(err)
}

// CompleteErasure completes a request; see store.ErasureOps.
func (o retentionOps) CompleteErasure(ctx context.Context, site string, id int64, now time.Time) error {
	_, err := o.s.pool.Exec(ctx, `UPDATE erasures SET completed_at = $3, key = NULL, rows_removed = coalesce(rows_removed, 0)
WHERE site = $1 AND id = $2`, site, id, now.Truncate(time.Microsecond))
	return classify(err)
}

// Suppress adds suppression entries; see store.ErasureOps.
func (o retentionOps) Suppress(ctx context.Context, site string, list []store.Suppression) (int, error) {
	kinds, hashes := make([]string, len(list)), make([]string, len(list))
	for i, x := range list {
		kinds[i], hashes[i] = x.Kind, x.KeyHash
	}
	tag, err := o.s.pool.Exec(ctx, `INSERT INTO suppressions (site, kind, key_hash, created_at)
SELECT $1, k, h, now() FROM unnest($2::text[], $3::text[]) AS v(k, h)
ON CONFLICT DO NOTHING`, site, kinds, hashes)
	return int(tag.RowsAffected()), classify(err)
}

// Suppressions lists a site's suppressed keys; see store.Erasure.
func (s *Store) Suppressions(ctx context.Context, site string) ([]store.Suppression, error) {
	rows, err := s.pool.Query(ctx, `SELECT kind, key_hash FROM suppressions WHERE site = $1`, site)
	if err != nil {
		return nil, fmt.Errorf("while listing suppressions of site %q: %w", site, classify(err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[store.Suppression])
	if err != nil {
		return nil, fmt.Errorf("while reading suppressions of site %q: %w", site, classify(err))
	}
	return out, nil
}
