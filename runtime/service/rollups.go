package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/trackstack/trackstack/runtime/store"
)

// RollUpEvery is how often the dashboard rolls up: a minute keeps the
// events a read takes raw (the open hour, and what arrived since the last
// run) to about an hour's worth.
const RollUpEvery = time.Minute

// RollUp rolls up the sites' closed hours (store.Roller) now and then
// every interval until ctx ends. A store that keeps no rollups is left
// alone. A failed run is logged and retried at the next tick: reads stay
// exact meanwhile, they only read more raw events.
func RollUp(ctx context.Context, st store.Store, sites []string, every time.Duration, log *slog.Logger) {
	r, ok := st.(store.Roller)
	if !ok {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		RollUpOnce(ctx, r, sites, time.Now(), log)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RollUpOnce rolls up each site's hours that closed by now, going on to
// the next site when one fails.
func RollUpOnce(ctx context.Context, r store.Roller, sites []string, now time.Time, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, site := range sites {
		if err := r.RollUp(ctx, site, now); err != nil && ctx.Err() == nil {
			log.Warn("cannot roll up the dashboard's rollups; reports read raw events meanwhile", "site", site, "err", err)
		}
	}
}
