package controllers

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// This file closes a site with deletionPolicy: Delete. Such a site carries
// PurgeFinalizer; when it is deleted the reconciler, in order:
//
//  1. checks the storage Secret (the purge needs it; a missing one stalls);
//  2. stops every pod that writes the site's rows: it deletes the collector
//     and dashboard Deployments, the Destination controller deletes the
//     forwarders, and it waits until none of their pods is left, so no row
//     arrives behind the purge;
//  3. runs the Job <site>-purge (`trackstack purge`) and follows it;
//  4. once the Job succeeded, removes the finalizer.
//
// A failed Job is PurgeFailed (Stalled) until someone deletes it, or it
// expires a day after it finished: then a new Job runs.
//
// In a namespace being deleted no Job can start and the storage Secret is
// going too: the finalizer is released without a purge (the operator's log
// says so), since holding it would keep the namespace from ever going.

// writerComponents are the components whose pods write a site's rows.
var writerComponents = []string{ComponentCollector, ComponentDashboard, ComponentForwarder}

// syncFinalizer gives a site with deletionPolicy: Delete the purge
// finalizer and takes it from one with Retain. Finalizers are metadata the
// operator owns, not the user's spec.
func (r *TrackingSiteReconciler) syncFinalizer(ctx context.Context, site *v1alpha1.TrackingSite) error {
	want := site.Spec.DeletionPolicy == v1alpha1.DeletionPolicyDelete
	if want == controllerutil.ContainsFinalizer(site, PurgeFinalizer) {
		return nil
	}
	return r.setFinalizer(ctx, site, want)
}

// setFinalizer adds or removes the purge finalizer. The optimistic lock
// keeps a merge patch of the whole list from dropping another controller's
// finalizer added meanwhile.
func (r *TrackingSiteReconciler) setFinalizer(ctx context.Context, site *v1alpha1.TrackingSite, on bool) error {
	orig := site.DeepCopy()
	if on {
		controllerutil.AddFinalizer(site, PurgeFinalizer)
	} else {
		controllerutil.RemoveFinalizer(site, PurgeFinalizer)
	}
	if err := r.Patch(ctx, site, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("setting the finalizer %s: %w", PurgeFinalizer, client.IgnoreNotFound(err))
	}
	return nil
}

// reconcileDeletion runs the purge of a deleted site that holds the finalizer.
func (r *TrackingSiteReconciler) reconcileDeletion(ctx context.Context, site *v1alpha1.TrackingSite) (_ reconcile.Result, retErr error) {
	if !controllerutil.ContainsFinalizer(site, PurgeFinalizer) {
		return reconcile.Result{}, nil
	}
	if site.Spec.DeletionPolicy != v1alpha1.DeletionPolicyDelete {
		// Switched to Retain: the data stays, the site goes.
		return reconcile.Result{}, r.setFinalizer(ctx, site, false)
	}
	orig := site.DeepCopy()
	run := &purgeRun{r: r, site: site}
	var stepErr error
	defer func() {
		if run.released {
			return // the site is gone; there is no status to write
		}
		if err := r.patchStatus(ctx, orig, site, run.conclude(stepErr)); err != nil && retErr == nil {
			retErr = err
		}
	}()
	stepErr, retErr = runSteps(ctx, []func(context.Context) error{
		run.checkNamespace,
		run.checkStorage,
		run.stopWriters,
		run.runJob,
		run.release,
	})
	return reconcile.Result{}, retErr
}

// purgeRun is one pass over a site being purged.
type purgeRun struct {
	r    *TrackingSiteReconciler
	site *v1alpha1.TrackingSite
	// waiting says what the purge waits for; the later steps skip.
	waiting string
	// purged: the Job succeeded. released: the finalizer is gone.
	purged, released bool
}

func (run *purgeRun) key(name string) types.NamespacedName {
	return types.NamespacedName{Namespace: run.site.Namespace, Name: name}
}

// checkNamespace gives up the purge in a namespace being deleted. The
// Namespace is read uncached: one read per pass of a site being deleted.
func (run *purgeRun) checkNamespace(ctx context.Context) error {
	ns := &corev1.Namespace{}
	if err := run.r.APIReader.Get(ctx, types.NamespacedName{Name: run.site.Namespace}, ns); err != nil {
		return fmt.Errorf("reading Namespace %s: %w", run.site.Namespace, err)
	}
	if ns.DeletionTimestamp.IsZero() {
		return nil
	}
	if err := run.r.setFinalizer(ctx, run.site, false); err != nil {
		return err
	}
	run.released = true
	// Logged, not an Event: a namespace being deleted takes no new objects.
	log.FromContext(ctx).Info("namespace is being deleted, so the purge Job cannot run: the site's data stays in the store; run `trackstack purge` to delete it",
		"namespace", run.site.Namespace, "site", run.site.Name)
	return nil
}

// checkStorage checks the storage Secret the purge Job mounts.
func (run *purgeRun) checkStorage(ctx context.Context) error {
	if run.released {
		return nil
	}
	ref := run.site.Spec.Storage.Postgres.SecretRef
	if _, err := checkSecretKeys(ctx, run.r.APIReader, run.site.Namespace, ref.Name, []string{storageKey(run.site)}); err != nil {
		return fmt.Errorf("storage, needed to purge the site's data: %w", err)
	}
	return checkPurgeName(run.site.Name)
}

// stopWriters deletes the collector and dashboard and waits until no pod
// writing the site's rows (forwarders included) is left.
func (run *purgeRun) stopWriters(ctx context.Context) error {
	if run.released {
		return nil
	}
	for _, name := range []string{collectorName(run.site.Name), dashboardName(run.site.Name)} {
		if _, err := deleteChild(ctx, run.r.Client, run.site, run.key(name), &appsv1.Deployment{}); err != nil {
			return fmt.Errorf("deleting Deployment %s: %w", name, err)
		}
	}
	left, err := run.writers(ctx)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		run.waiting = "stopping what writes the site's data before purging it: " + joinNames(left)
	}
	return nil
}

// writers lists the site's writer Deployments and pods that still exist.
func (run *purgeRun) writers(ctx context.Context) ([]string, error) {
	opts := []client.ListOption{client.InNamespace(run.site.Namespace), client.MatchingLabels{LabelSite: run.site.Name}}
	var deps appsv1.DeploymentList
	if err := run.r.List(ctx, &deps, opts...); err != nil {
		return nil, fmt.Errorf("listing the site's Deployments: %w", err)
	}
	// Pods as metadata only, as they are watched: no pod specs in memory.
	pods := &metav1.PartialObjectMetadataList{}
	pods.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
	if err := run.r.List(ctx, pods, opts...); err != nil {
		return nil, fmt.Errorf("listing the site's pods: %w", err)
	}
	var left []string
	note := func(kind string, m metav1.ObjectMeta) {
		if slices.Contains(writerComponents, m.Labels[LabelComponent]) {
			left = append(left, kind+" "+m.Name)
		}
	}
	for _, d := range deps.Items {
		note("Deployment", d.ObjectMeta)
	}
	for _, p := range pods.Items {
		note("Pod", p.ObjectMeta)
	}
	slices.Sort(left)
	return left, nil
}

// runJob starts the purge Job, or follows the one running.
func (run *purgeRun) runJob(ctx context.Context) error {
	if run.waiting != "" || run.released {
		return nil
	}
	job, err := run.currentJob(ctx)
	if err != nil || job == nil {
		return err
	}
	if err := run.ensureJobConfig(ctx, job); err != nil {
		return err
	}
	switch jobFinished(job) {
	case v1alpha1.RetentionResultSucceeded:
		run.purged = true
	case v1alpha1.RetentionResultFailed:
		return errPurgeFailed(job)
	default:
		run.waiting = fmt.Sprintf("purging the site's data: Job %s is running", job.Name)
	}
	return nil
}

// currentJob returns this site's purge Job, creating it when missing. It
// returns nil (and sets waiting) while a Job is being created or one of an
// earlier site of the same name is being removed.
func (run *purgeRun) currentJob(ctx context.Context) (*batchv1.Job, error) {
	name := purgeName(run.site.Name)
	job := &batchv1.Job{}
	err := run.r.Get(ctx, run.key(name), job)
	if apierrors.IsNotFound(err) {
		return nil, run.createJob(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("reading Job %s: %w", name, err)
	}
	switch {
	case job.Labels[LabelComponent] != ComponentPurge || job.Labels[LabelSite] != run.site.Name:
		return nil, errNotOwned("Job", name)
	case job.Labels[LabelSiteUID] == string(run.site.UID):
		return job, nil
	}
	// Left by an earlier site of this name, whose data it purged: never
	// count its success for this site.
	if job.DeletionTimestamp.IsZero() {
		if err := run.r.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
			return nil, fmt.Errorf("deleting the earlier site's Job %s: %w", name, err)
		}
	}
	run.waiting = fmt.Sprintf("removing Job %s, left by an earlier site of this name", name)
	return nil, nil
}

// createJob creates the purge Job. Our cache only holds Jobs with our
// labels, so an uncached read first makes sure no other Job has the name.
func (run *purgeRun) createJob(ctx context.Context) error {
	name := purgeName(run.site.Name)
	if err := run.r.APIReader.Get(ctx, run.key(name), &batchv1.Job{}); err == nil {
		return errNotOwned("Job", name)
	} else if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading Job %s: %w", name, err)
	}
	job := buildPurgeJob(siteInputs{site: run.site, opts: run.r.Options})
	if err := run.r.Apply(ctx, job, client.FieldOwner(TrackingSiteFieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("creating Job %s: %w", name, err)
	}
	emitApplied(run.r.Recorder, run.site, []string{"Job " + name})
	run.waiting = fmt.Sprintf("purging the site's data: Job %s created", name)
	return nil
}

// ensureJobConfig creates the ConfigMap the Job reads, owned by the Job;
// one owned by an earlier Job is replaced.
func (run *purgeRun) ensureJobConfig(ctx context.Context, job *batchv1.Job) error {
	name := purgeName(run.site.Name)
	cm := &corev1.ConfigMap{}
	err := run.r.Get(ctx, run.key(name), cm)
	switch {
	case err == nil && metav1.IsControlledBy(cm, job):
		return nil
	case err == nil && cm.Labels[LabelComponent] == ComponentPurge:
		if err := run.r.Delete(ctx, cm); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting the earlier Job's ConfigMap %s: %w", name, err)
		}
	case err == nil:
		return errNotOwned("ConfigMap", name)
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("reading ConfigMap %s: %w", name, err)
	default:
		if err := run.r.APIReader.Get(ctx, run.key(name), &corev1.ConfigMap{}); err == nil {
			return errNotOwned("ConfigMap", name)
		} else if !apierrors.IsNotFound(err) {
			return fmt.Errorf("reading ConfigMap %s: %w", name, err)
		}
	}
	data, err := renderRuntimeConfig(run.site, nil, nil)
	if err != nil {
		return err
	}
	if err := run.r.Apply(ctx, buildPurgeConfigMap(run.site, job.Name, job.UID, data),
		client.FieldOwner(TrackingSiteFieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying ConfigMap %s: %w", name, err)
	}
	return nil
}

// release removes the finalizer once the purge succeeded.
func (run *purgeRun) release(ctx context.Context) error {
	if !run.purged {
		return nil
	}
	if err := run.r.setFinalizer(ctx, run.site, false); err != nil {
		return err
	}
	run.released = true
	log.FromContext(ctx).Info("site data purged; finalizer released", "job", purgeName(run.site.Name))
	return nil
}

// conclude turns the pass's findings into an outcome.
func (run *purgeRun) conclude(err error) outcome {
	if o, ok := outcomeOf(err); ok {
		return o
	}
	if run.waiting != "" {
		return purging(run.waiting)
	}
	return purging("the site's data is purged")
}

// errPurgeFailed: the purge Job failed; someone must look at its log.
func errPurgeFailed(job *batchv1.Job) error {
	why := "failed"
	for _, c := range job.Status.Conditions {
		if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
			why = fmt.Sprintf("%s: %s", c.Reason, c.Message)
		}
	}
	return &personNeeded{v1alpha1.ReasonPurgeFailed,
		fmt.Sprintf("purge Job %s failed (%s); its pod's log says why. Delete the Job to run the purge again", job.Name, why)}
}

// sitesOfPurgeObjects maps a purge Job, or a deleted writer Deployment or
// pod, to its site, so the purge moves on as soon as they change. Writers
// only matter to sites being deleted: the others are not enqueued.
func (r *TrackingSiteReconciler) sitesOfPurgeObjects(ctx context.Context, o client.Object) []reconcile.Request {
	l := o.GetLabels()
	site := l[LabelSite]
	if site == "" || (l[LabelComponent] != ComponentPurge && !slices.Contains(writerComponents, l[LabelComponent])) {
		return nil
	}
	key := types.NamespacedName{Namespace: o.GetNamespace(), Name: site}
	if l[LabelComponent] != ComponentPurge {
		var s v1alpha1.TrackingSite
		if err := r.Get(ctx, key, &s); err != nil || s.DeletionTimestamp.IsZero() {
			return nil
		}
	}
	return []reconcile.Request{{NamespacedName: key}}
}

// onlyDeletes passes the events that end an object: its deletion, or the
// update that starts it.
var onlyDeletes = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	UpdateFunc:  func(e event.UpdateEvent) bool { return !e.ObjectNew.GetDeletionTimestamp().IsZero() },
	DeleteFunc:  func(event.DeleteEvent) bool { return true },
	GenericFunc: func(event.GenericEvent) bool { return false },
}
