package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Metrics are the operator's own metrics. Labels stay low-cardinality: kind,
// ready state and reason, never object names.
type Metrics struct {
	objects         *prometheus.GaugeVec
	reconcileErrors *prometheus.CounterVec

	mu    sync.Mutex
	state map[string]map[types.NamespacedName]metav1.ConditionStatus
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trackstack_operator_objects",
			Help: "trackstack objects by kind and Ready condition status.",
		}, []string{"kind", "ready"}),
		reconcileErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trackstack_operator_reconcile_errors_total",
			Help: "Reconciles that ended not Ready, by kind and condition reason.",
		}, []string{"kind", "reason"}),
		state: map[string]map[types.NamespacedName]metav1.ConditionStatus{},
	}
	reg.MustRegister(m.objects, m.reconcileErrors)
	return m
}

// record notes the Ready status of one object after a reconcile.
func (m *Metrics) record(kind string, key types.NamespacedName, ready metav1.ConditionStatus, reason string) {
	if m == nil {
		return
	}
	if ready == metav1.ConditionFalse {
		m.reconcileErrors.WithLabelValues(kind, reason).Inc()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state[kind] == nil {
		m.state[kind] = map[types.NamespacedName]metav1.ConditionStatus{}
	}
	m.state[kind][key] = ready
	m.publish(kind)
}

// forget drops a deleted object.
func (m *Metrics) forget(kind string, key types.NamespacedName) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.state[kind], key)
	m.publish(kind)
}

func (m *Metrics) publish(kind string) {
	counts := map[metav1.ConditionStatus]float64{
		metav1.ConditionTrue: 0, metav1.ConditionFalse: 0, metav1.ConditionUnknown: 0,
	}
	for _, s := range m.state[kind] {
		counts[s]++
	}
	for s, n := range counts {
		m.objects.WithLabelValues(kind, string(s)).Set(n)
	}
}
