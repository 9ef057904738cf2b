package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/retention"
)

const retentionAbout = `Applies one RetentionPolicy of a site once and exits (the operator's CronJob runs it;
standalone runs it on the policy's schedule): deletes the events older than maxAgeDays with
their delivery records, anonymizes the IPs older than anonymizeIPAfterDays, clears the
matching data older than deletePIIAfterDays, and carries out the site's pending erasure
requests. Works in short transactions beside a running collector; a run stopped midway
finishes the job the next time. Prints a JSON summary (rows per kind, duration) on stdout
and progress on stderr; exits 1 when the run fails.

--dry-run reports what would go and changes nothing. --now judges ages by another clock
(tests, backfills). Against a standalone stack's data, name its files and data directory:

  trackstack retention --policy daily -f config/samples/standalone --data .data`

// retentionFlags are the flags of retention.
type retentionFlags struct {
	source                 storeSource
	policy, site, now      string
	dryRun, skipMigrations bool
	batchSize              int
	logLevel               slog.Level
}

func runRetention(ctx context.Context, e *env, args []string) int {
	var o retentionFlags
	f := newFlagSet(e, "retention", "trackstack retention --policy NAME [flags]", retentionAbout)
	storeSourceFlags(f, &o.source)
	f.stringVar(&o.policy, "policy", "TRACKSTACK_POLICY", "", "the RetentionPolicy to apply (its name); required")
	f.stringVar(&o.site, "site", "", "", "standalone: the site whose policy it is, when several sites have a policy of that name")
	f.boolVar(&o.dryRun, "dry-run", "", false, "report what the run would change, and change nothing")
	f.stringVar(&o.now, "now", "", "", "judge ages as if it were this time (RFC 3339); default: the current time")
	f.fs.IntVar(&o.batchSize, "batch-size", 0, "rows per transaction (default 5000)")
	skipMigrationsFlag(f, &o.skipMigrations)
	f.logLevelVar(&o.logLevel)
	if code, ok := f.parse(args); !ok {
		return code
	}
	now, err := parseNow(o.now)
	if err == nil && o.policy == "" {
		err = errors.New("--policy is required")
	}
	if err == nil && o.batchSize < 0 {
		err = errors.New("--batch-size must not be negative")
	}
	var rt *config.Runtime
	var policy config.Retention
	if err == nil {
		rt, policy, err = o.findPolicy()
	}
	if err != nil {
		code, _ := f.usageError(err.Error())
		return code
	}
	log := newLogger(e.stderr, o.logLevel).With("cmd", "retention")
	sum, err := applyPolicy(ctx, log, o, rt, policy, now)
	if sum != nil {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(sum) //nolint:errcheck // nothing to do about a closed stdout
	}
	if err != nil {
		return exitFailure
	}
	return exitOK
}

// parseNow reads --now; empty is the current time.
func parseNow(v string) (time.Time, error) {
	if v == "" {
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--now %q is not RFC 3339 (2026-11-01T03:17:00Z)", v)
	}
	return t.UTC(), nil
}

// findPolicy finds the site and the policy: in the runtime configuration,
// or with -f among the standalone files' sites.
func (o retentionFlags) findPolicy() (*config.Runtime, config.Retention, error) {
	sites, err := o.source.sites()
	if err != nil {
		return nil, config.Retention{}, err
	}
	var found []*config.Runtime
	var policy config.Retention
	var have []string
	for _, rt := range sites {
		for _, p := range rt.Retention {
			have = append(have, rt.Site.Name+"/"+p.Name)
			if p.Name == o.policy && (o.site == "" || o.site == rt.Site.Name) {
				found, policy = append(found, rt), p
			}
		}
	}
	switch {
	case len(found) == 1:
		return found[0], policy, nil
	case len(found) > 1:
		return nil, policy, fmt.Errorf("several sites have a RetentionPolicy %q: name one with --site", o.policy)
	case len(have) == 0:
		return nil, policy, fmt.Errorf("no RetentionPolicy %q: the configuration has none", o.policy)
	}
	return nil, policy, fmt.Errorf("no RetentionPolicy %q (the configuration has: %s)", o.policy, strings.Join(have, ", "))
}

// applyPolicy opens the store and runs the policy.
func applyPolicy(ctx context.Context, log *slog.Logger, o retentionFlags, rt *config.Runtime, policy config.Retention, now time.Time) (*retention.Summary, error) {
	log = log.With("site", rt.Site.Name, "policy", policy.Name)
	log.Info("starting", "version", versionString(), "driver", rt.Storage.Driver, "now", now, "dryRun", o.dryRun)
	// Opening a missing SQLite file would create an empty database and
	// report that nothing needed deleting.
	st, err := openStorage(ctx, rt.Storage, true)
	if err != nil {
		log.Error("cannot open the store", "err", err)
		return nil, err
	}
	defer st.Close()
	if !o.skipMigrations {
		if err := st.Migrate(ctx); err != nil {
			log.Error("cannot migrate the store", "err", err)
			return nil, err
		}
	}
	rs, ok := st.(retention.Store)
	if !ok {
		err := fmt.Errorf("the %s store cannot apply retention", rt.Storage.Driver)
		log.Error("cannot run", "err", err)
		return nil, err
	}
	sum, err := retention.Run(ctx, retention.Options{Store: rs, Site: rt, Policy: policy, Now: now, DryRun: o.dryRun,
		BatchSize: o.batchSize, Logger: log})
	return &sum, err
}
