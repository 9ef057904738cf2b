package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// trackstackObject is any of our kinds: an object with the common status.
type trackstackObject interface {
	client.Object
	GetObjectStatus() *v1alpha1.ObjectStatus
}

// runSteps runs a reconciler's sub-steps in order and stops at the first
// error. It returns that error as found (for the status) and as the
// reconcile should return it (errorToReturn, in errors.go).
func runSteps(ctx context.Context, steps []func(context.Context) error) (found, returned error) {
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err, errorToReturn(err)
		}
	}
	return nil, nil
}

// statusWriter writes a kind's status the same way for every kind.
type statusWriter struct {
	client   client.Client
	recorder recorder.EventRecorder
	metrics  *Metrics
	kind     string
}

// patch sets the conditions for an outcome and writes the status only when
// it changed, so status writes never feed a reconcile loop; Events and
// metrics are recorded on real changes.
func (w statusWriter) patch(ctx context.Context, orig, obj trackstackObject, o outcome) error {
	st := obj.GetObjectStatus()
	setConditions(st, obj.GetGeneration(), o)
	w.metrics.record(w.kind, client.ObjectKeyFromObject(obj), readyStatus(st), o.reason)
	if equality.Semantic.DeepEqual(orig, obj) {
		return nil
	}
	emitConditionEvent(w.recorder, obj, orig.GetObjectStatus(), o)
	if err := w.client.Status().Patch(ctx, obj, client.MergeFrom(orig)); err != nil {
		return fmt.Errorf("patching %s status: %w", w.kind, client.IgnoreNotFound(err))
	}
	return nil
}

// readyStatus returns the status of the Ready condition, "Unknown" if absent.
func readyStatus(st *v1alpha1.ObjectStatus) metav1.ConditionStatus {
	if c := meta.FindStatusCondition(st.Conditions, v1alpha1.ReadyCondition); c != nil {
		return c.Status
	}
	return metav1.ConditionUnknown
}

// readyMessage returns the message of the Ready condition.
func readyMessage(st *v1alpha1.ObjectStatus) string {
	if c := meta.FindStatusCondition(st.Conditions, v1alpha1.ReadyCondition); c != nil {
		return c.Message
	}
	return ""
}
