package ingest

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Event sources as metric labels.
const (
	sourceBrowser = "browser"
	sourceServer  = "server"
)

// rejectReasons is the fixed set of reason label values.
var rejectReasons = []string{ReasonInvalid, ReasonTooOld, ReasonInFuture, ReasonBot, ReasonUnavailable}

// metrics are the collector's Prometheus metrics. Labels are limited to
// configured site names, the source and fixed reason/code sets, so no
// client input can grow the series count.
type metrics struct {
	requests   *prometheus.CounterVec
	accepted   *prometheus.CounterVec
	duplicates *prometheus.CounterVec
	rejected   *prometheus.CounterVec
	batchSize  *prometheus.HistogramVec
	writeTime  *prometheus.HistogramVec

	// codes holds the request counters of the status codes the collector
	// answers, resolved once per source.
	codes map[string]map[int]prometheus.Counter
}

var answeredCodes = []int{200, 204, 400, 401, 403, 404, 405, 408, 413, 415, 429, 500, 503}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trackstack_ingest_requests_total",
			Help: "Ingest HTTP requests by source (browser, server) and status code.",
		}, []string{"source", "code"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trackstack_ingest_events_accepted_total",
			Help: "Events stored (new, not duplicates).",
		}, []string{"site", "source"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trackstack_ingest_events_duplicate_total",
			Help: "Events whose (site, event_id) was already stored.",
		}, []string{"site", "source"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trackstack_ingest_events_rejected_total",
			Help: "Events not stored, by reason: invalid, too_old, in_future, bot, unavailable.",
		}, []string{"site", "source", "reason"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trackstack_ingest_batch_size",
			Help:    "Events per accepted request body.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500},
		}, []string{"source"}),
		writeTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trackstack_ingest_write_duration_seconds",
			Help:    "Time the store took to acknowledge a batch.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"source"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.accepted, m.duplicates, m.rejected, m.batchSize, m.writeTime} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.codes = make(map[string]map[int]prometheus.Counter, 2)
	for _, src := range []string{sourceBrowser, sourceServer} {
		m.codes[src] = make(map[int]prometheus.Counter, len(answeredCodes))
		for _, code := range answeredCodes {
			m.codes[src][code] = m.requests.WithLabelValues(src, strconv.Itoa(code))
		}
	}
	return m, nil
}

// sourceMetrics are one (site, source)'s series, resolved once so the hot
// path does no label hashing.
type sourceMetrics struct {
	accepted   prometheus.Counter
	duplicates prometheus.Counter
	rejected   map[string]prometheus.Counter
	batchSize  prometheus.Observer
	writeTime  prometheus.Observer
}

func (m *metrics) forSite(site, source string) sourceMetrics {
	sm := sourceMetrics{
		accepted:   m.accepted.WithLabelValues(site, source),
		duplicates: m.duplicates.WithLabelValues(site, source),
		rejected:   make(map[string]prometheus.Counter, len(rejectReasons)),
		batchSize:  m.batchSize.WithLabelValues(source),
		writeTime:  m.writeTime.WithLabelValues(source),
	}
	for _, r := range rejectReasons {
		sm.rejected[r] = m.rejected.WithLabelValues(site, source, r)
	}
	return sm
}

func (m *metrics) request(source string, code int) {
	if c, ok := m.codes[source][code]; ok {
		c.Inc()
		return
	}
	m.requests.WithLabelValues(source, strconv.Itoa(code)).Inc()
}

// dropSite deletes the series of a site no longer served.
func (m *metrics) dropSite(site string) {
	l := prometheus.Labels{"site": site}
	m.accepted.DeletePartialMatch(l)
	m.duplicates.DeletePartialMatch(l)
	m.rejected.DeletePartialMatch(l)
}
