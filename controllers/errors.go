package controllers

import (
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// This file is the one path from "how a reconcile pass ended" to the status
// conditions, the Event and the retry. Every controller takes it:
//
//  1. runSteps runs the pass's steps and stops at the first error;
//  2. the controller's conclude turns that error (outcomeOf) or, without
//     one, what the pass observed into an outcome: a state, a reason from
//     api/v1alpha1/conditions.go and a message;
//  3. setConditions writes the outcome's state as shapes says, and the
//     reconcile returns the error only when shapes says a retry can help.
//
// A step that fails because a person must act returns one of the err*
// constructors below (one type, personNeeded, carrying its reason). Any
// other error is transient: ApplyFailed, retried with backoff.

// outcome is what one pass concluded.
type outcome struct {
	state  outcomeState
	reason string
	// message says what is going on, or what a person should fix.
	message string
}

// outcomeState is how a pass ended; shapes says what each one sets.
type outcomeState int

const (
	stateReady outcomeState = iota
	stateProgressing
	stateStalled
	stateFailed
	stateDegraded
	stateDeleting
)

func ready(reason, msg string) outcome       { return outcome{stateReady, reason, msg} }
func progressing(reason, msg string) outcome { return outcome{stateProgressing, reason, msg} }
func stalled(reason, msg string) outcome     { return outcome{stateStalled, reason, msg} }
func failed(reason, msg string) outcome      { return outcome{stateFailed, reason, msg} }
func degraded(reason, msg string) outcome    { return outcome{stateDegraded, reason, msg} }
func purging(msg string) outcome             { return outcome{stateDeleting, v1alpha1.ReasonPurging, msg} }

// conditionShape is what an outcome state writes, in the kstatus sense:
// Current needs Ready=True and neither Reconciling nor Stalled;
// Reconciling=True reads as InProgress, Stalled=True as Failed.
type conditionShape struct {
	ready metav1.ConditionStatus
	// reconciling and stalled set that condition True; false removes it.
	reconciling, stalled bool
	// event is the type of the Event recorded when Ready changes; "" for none.
	event string
	// requeue: the reconcile returns the error, so it is retried with
	// backoff. Otherwise a watch (on the Secret, the site, our children)
	// brings the object back once something changed.
	requeue bool
}

// shapes is the whole mapping, one line per state.
var shapes = [...]conditionShape{
	// Everything is in place and rolled out (or paused/suspended on purpose).
	stateReady: {ready: metav1.ConditionTrue, event: corev1.EventTypeNormal},
	// Children are rolling out; nobody needs to act.
	stateProgressing: {ready: metav1.ConditionUnknown, reconciling: true},
	// A person must act (personNeeded): a missing Secret, key or site, a
	// name clash, a name too long. Retrying cannot help.
	stateStalled: {ready: metav1.ConditionFalse, stalled: true, event: corev1.EventTypeWarning},
	// Any other error: the API server refused or could not be reached.
	stateFailed: {ready: metav1.ConditionFalse, reconciling: true, event: corev1.EventTypeWarning, requeue: true},
	// Our objects are fine but one the object depends on is not (a
	// Destination of a site, the last retention Job).
	stateDegraded: {ready: metav1.ConditionFalse, event: corev1.EventTypeWarning},
	// Being deleted and held by a finalizer while the operator works
	// through the steps (a purge): no longer serving, nobody needs to act.
	stateDeleting: {ready: metav1.ConditionFalse, reconciling: true, event: corev1.EventTypeNormal},
}

// personNeeded is a failure only a person can fix. reason is the condition
// reason; the message says what to do. Build it with an err* constructor.
type personNeeded struct {
	reason, message string
}

func (e *personNeeded) Error() string { return e.message }

// errSecretNotFound: a Secret the object references does not exist.
func errSecretNotFound(namespace, name string, keys []string) error {
	return &personNeeded{v1alpha1.ReasonSecretNotFound,
		fmt.Sprintf("Secret %s not found in namespace %s; create it with key(s) %s", name, namespace, strings.Join(keys, ", "))}
}

// errSecretKeyMissing: a referenced Secret lacks keys, or they are empty.
func errSecretKeyMissing(name string, missing []string) error {
	return &personNeeded{v1alpha1.ReasonSecretKeyMissing,
		fmt.Sprintf("Secret %s has no key %s (or it is empty); add it", name, strings.Join(missing, ", "))}
}

// errNotOwned: an object with a name we need exists and is not ours. We
// never take such an object over.
func errNotOwned(kind, name string) error {
	return &personNeeded{v1alpha1.ReasonInvalidOwnership,
		fmt.Sprintf("%s %s exists and is not owned by this object; rename or delete it", kind, name)}
}

// errSiteNotFound: spec.siteRef names no TrackingSite (or one being deleted).
func errSiteNotFound(namespace, name string) error {
	return &personNeeded{v1alpha1.ReasonSiteNotFound,
		fmt.Sprintf("TrackingSite %s not found in namespace %s; create it or fix spec.siteRef", name, namespace)}
}

// errNameTooLong: a child's name would exceed a Kubernetes limit.
func errNameTooLong(kind, name string, max int) error {
	return &personNeeded{v1alpha1.ReasonNameTooLong,
		fmt.Sprintf("%s name %q is %d characters, over the limit of %d; use shorter names", kind, name, len(name), max)}
}

// outcomeOf maps the error that ended a pass to an outcome; ok is false for
// nil. The message is the whole error, with the context the steps wrapped
// around it ("storage: ...", "credentials for meta: ...").
func outcomeOf(err error) (o outcome, ok bool) {
	var pn *personNeeded
	switch {
	case err == nil:
		return outcome{}, false
	case errors.As(err, &pn):
		return stalled(pn.reason, err.Error()), true
	}
	return failed(v1alpha1.ReasonApplyFailed, err.Error()), true
}

// errorToReturn is what Reconcile returns for the error that ended a pass:
// the error itself when a retry can fix it, nil when a person must act.
func errorToReturn(err error) error {
	if o, ok := outcomeOf(err); ok && shapes[o.state].requeue {
		return err
	}
	return nil
}

// setConditions writes an outcome into a status as shapes says, and
// advances observedGeneration (also on failure: the status describes this
// generation).
func setConditions(st *v1alpha1.ObjectStatus, generation int64, o outcome) {
	shape := shapes[o.state]
	set := func(t string, s metav1.ConditionStatus) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{
			Type: t, Status: s, Reason: o.reason, Message: o.message, ObservedGeneration: generation,
		})
	}
	set(v1alpha1.ReadyCondition, shape.ready)
	// In a fixed order: the list's order is part of what a write compares.
	for _, c := range []struct {
		typ string
		on  bool
	}{{v1alpha1.ReconcilingCondition, shape.reconciling}, {v1alpha1.StalledCondition, shape.stalled}} {
		if c.on {
			set(c.typ, metav1.ConditionTrue)
		} else {
			meta.RemoveStatusCondition(&st.Conditions, c.typ)
		}
	}
	st.ObservedGeneration = generation
}
