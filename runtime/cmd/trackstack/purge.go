package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/trackstack/trackstack/runtime/store"
)

const purgeAbout = `Deletes every row a site has in the store, for good, and exits: its events, delivery
records, forwarder cursors, audit log and the rows of any other table with a site column.
Because nothing brings the data back, --confirm-site must repeat --site.

The store is the runtime configuration's (--config, as the operator's Job <site>-purge
runs it when a TrackingSite with deletionPolicy: Delete is deleted), whose site it must
be, or with -f the SQLite database in standalone's data directory (--data), the site being
one of the files' TrackingSites. Stop standalone first, and remove the site from its files
afterwards, or it collects the site again.

Rows are deleted in batches, each its own transaction, so the store stays usable for the
other sites; a purge that was interrupted finishes when run again. Progress is logged
on stderr; on success a JSON summary goes to stdout:
  {"site":"shop","driver":"postgres","tables":{"events":120000,...},"rows":123456,"durationSeconds":4.2}

Example: trackstack purge --site demo --confirm-site demo -f config/samples/standalone --data .data`

// purgeFlags are the flags of purge.
type purgeFlags struct {
	source        storeSource
	site, confirm string
	logLevel      slog.Level
}

// purgeSummary is what purge prints on stdout when it is done.
type purgeSummary struct {
	Site            string           `json:"site"`
	Driver          string           `json:"driver"`
	Tables          map[string]int64 `json:"tables"`
	Rows            int64            `json:"rows"`
	DurationSeconds float64          `json:"durationSeconds"`
}

func runPurge(ctx context.Context, e *env, args []string) int {
	var o purgeFlags
	f := newFlagSet(e, "purge", "trackstack purge --site NAME --confirm-site NAME [flags]", purgeAbout)
	f.stringVar(&o.site, "site", "", "", "the site whose data to delete; required")
	f.stringVar(&o.confirm, "confirm-site", "", "", "the site's name again; nothing is deleted unless it matches --site")
	storeSourceFlags(f, &o.source)
	f.logLevelVar(&o.logLevel)
	if code, ok := f.parse(args); !ok {
		return code
	}
	switch {
	case o.site == "":
		code, _ := f.usageError("--site is required")
		return code
	case o.confirm != o.site:
		code, _ := f.usageError(fmt.Sprintf("--confirm-site %q does not match --site %q: the purge deletes the site's data for good, so name it twice", o.confirm, o.site))
		return code
	}
	storage, err := o.source.storage(o.site)
	if err != nil {
		code, _ := f.usageError(err.Error())
		return code
	}
	log := newLogger(e.stderr, o.logLevel).With("cmd", "purge", "site", o.site)
	st, err := openStorage(ctx, storage, true)
	if errors.Is(err, errNoDatabase) {
		// Opening it would create an empty database: a mistyped directory
		// must be an error, not a purge that found nothing.
		code, _ := f.usageError(err.Error())
		return code
	}
	if err != nil {
		log.Error("cannot open the store", "err", err)
		return exitFailure
	}
	defer st.Close()
	return purge(ctx, e, log, o.site, storage.Driver, st)
}

// purge deletes the site's rows and prints the summary.
func purge(ctx context.Context, e *env, log *slog.Logger, site, driver string, st store.Store) int {
	start := time.Now()
	p, ok := st.(store.SitePurger)
	if !ok {
		log.Error("the store cannot purge a site", "driver", driver)
		return exitFailure
	}
	log.Info("purging the site's data", "driver", driver)
	progress := &purgeProgress{log: log}
	removed, err := p.PurgeSite(ctx, site, progress.report)
	if err != nil {
		log.Error("purge stopped; run it again to finish", "err", err, "removed", removed)
		return exitFailure
	}
	sum := purgeSummary{Site: site, Driver: driver, Tables: removed, DurationSeconds: time.Since(start).Seconds()}
	for _, table := range slices.Sorted(maps.Keys(removed)) {
		sum.Rows += removed[table]
		log.Info("table purged", "table", table, "removed", removed[table])
	}
	out, err := json.Marshal(sum)
	if err != nil {
		log.Error("cannot write the summary", "err", err)
		return exitFailure
	}
	fmt.Fprintln(e.stdout, string(out))
	log.Info("site purged", "rows", sum.Rows, "duration", time.Since(start).String())
	return exitOK
}

// purgeProgress logs a purge's progress, at most once a second, so that a
// site of millions of rows shows it is moving without a line per batch.
type purgeProgress struct {
	log  *slog.Logger
	last time.Time
}

func (p *purgeProgress) report(table string, removed int64) {
	if now := time.Now(); now.Sub(p.last) >= time.Second {
		p.last = now
		p.log.Info("purging", "table", table, "removed", removed)
	}
}
