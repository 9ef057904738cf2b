package forward

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the forwarders' Prometheus metrics. Every series carries the
// site and destination, so standalone (many destinations in one process)
// and a cluster (one per pod) read the same way.
type Metrics struct {
	events   *prometheus.CounterVec
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	backlog  *prometheus.GaugeVec
	lag      *prometheus.GaugeVec
}

// Reasons of the events counter: a small fixed set, because a platform's
// messages are free text and would explode the series.
const (
	reasonNone     = ""
	reasonConsent  = "consent"
	reasonRejected = "rejected" // failed before sending, or by the platform, permanently
	reasonGaveUp   = "gave_up"  // transient failures until MaxAttempts
	reasonRetry    = "retry"    // a transient failure, to be retried
	reasonAuth     = "auth"     // the platform rejected the credentials
)

// NewMetrics registers the forwarder metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	labels := []string{"site", "destination"}
	m := &Metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trackstack_forward_events_total",
			Help: "Events a destination sent, skipped or failed (final outcomes), and retried, by reason.",
		}, append(labels, "status", "reason")),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trackstack_forward_requests_total",
			Help: "Requests to the platform, by result (ok, transient, permanent, auth).",
		}, append(labels, "result")),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trackstack_forward_request_duration_seconds",
			Help:    "Time one request to the platform took.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, labels),
		backlog: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trackstack_forward_backlog_events",
			Help: "Events waiting to be delivered (pending delivery records).",
		}, labels),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trackstack_forward_lag_seconds",
			Help: "Age of the oldest undelivered event (0 when none waits).",
		}, labels),
	}
	for _, c := range []prometheus.Collector{m.events, m.requests, m.latency, m.backlog, m.lag} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("while registering forwarder metrics: %w", err)
		}
	}
	return m, nil
}
