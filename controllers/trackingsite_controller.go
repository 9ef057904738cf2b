package controllers

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// TrackingSiteFieldManager is the server-side apply field manager of the TrackingSite controller.
const TrackingSiteFieldManager = "trackstack-trackingsite"

// TrackingSiteReconciler turns a TrackingSite into its runtime ConfigMap,
// generated keys Secret, collector and dashboard.
type TrackingSiteReconciler struct {
	client.Client
	// APIReader reads uncached: Secrets (never cached by the operator) and
	// objects our label-filtered caches cannot see.
	APIReader client.Reader
	Recorder  recorder.EventRecorder
	Metrics   *Metrics
	Options   Options
}

// RBAC, least privilege: server-side apply needs create and patch (never
// update); delete only for children that come and go with the spec.
// +kubebuilder:rbac:groups=trackstack.dev,resources=trackingsites,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=trackstack.dev,resources=trackingsites/status,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=configmaps;services,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// Closing a site with deletionPolicy: Delete: the purge Job (and its
// ConfigMap, above), the site's pods, only read, to wait for its writers
// to stop, and its Namespace, read to tell whether it is being deleted.
// patch on trackingsites above sets the finalizer.
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=delete

// Reconcile reads like a table of contents: fetch, handle deletion, keep the
// purge finalizer in line with spec.deletionPolicy, defer the status patch,
// honour suspend, then run the sub-steps in order, stopping at the first
// error. The finalizer comes before suspend: it is a promise about deletion,
// which a suspended site keeps too.
func (r *TrackingSiteReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	site := &v1alpha1.TrackingSite{}
	if err := r.Get(ctx, req.NamespacedName, site); err != nil {
		if apierrors.IsNotFound(err) {
			r.Metrics.forget("TrackingSite", req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !site.DeletionTimestamp.IsZero() {
		return r.reconcileDeletion(ctx, site)
	}
	if err := r.syncFinalizer(ctx, site); err != nil {
		return ctrl.Result{}, err
	}
	if site.Spec.Suspend {
		log.FromContext(ctx).V(1).Info("suspended; leaving children as they are")
		return ctrl.Result{}, nil
	}
	orig := site.DeepCopy()
	run := &siteRun{r: r, site: site, applier: &applier{client: r.Client, reader: r.APIReader, fieldManager: TrackingSiteFieldManager}}
	// stepErr is the error that ended the pass, also when it needs a person
	// and is therefore not returned.
	var stepErr error
	defer func() {
		if err := r.patchStatus(ctx, orig, site, run.conclude(stepErr)); err != nil && retErr == nil {
			retErr = err
		}
	}()
	stepErr, retErr = runSteps(ctx, []func(context.Context) error{
		run.reconcileStorageSecret,
		run.reconcileOIDCSecret,
		run.reconcileKeys,
		run.reconcileConfig,
		run.reconcileCollector,
		run.reconcileDashboard,
		run.reconcileIngresses,
		run.observeRollout,
		run.observeDestinations,
	})
	return ctrl.Result{}, retErr
}

// patchStatus fills in the site's URLs and snippet, then writes the status.
func (r *TrackingSiteReconciler) patchStatus(ctx context.Context, orig, site *v1alpha1.TrackingSite, o outcome) error {
	site.Status.CollectorURL = collectorURL(site)
	site.Status.DashboardURL = dashboardURL(site)
	site.Status.Snippet = snippet(site)
	return statusWriter{r.Client, r.Recorder, r.Metrics, "TrackingSite"}.patch(ctx, orig, site, o)
}

// SetupWithManager registers the controller, its watches and field indexes.
func (r *TrackingSiteReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.TrackingSite{}, indexStorageSecret,
		func(o client.Object) []string {
			return []string{o.(*v1alpha1.TrackingSite).Spec.Storage.Postgres.SecretRef.Name}
		}); err != nil {
		return fmt.Errorf("indexing TrackingSites by storage Secret: %w", err)
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.TrackingSite{}, indexOIDCSecret, oidcSecretOf); err != nil {
		return fmt.Errorf("indexing TrackingSites by OIDC client Secret: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.TrackingSite{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.Service{}).
		Owns(&appsv1.Deployment{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&networkingv1.Ingress{}).
		Owns(&corev1.Secret{}, builder.OnlyMetadata).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.sitesForSecret), builder.OnlyMetadata).
		Watches(&v1alpha1.Destination{}, handler.EnqueueRequestsFromMapFunc(siteOfReferrer)).
		Watches(&v1alpha1.RetentionPolicy{}, handler.EnqueueRequestsFromMapFunc(siteOfReferrer)).
		Watches(&batchv1.Job{}, handler.EnqueueRequestsFromMapFunc(r.sitesOfPurgeObjects)).
		Watches(&appsv1.Deployment{}, handler.EnqueueRequestsFromMapFunc(r.sitesOfPurgeObjects), builder.WithPredicates(onlyDeletes)).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(r.sitesOfPurgeObjects), builder.OnlyMetadata, builder.WithPredicates(onlyDeletes)).
		Named("trackingsite").
		WithOptions(r.Options.controllerOptions()).
		Complete(r)
}

// oidcSecretOf indexes a site by the Secret of its dashboard's OIDC client.
func oidcSecretOf(o client.Object) []string {
	if oidc := o.(*v1alpha1.TrackingSite).Spec.Dashboard.OIDC; oidc != nil {
		return []string{oidc.ClientSecretRef.Name}
	}
	return nil
}

// sitesForSecret maps a Secret to the sites that consume it: as their
// storage or as their dashboard's OIDC client secret.
func (r *TrackingSiteReconciler) sitesForSecret(ctx context.Context, o client.Object) []reconcile.Request {
	var reqs []reconcile.Request
	for _, index := range []string{indexStorageSecret, indexOIDCSecret} {
		var sites v1alpha1.TrackingSiteList
		if err := r.List(ctx, &sites, client.InNamespace(o.GetNamespace()),
			client.MatchingFields{index: o.GetName()}); err != nil {
			log.FromContext(ctx).Error(err, "listing TrackingSites for Secret", "secret", o.GetName())
			continue
		}
		for _, s := range sites.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&s)})
		}
	}
	return reqs
}

// siteOfReferrer maps a Destination or RetentionPolicy to its site.
func siteOfReferrer(_ context.Context, o client.Object) []reconcile.Request {
	var site string
	switch v := o.(type) {
	case *v1alpha1.Destination:
		site = v.Spec.SiteRef.Name
	case *v1alpha1.RetentionPolicy:
		site = v.Spec.SiteRef.Name
	}
	if site == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: site}}}
}

// Field index names.
const (
	indexStorageSecret     = ".spec.storage.postgres.secretRef.name"
	indexOIDCSecret        = ".spec.dashboard.oidc.clientSecretRef.name"
	indexSiteRef           = ".spec.siteRef.name"
	indexCredentialsSecret = ".spec.credentialsSecretRef.name"
)

// joinNames lists names for a message.
func joinNames(names []string) string { return strings.Join(names, ", ") }
