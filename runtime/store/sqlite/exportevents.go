package sqlite

import (
	"context"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

var _ store.Exporter = (*Store)(nil)

// ExportEvents streams a site's events, oldest first; see store.Exporter.
func (s *Store) ExportEvents(ctx context.Context, site string, f store.ExportFilter, fn func(event.Event) error) error {
	return s.analytics().ExportEvents(ctx, site, f, func(row store.Scanner) (event.Event, error) { return scanEvent(row) }, fn)
}
