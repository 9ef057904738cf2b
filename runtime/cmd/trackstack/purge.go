package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/service"
	"github.com/trackstack/trackstack/runtime/standalone"
	"github.com/trackstack/trackstack/runtime/store"
)

const purgeAbout = `Deletes every row a site has in the store, for good, and exits: its events, delivery
records, forwarder cursors, audit log and the rows of any other table with a site column.
Because nothing brings the data back, --confirm-site must repeat --site.

In a cluster it reads the site's runtime configuration (--config, as the operator's Job
<site>-purge does when a TrackingSite with deletionPolicy: Delete is deleted), and the
site must be the one the configuration names. For a standalone stack, --data names its
data directory instead (the SQLite database in it); -f, the stack's files, only makes the
command warn when the site is still in them (standalone would collect it again).

Rows are deleted in batches, each its own transaction, so the store stays usable for the
other sites; a purge that was interrupted finishes when run again. Progress is logged
on stderr; on success a JSON summary goes to stdout:
  {"site":"shop","driver":"postgres","tables":{"events":120000,...},"rows":123456,"durationSeconds":4.2}

Example: trackstack purge --site shop --confirm-site shop --data ./.data`

// purgeFlags are the flags of purge.
type purgeFlags struct {
	site, confirm      string
	config, root, data string
	files              stringList
	logLevel           slog.Level
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
	configFlag(f, &o.config)
	rootFlag(f, &o.root)
	f.stringVar(&o.data, "data", "", "", "standalone: the stack's data directory, whose SQLite database is purged (instead of --config)")
	f.fs.Var(&o.files, "f", "standalone: the stack's YAML files or directories; only to warn when the site is still in them")
	f.logLevelVar(&o.logLevel)
	if code, ok := f.parse(args); !ok {
		return code
	}
	if msg := o.check(f); msg != "" {
		code, _ := f.usageError(msg)
		return code
	}
	log := newLogger(e.stderr, o.logLevel).With("cmd", "purge", "site", o.site)
	storage, code, ok := o.storage(f, log)
	if !ok {
		return code
	}
	return purge(ctx, e, log, o.site, storage)
}

// check returns what is wrong with the flags, "" when nothing is.
func (o purgeFlags) check(f *flagSet) string {
	configSet := false
	f.fs.Visit(func(fl *flag.Flag) { configSet = configSet || fl.Name == "config" || fl.Name == "root" })
	switch {
	case o.site == "":
		return "--site is required"
	case o.confirm != o.site:
		return fmt.Sprintf("--confirm-site %q does not match --site %q: the purge deletes the site's data for good, so name it twice", o.confirm, o.site)
	case o.data == "" && len(o.files) > 0:
		return "-f goes with --data, the standalone stack's data directory"
	case o.data != "" && configSet:
		return "--data (a standalone stack) and --config/--root (a site's runtime configuration) exclude each other"
	}
	return ""
}

// storage finds the store to purge: the standalone data directory's
// database, or the one the site's runtime configuration names.
func (o purgeFlags) storage(f *flagSet, log *slog.Logger) (config.Storage, int, bool) {
	if o.data != "" {
		return o.standaloneStorage(f, log)
	}
	rt, code, ok := f.runtimeConfig(o.config, o.root)
	if !ok {
		return config.Storage{}, code, false
	}
	if rt.Site.Name != o.site {
		code, _ := f.usageError(fmt.Sprintf("%s is the configuration of site %q, not %q", o.config, rt.Site.Name, o.site))
		return config.Storage{}, code, false
	}
	return rt.Storage, exitOK, true
}

func (o purgeFlags) standaloneStorage(f *flagSet, log *slog.Logger) (config.Storage, int, bool) {
	path := standalone.DatabasePath(o.data)
	// Opening a missing file would create an empty database: a mistyped
	// directory must be an error, not a purge that found nothing.
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		code, _ := f.usageError(fmt.Sprintf("no standalone database in %s (%s is missing)", o.data, path))
		return config.Storage{}, code, false
	}
	if len(o.files) > 0 {
		res, err := standalone.LoadFiles(o.files)
		if err != nil {
			code, _ := f.usageError(err.Error())
			return config.Storage{}, code, false
		}
		for _, s := range res.Sites {
			if s.Name == o.site {
				log.Warn("the site is still in the files: standalone collects it again at its next start; remove it there",
					"source", res.Source("TrackingSite", s.Name))
			}
		}
	}
	return config.Storage{Driver: config.DriverSQLite, SQLitePath: path}, exitOK, true
}

// purge deletes the site's rows and prints the summary.
func purge(ctx context.Context, e *env, log *slog.Logger, site string, storage config.Storage) int {
	start := time.Now()
	st, err := service.OpenStore(ctx, storage)
	if err != nil {
		log.Error("cannot open the store", "err", err)
		return exitFailure
	}
	defer st.Close()
	p, ok := st.(store.SitePurger)
	if !ok {
		log.Error("the store cannot purge a site", "driver", storage.Driver)
		return exitFailure
	}
	log.Info("purging the site's data", "driver", storage.Driver)
	progress := &purgeProgress{log: log}
	removed, err := p.PurgeSite(ctx, site, progress.report)
	if err != nil {
		log.Error("purge stopped; run it again to finish", "err", err, "removed", removed)
		return exitFailure
	}
	sum := purgeSummary{Site: site, Driver: storage.Driver, Tables: removed, DurationSeconds: time.Since(start).Seconds()}
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
