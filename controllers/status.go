package controllers

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// outcome is what one reconcile concluded, turned into conditions by setConditions.
type outcome struct {
	// state is one of ready, progressing, stalled, failed.
	state  outcomeState
	reason string
	// message says what is going on, or what a person should fix.
	message string
}

type outcomeState int

const (
	// stateReady: everything is in place and rolled out.
	stateReady outcomeState = iota
	// stateProgressing: changes are rolling out; no action needed.
	stateProgressing
	// stateStalled: a person must act (missing Secret, site, ownership clash).
	stateStalled
	// stateFailed: a transient error; the operator retries.
	stateFailed
	// stateDegraded: our own objects are fine but something the object depends
	// on is not (a Destination of a site); Ready=False without Reconciling.
	stateDegraded
)

func ready(reason, msg string) outcome       { return outcome{stateReady, reason, msg} }
func progressing(reason, msg string) outcome { return outcome{stateProgressing, reason, msg} }
func stalled(reason, msg string) outcome     { return outcome{stateStalled, reason, msg} }
func failed(reason, msg string) outcome      { return outcome{stateFailed, reason, msg} }
func degraded(reason, msg string) outcome    { return outcome{stateDegraded, reason, msg} }

// setConditions writes Ready, Reconciling and Stalled for an outcome, in the
// kstatus sense: Current needs Ready=True and no Reconciling/Stalled;
// Reconciling=True means InProgress; Stalled=True means Failed.
func setConditions(st *v1alpha1.ObjectStatus, generation int64, o outcome) {
	set := func(t string, s metav1.ConditionStatus) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{
			Type: t, Status: s, Reason: o.reason, Message: o.message, ObservedGeneration: generation,
		})
	}
	switch o.state {
	case stateReady:
		set(v1alpha1.ReadyCondition, metav1.ConditionTrue)
		meta.RemoveStatusCondition(&st.Conditions, v1alpha1.ReconcilingCondition)
		meta.RemoveStatusCondition(&st.Conditions, v1alpha1.StalledCondition)
	case stateProgressing:
		set(v1alpha1.ReadyCondition, metav1.ConditionUnknown)
		set(v1alpha1.ReconcilingCondition, metav1.ConditionTrue)
		meta.RemoveStatusCondition(&st.Conditions, v1alpha1.StalledCondition)
	case stateStalled:
		set(v1alpha1.ReadyCondition, metav1.ConditionFalse)
		set(v1alpha1.StalledCondition, metav1.ConditionTrue)
		meta.RemoveStatusCondition(&st.Conditions, v1alpha1.ReconcilingCondition)
	case stateFailed:
		set(v1alpha1.ReadyCondition, metav1.ConditionFalse)
		set(v1alpha1.ReconcilingCondition, metav1.ConditionTrue)
		meta.RemoveStatusCondition(&st.Conditions, v1alpha1.StalledCondition)
	case stateDegraded:
		set(v1alpha1.ReadyCondition, metav1.ConditionFalse)
		meta.RemoveStatusCondition(&st.Conditions, v1alpha1.ReconcilingCondition)
		meta.RemoveStatusCondition(&st.Conditions, v1alpha1.StalledCondition)
	}
	st.ObservedGeneration = generation
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
