package collect

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/batch"
)

// writerMetrics describe the batch writer: how often and how fast it
// commits, and how much waits for a commit (its bounded memory).
type writerMetrics struct {
	flushes  *prometheus.CounterVec
	events   prometheus.Histogram
	duration prometheus.Histogram
}

func newWriterMetrics(reg prometheus.Registerer) (*writerMetrics, error) {
	m := &writerMetrics{
		flushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trackstack_store_flushes_total",
			Help: "Batch writes to the store, by result (ok, unavailable, error).",
		}, []string{"result"}),
		events: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "trackstack_store_flush_events",
			Help:    "Events per batch write to the store.",
			Buckets: []float64{1, 5, 10, 20, 50, 100, 200, 500, 1000},
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "trackstack_store_flush_duration_seconds",
			Help:    "Time one batch write to the store took, commit included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	for _, c := range []prometheus.Collector{m.flushes, m.events, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("while registering store metrics: %w", err)
		}
	}
	for _, r := range []string{"ok", "unavailable", "error"} {
		m.flushes.WithLabelValues(r)
	}
	return m, nil
}

// watchQueue exports the writer's queue length as a gauge.
func (m *writerMetrics) watchQueue(reg prometheus.Registerer, w *batch.Writer) error {
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "trackstack_store_queued_events",
		Help: "Events accepted by the batch writer and not yet committed.",
	}, func() float64 { return float64(w.Queued()) })
	if err := reg.Register(g); err != nil {
		return fmt.Errorf("while registering store metrics: %w", err)
	}
	return nil
}

func (m *writerMetrics) observe(f batch.Flush) {
	result := "ok"
	switch {
	case errors.Is(f.Err, store.ErrUnavailable):
		result = "unavailable"
	case f.Err != nil:
		result = "error"
	}
	m.flushes.WithLabelValues(result).Inc()
	m.events.Observe(float64(f.Events))
	m.duration.Observe(f.Duration.Seconds())
}

// logFlushErrors logs failed batch writes. The callers get the error too
// (as 503 or 500), but only the log says why.
func logFlushErrors(log *slog.Logger) func(batch.Flush) {
	return func(f batch.Flush) {
		if f.Err != nil {
			log.Error("store write failed", "events", f.Events, "callers", f.Callers, "err", f.Err)
		}
	}
}

// chainFlush calls each non-nil hook in turn.
func chainFlush(hooks ...func(batch.Flush)) func(batch.Flush) {
	return func(f batch.Flush) {
		for _, h := range hooks {
			if h != nil {
				h(f)
			}
		}
	}
}
