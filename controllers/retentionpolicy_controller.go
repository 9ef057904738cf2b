package controllers

import (
	"context"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// RetentionPolicyFieldManager is the server-side apply field manager of the RetentionPolicy controller.
const RetentionPolicyFieldManager = "trackstack-retentionpolicy"

// RetentionPolicyReconciler runs a CronJob per RetentionPolicy and mirrors
// its last Job in the policy's status.
type RetentionPolicyReconciler struct {
	client.Client
	APIReader client.Reader
	Recorder  recorder.EventRecorder
	Metrics   *Metrics
	Options   Options
}

// +kubebuilder:rbac:groups=trackstack.dev,resources=retentionpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=trackstack.dev,resources=retentionpolicies/status,verbs=get;patch
// +kubebuilder:rbac:groups=batch,resources=cronjobs,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch

// Reconcile checks the site, applies the CronJob and reads back the last Job.
func (r *RetentionPolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	policy := &v1alpha1.RetentionPolicy{}
	if err := r.Get(ctx, req.NamespacedName, policy); err != nil {
		if apierrors.IsNotFound(err) {
			r.Metrics.forget("RetentionPolicy", req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	orig := policy.DeepCopy()
	run := &retentionRun{r: r, policy: policy}
	var stepErr error
	defer func() {
		status := statusWriter{r.Client, r.Recorder, r.Metrics, "RetentionPolicy"}
		if err := status.patch(ctx, orig, policy, run.conclude(stepErr)); err != nil && retErr == nil {
			retErr = err
		}
	}()
	stepErr, retErr = runSteps(ctx, []func(context.Context) error{
		run.reconcileSite,
		run.reconcileCronJob,
		run.observeJobs,
	})
	return ctrl.Result{}, retErr
}

// retentionRun is one pass of the RetentionPolicy reconciler.
type retentionRun struct {
	r         *RetentionPolicyReconciler
	policy    *v1alpha1.RetentionPolicy
	site      *v1alpha1.TrackingSite
	cronJob   types.NamespacedName
	jobFailed string
}

// reconcileSite finds the site; without one the CronJob is removed.
func (run *retentionRun) reconcileSite(ctx context.Context) error {
	p := run.policy
	site, err := getReferencedSite(ctx, run.r.Client, p.Namespace, p.Spec.SiteRef.Name)
	if err != nil {
		key := types.NamespacedName{Namespace: p.Namespace, Name: retentionName(p.Spec.SiteRef.Name, p.Name)}
		if _, derr := deleteChild(ctx, run.r.Client, p, key, &batchv1.CronJob{}); derr != nil {
			return derr
		}
		return err
	}
	if err := checkRetentionName(site.Name, p.Name); err != nil {
		return err
	}
	run.site = site
	run.cronJob = types.NamespacedName{Namespace: p.Namespace, Name: retentionName(site.Name, p.Name)}
	return nil
}

// reconcileCronJob applies the CronJob.
func (run *retentionRun) reconcileCronJob(ctx context.Context) error {
	a := &applier{client: run.r.Client, reader: run.r.APIReader, fieldManager: RetentionPolicyFieldManager}
	in := retentionInputs{policy: run.policy, site: run.site, opts: run.r.Options}
	changed, err := applyChild(ctx, a, run.policy, run.cronJob, &batchv1.CronJob{}, buildRetentionCronJob(in), batchv1ac.ExtractCronJob)
	if changed {
		emitApplied(run.r.Recorder, run.policy, []string{"CronJob " + run.cronJob.Name})
	}
	return err
}

// observeJobs mirrors the CronJob's schedule times and the last Job's result.
func (run *retentionRun) observeJobs(ctx context.Context) error {
	var cj batchv1.CronJob
	if err := run.r.Get(ctx, run.cronJob, &cj); err != nil {
		return client.IgnoreNotFound(err)
	}
	st := &run.policy.Status
	st.LastScheduleTime = cj.Status.LastScheduleTime
	st.LastSuccessfulTime = cj.Status.LastSuccessfulTime
	var jobs batchv1.JobList
	if err := run.r.List(ctx, &jobs, client.InNamespace(run.policy.Namespace),
		client.MatchingLabels{LabelRetentionPolicy: run.policy.Name, LabelSite: run.site.Name}); err != nil {
		return fmt.Errorf("listing retention Jobs: %w", err)
	}
	result, failure := lastJobResult(jobs.Items)
	if result != "" {
		st.LastResult = result
	}
	for _, j := range jobs.Items {
		if jobFinished(&j) == v1alpha1.RetentionResultSucceeded && j.Status.CompletionTime != nil &&
			(st.LastSuccessfulTime == nil || j.Status.CompletionTime.After(st.LastSuccessfulTime.Time)) {
			st.LastSuccessfulTime = j.Status.CompletionTime
		}
	}
	run.jobFailed = failure
	return nil
}

// conclude turns the pass into an outcome.
func (run *retentionRun) conclude(err error) outcome {
	if o, ok := outcomeOf(err); ok {
		return o
	}
	p := run.policy
	switch {
	case run.jobFailed != "":
		return degraded(v1alpha1.ReasonJobFailed, run.jobFailed)
	case p.Spec.Suspend:
		return ready(v1alpha1.ReasonSuspended, "schedule suspended")
	}
	return ready(v1alpha1.ReasonSucceeded, fmt.Sprintf("scheduled %q: CronJob %s", p.Spec.Schedule, run.cronJob.Name))
}

// SetupWithManager registers the controller, its watches and field indexes.
func (r *RetentionPolicyReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.RetentionPolicy{}, indexSiteRef, func(o client.Object) []string {
		return []string{o.(*v1alpha1.RetentionPolicy).Spec.SiteRef.Name}
	}); err != nil {
		return fmt.Errorf("indexing RetentionPolicies by site: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.RetentionPolicy{}).
		Owns(&batchv1.CronJob{}).
		Watches(&batchv1.Job{}, handler.EnqueueRequestsFromMapFunc(policyOfJob)).
		Watches(&v1alpha1.TrackingSite{}, handler.EnqueueRequestsFromMapFunc(
			referrersOfSite(r.Client, func() client.ObjectList { return &v1alpha1.RetentionPolicyList{} }))).
		Named("retentionpolicy").
		WithOptions(r.Options.controllerOptions()).
		Complete(r)
}

// policyOfJob maps a retention Job to its policy through its labels.
func policyOfJob(_ context.Context, o client.Object) []reconcile.Request {
	name := o.GetLabels()[LabelRetentionPolicy]
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
}
