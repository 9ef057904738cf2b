package retention

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackstack/trackstack/runtime/store"
)

// Metrics count what retention runs in this process changed (standalone
// runs them in process). A run in a CronJob's pod is gone before anything
// scrapes it, so long-running processes export the stored result of the
// last run instead (LastRunCollector).
type Metrics struct {
	rows        *prometheus.CounterVec
	runs        *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
}

// NewMetrics registers the retention metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trackstack_retention_rows_total",
			Help: "Rows retention changed, by kind (events_deleted, partitions_dropped, keys_deleted, deliveries_deleted, ips_anonymized, pii_cleared, erased_events).",
		}, []string{"site", "kind"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trackstack_retention_runs_total",
			Help: "Retention runs, by result (succeeded, failed); dry runs are not counted.",
		}, []string{"site", "result"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trackstack_retention_last_success_timestamp_seconds",
			Help: "When a retention run last succeeded, as a Unix time.",
		}, []string{"site"}),
	}
	for _, c := range []prometheus.Collector{m.rows, m.runs, m.lastSuccess} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("while registering retention metrics: %w", err)
		}
	}
	return m, nil
}

// rowKinds are the kinds of rows a summary counts, by metric label.
func rowKinds(s Summary) map[string]int64 {
	c := s.Changed
	erased := int64(0)
	for _, e := range s.Erasures {
		erased += e.EventsDeleted
	}
	return map[string]int64{
		"events_deleted": c.EventsDeleted, "partitions_dropped": c.PartitionsDropped, "keys_deleted": c.KeysDeleted,
		"deliveries_deleted": c.DeliveriesDeleted, "ips_anonymized": c.IPsAnonymized, "pii_cleared": c.PIICleared,
		"erased_events": erased,
	}
}

// observe counts a run; a nil Metrics or a dry run counts nothing.
func (m *Metrics) observe(s Summary) {
	if m == nil || s.DryRun {
		return
	}
	for kind, n := range rowKinds(s) {
		m.rows.WithLabelValues(s.Site, kind).Add(float64(n))
	}
	if s.Error != "" {
		m.runs.WithLabelValues(s.Site, "failed").Inc()
		return
	}
	m.runs.WithLabelValues(s.Site, "succeeded").Inc()
	m.lastSuccess.WithLabelValues(s.Site).Set(float64(time.Now().Unix()))
}

// LastRunCollector exports the stored result of a site's last retention
// run, read from the store at each scrape.
type LastRunCollector struct {
	Store interface {
		LastRetentionRun(ctx context.Context, site string) (store.RetentionRun, bool, error)
	}
	Site string
}

var (
	lastRunTime = prometheus.NewDesc("trackstack_retention_last_run_timestamp_seconds",
		"When the last retention run finished, as a Unix time.", []string{"site", "policy"}, nil)
	lastRunOK = prometheus.NewDesc("trackstack_retention_last_run_success",
		"1 when the last retention run succeeded, 0 when it failed.", []string{"site", "policy"}, nil)
	lastRunRows = prometheus.NewDesc("trackstack_retention_last_run_rows",
		"Rows the last retention run changed, by kind.", []string{"site", "policy", "kind"}, nil)
)

// Describe implements prometheus.Collector.
func (c LastRunCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lastRunTime
	ch <- lastRunOK
	ch <- lastRunRows
}

// Collect implements prometheus.Collector. A store that does not answer
// within a scrape's patience yields no series rather than a stale one.
func (c LastRunCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	run, ok, err := c.Store.LastRetentionRun(ctx, c.Site)
	if err != nil || !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(lastRunTime, prometheus.GaugeValue, float64(run.FinishedAt.Unix()), c.Site, run.Policy)
	success := 1.0
	if run.Error != "" {
		success = 0
	}
	ch <- prometheus.MustNewConstMetric(lastRunOK, prometheus.GaugeValue, success, c.Site, run.Policy)
	var s Summary
	if json.Unmarshal(run.Summary, &s) != nil {
		return
	}
	for kind, n := range rowKinds(s) {
		ch <- prometheus.MustNewConstMetric(lastRunRows, prometheus.GaugeValue, float64(n), c.Site, run.Policy, kind)
	}
}

// RowsCounter is the counter of one site's rows of one kind, for tests.
func (m *Metrics) RowsCounter(site, kind string) prometheus.Counter {
	return m.rows.WithLabelValues(site, kind)
}
