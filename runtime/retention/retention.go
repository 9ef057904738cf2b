package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/store"
)

// Store is what a run needs of the store.
type Store interface {
	store.Retention
	store.Erasure
}

// Options are one run's inputs.
type Options struct {
	Store Store
	// Site is the site's configuration: its name and privacy settings.
	Site *config.Runtime
	// Policy is the policy to apply, one of Site.Retention.
	Policy config.Retention
	// Now is the clock ages are judged by.
	Now    time.Time
	DryRun bool
	// BatchSize is the rows per transaction; 0 is the store's default.
	BatchSize int
	Logger    *slog.Logger
	// Metrics, when set, counts what the run changed.
	Metrics *Metrics
}

// Summary is what a run did, printed as JSON by the command.
type Summary struct {
	Site     string                `json:"site"`
	Policy   string                `json:"policy"`
	DryRun   bool                  `json:"dryRun"`
	Now      time.Time             `json:"now"`
	Cutoffs  Cutoffs               `json:"cutoffs"`
	Changed  store.RetentionCounts `json:"changed"`
	Erasures []ErasureSummary      `json:"erasures"`
	// DurationSeconds is the run's wall time.
	DurationSeconds float64 `json:"durationSeconds"`
	// Error is the failure, empty when the run succeeded.
	Error string `json:"error,omitempty"`
}

// Cutoffs are the received_at times a run's steps judge by; null when the
// policy leaves a step out.
type Cutoffs struct {
	DeleteBefore      time.Time  `json:"deleteBefore"`
	AnonymizeIPBefore *time.Time `json:"anonymizeIPBefore"`
	ClearPIIBefore    *time.Time `json:"clearPIIBefore"`
}

// ErasureSummary is one erasure request a run carried out.
type ErasureSummary struct {
	ID      int64  `json:"id"`
	KeyKind string `json:"keyKind"`
	store.ErasureResult
}

// Plan is what policy asks of the store at now.
func Plan(rt *config.Runtime, policy config.Retention, now time.Time) (store.RetentionPlan, Cutoffs) {
	daysAgo := func(d int32) time.Time { return now.AddDate(0, 0, -int(d)).UTC() }
	plan := store.RetentionPlan{Site: rt.Site.Name, DeleteBefore: daysAgo(policy.MaxAgeDays), AnonymizeIP: anonymizer(rt.Privacy.IPAnonymization)}
	c := Cutoffs{DeleteBefore: plan.DeleteBefore}
	if d := policy.AnonymizeIPAfterDays; d != nil {
		plan.AnonymizeIPBefore = daysAgo(*d)
		c.AnonymizeIPBefore = &plan.AnonymizeIPBefore
	}
	if d := policy.DeletePIIAfterDays; d != nil {
		plan.ClearPIIBefore = daysAgo(*d)
		c.ClearPIIBefore = &plan.ClearPIIBefore
	}
	return plan, c
}

// anonymizer returns the anonymized form an old IP is kept in: truncated,
// or none at all when the site stores none. A site that keeps full IPs at
// ingest gets them truncated once they are old enough.
func anonymizer(mode string) func(string) string {
	if mode != enrich.AnonymizeFull {
		mode = enrich.AnonymizeTruncate
	}
	return func(ip string) string {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			// Not an address: keep nothing rather than something unknown.
			return ""
		}
		return enrich.AnonymizeIP(a, mode)
	}
}

// Run applies one policy to one site and carries out its pending
// erasures; see the package documentation. The summary is returned also
// when the run fails, with what it did until then.
func Run(ctx context.Context, o Options) (Summary, error) {
	start := time.Now()
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("site", o.Site.Site.Name, "policy", o.Policy.Name, "dryRun", o.DryRun)
	plan, cutoffs := Plan(o.Site, o.Policy, o.Now)
	plan.DryRun, plan.BatchSize = o.DryRun, o.BatchSize
	plan.Progress = progressLogger(log)
	sum := Summary{Site: plan.Site, Policy: o.Policy.Name, DryRun: o.DryRun, Now: o.Now.UTC(), Cutoffs: cutoffs, Erasures: []ErasureSummary{}}
	log.Info("retention run starting", "deleteBefore", cutoffs.DeleteBefore)
	changed, err := o.Store.ApplyRetention(ctx, plan)
	sum.Changed = changed
	if err == nil {
		sum.Erasures, err = runPending(ctx, o.Store, plan.Site, o.Now, o.DryRun, log)
	}
	sum.DurationSeconds = time.Since(start).Seconds()
	if err != nil {
		sum.Error = err.Error()
	}
	o.Metrics.observe(sum)
	if !o.DryRun {
		if rerr := record(ctx, o.Store, sum, start); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	if err != nil {
		log.Error("retention run failed", "err", err, "changed", sum.Changed)
		return sum, err
	}
	log.Info("retention run done", "changed", sum.Changed, "erasures", len(sum.Erasures), "seconds", sum.DurationSeconds)
	return sum, nil
}

// progressLogger logs a step's progress at most every few seconds, so a
// long first run shows it is moving.
func progressLogger(log *slog.Logger) func(step string, rows int64) {
	var last time.Time
	return func(step string, rows int64) {
		if time.Since(last) < 5*time.Second {
			return
		}
		last = time.Now()
		log.Info("retention progress", "step", step, "rows", rows)
	}
}

// runPending carries out the site's pending erasure requests.
func runPending(ctx context.Context, st Store, site string, now time.Time, dryRun bool, log *slog.Logger) ([]ErasureSummary, error) {
	reqs, err := st.PendingErasures(ctx, site)
	if err != nil {
		return nil, err
	}
	out := []ErasureSummary{}
	for _, req := range reqs {
		res, err := st.RunErasure(ctx, site, req.ID, now, dryRun)
		if err != nil {
			return out, err
		}
		log.Info("erasure carried out", "id", req.ID, "keyKind", req.KeyKind, "events", res.EventsDeleted)
		out = append(out, ErasureSummary{ID: req.ID, KeyKind: req.KeyKind, ErasureResult: res})
	}
	return out, nil
}

// record stores the run's summary, under a context of its own so that a
// run stopped by SIGTERM still leaves its record.
func record(ctx context.Context, st Store, sum Summary, start time.Time) error {
	js, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err = st.RecordRetentionRun(ctx, store.RetentionRun{Site: sum.Site, Policy: sum.Policy, StartedAt: start.UTC(),
		FinishedAt: time.Now().UTC(), Error: sum.Error, Summary: js})
	if err != nil {
		return fmt.Errorf("while recording the run: %w", err)
	}
	return nil
}
