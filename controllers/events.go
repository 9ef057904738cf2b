package controllers

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// emitConditionEvent records an Event when the Ready condition really
// changed (status, reason or message), never on a pass that changed nothing.
func emitConditionEvent(rec recorder.EventRecorder, obj runtime.Object, old *v1alpha1.ObjectStatus, o outcome) {
	if rec == nil {
		return
	}
	if c := meta.FindStatusCondition(old.Conditions, v1alpha1.ReadyCondition); c != nil &&
		c.Reason == o.reason && c.Message == o.message {
		return
	}
	if t := shapes[o.state].event; t != "" {
		rec.Eventf(obj, nil, t, o.reason, "Reconcile", "%s", o.message)
	}
}

// emitApplied records which children a pass created or changed.
func emitApplied(rec recorder.EventRecorder, obj runtime.Object, changed []string) {
	if rec == nil || len(changed) == 0 {
		return
	}
	rec.Eventf(obj, nil, corev1.EventTypeNormal, "Applied", "Apply", "applied %s", joinNames(changed))
}
