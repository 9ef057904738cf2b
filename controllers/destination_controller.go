package controllers

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// DestinationFieldManager is the server-side apply field manager of the Destination controller.
const DestinationFieldManager = "trackstack-destination"

// DestinationReconciler runs one forwarder Deployment per Destination, with
// the credentials Secret mounted read-only as files.
type DestinationReconciler struct {
	client.Client
	APIReader client.Reader
	Recorder  recorder.EventRecorder
	Metrics   *Metrics
	Options   Options
}

// +kubebuilder:rbac:groups=trackstack.dev,resources=destinations,verbs=get;list;watch
// +kubebuilder:rbac:groups=trackstack.dev,resources=destinations/status,verbs=get;patch

// Reconcile checks the site and the credentials, then applies the forwarder.
func (r *DestinationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	dest := &v1alpha1.Destination{}
	if err := r.Get(ctx, req.NamespacedName, dest); err != nil {
		if apierrors.IsNotFound(err) {
			r.Metrics.forget("Destination", req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	orig := dest.DeepCopy()
	run := &destinationRun{r: r, dest: dest}
	var stepErr error
	defer func() {
		status := statusWriter{r.Client, r.Recorder, r.Metrics, "Destination"}
		if err := status.patch(ctx, orig, dest, run.conclude(stepErr)); err != nil && retErr == nil {
			retErr = err
		}
	}()
	stepErr, retErr = runSteps(ctx, []func(context.Context) error{
		run.reconcileSite,
		run.reconcileCredentials,
		run.reconcileForwarder,
		run.observeRollout,
	})
	return ctrl.Result{}, retErr
}

// destinationRun is one pass of the Destination reconciler.
type destinationRun struct {
	r          *DestinationReconciler
	dest       *v1alpha1.Destination
	site       *v1alpha1.TrackingSite
	secretHash string
	waiting    string
	// notReady says why the rolled-out forwarder has no ready pod.
	notReady    string
	forwarderNS types.NamespacedName
}

// reconcileSite finds the site; without one there is nothing to forward, so
// a forwarder left from before is removed.
func (run *destinationRun) reconcileSite(ctx context.Context) error {
	d := run.dest
	site, err := getReferencedSite(ctx, run.r.Client, d.Namespace, d.Spec.SiteRef.Name)
	if err != nil {
		run.removeForwarders(ctx)
		return err
	}
	run.site = site
	run.forwarderNS = types.NamespacedName{Namespace: d.Namespace, Name: forwarderName(site.Name, d.Name)}
	return nil
}

// removeForwarders deletes any forwarder this Destination controls.
func (run *destinationRun) removeForwarders(ctx context.Context) {
	var list appsv1.DeploymentList
	if err := run.r.List(ctx, &list, client.InNamespace(run.dest.Namespace),
		client.MatchingLabels{LabelComponent: ComponentForwarder, LabelDestination: run.dest.Name}); err != nil {
		log.FromContext(ctx).Error(err, "listing forwarders to remove")
		return
	}
	for i := range list.Items {
		if _, err := deleteChild(ctx, run.r.Client, run.dest, client.ObjectKeyFromObject(&list.Items[i]), &appsv1.Deployment{}); err != nil {
			log.FromContext(ctx).Error(err, "removing forwarder", "deployment", list.Items[i].Name)
		}
	}
}

// reconcileCredentials checks that the credentials Secret holds every key
// the type needs; a missing one becomes a condition naming it.
func (run *destinationRun) reconcileCredentials(ctx context.Context) error {
	d := run.dest
	keys := v1alpha1.CredentialKeys[d.Spec.Type]
	credHash, err := checkSecretKeys(ctx, run.r.APIReader, d.Namespace, d.Spec.CredentialsSecretRef.Name, keys)
	if err != nil {
		return fmt.Errorf("credentials for %s: %w", d.Spec.Type, err)
	}
	storageHash, err := checkSecretKeys(ctx, run.r.APIReader, d.Namespace,
		run.site.Spec.Storage.Postgres.SecretRef.Name, []string{storageKey(run.site)})
	if err != nil {
		return fmt.Errorf("storage of site %s: %w", run.site.Name, err)
	}
	d.Status.CredentialsHash = credHash
	run.secretHash = hashBytes([]byte(credHash + storageHash))
	return nil
}

// reconcileForwarder applies the forwarder Deployment.
func (run *destinationRun) reconcileForwarder(ctx context.Context) error {
	a := &applier{client: run.r.Client, reader: run.r.APIReader, fieldManager: DestinationFieldManager}
	in := forwarderInputs{dest: run.dest, site: run.site, opts: run.r.Options, secretHash: run.secretHash}
	changed, err := applyChild(ctx, a, run.dest, run.forwarderNS, &appsv1.Deployment{}, buildForwarderDeployment(in), appsv1ac.ExtractDeployment)
	if changed {
		emitApplied(run.r.Recorder, run.dest, []string{"Deployment " + run.forwarderNS.Name})
	}
	return err
}

// observeRollout waits for the forwarder to roll out.
func (run *destinationRun) observeRollout(ctx context.Context) error {
	var dep appsv1.Deployment
	if err := run.r.Get(ctx, run.forwarderNS, &dep); err != nil {
		run.waiting = fmt.Sprintf("waiting for Deployment %s to appear", run.forwarderNS.Name)
		return client.IgnoreNotFound(err)
	}
	if msg := forwarderNotReady(&dep); msg != "" {
		run.notReady = msg
		return nil
	}
	run.waiting = deploymentWaiting(&dep)
	return nil
}

// forwarderNotReady says why a forwarder that has rolled out its current
// template has no ready pod, or "" when it has one or is still rolling
// out. The Deployment controller tells the two apart: Progressing reads
// NewReplicaSetAvailable once a pod of the template was ready (so a pod
// that stopped being ready fails its probe now), and ProgressDeadlineExceeded
// when no pod became ready within the deadline.
func forwarderNotReady(d *appsv1.Deployment) string {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	if want == 0 || st.ObservedGeneration < d.Generation || st.UpdatedReplicas < want ||
		st.Replicas > st.UpdatedReplicas || st.AvailableReplicas >= want {
		return ""
	}
	for _, c := range st.Conditions {
		if c.Type != appsv1.DeploymentProgressing {
			continue
		}
		if c.Reason == "NewReplicaSetAvailable" || c.Reason == "ProgressDeadlineExceeded" {
			return fmt.Sprintf("forwarder %s is not ready: its readiness probe fails "+
				"(the platform may reject the credentials, or the store is down); "+
				"kubectl logs deployment/%s says why", d.Name, d.Name)
		}
	}
	return ""
}

// conclude turns the pass into an outcome.
func (run *destinationRun) conclude(err error) outcome {
	if o, ok := outcomeOf(err); ok {
		return o
	}
	switch {
	case run.notReady != "":
		return degraded(v1alpha1.ReasonForwarderNotReady, run.notReady)
	case run.waiting != "":
		return progressing(v1alpha1.ReasonProgressing, run.waiting)
	case run.dest.Spec.Paused:
		return ready(v1alpha1.ReasonPaused, "paused: events are recorded and sent once unpaused")
	}
	return ready(v1alpha1.ReasonSucceeded, fmt.Sprintf("forwarding to %s", run.dest.Spec.Type))
}

// SetupWithManager registers the controller, its watches and field indexes.
func (r *DestinationReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &v1alpha1.Destination{}, indexSiteRef, func(o client.Object) []string {
		return []string{o.(*v1alpha1.Destination).Spec.SiteRef.Name}
	}); err != nil {
		return fmt.Errorf("indexing Destinations by site: %w", err)
	}
	if err := idx.IndexField(ctx, &v1alpha1.Destination{}, indexCredentialsSecret, func(o client.Object) []string {
		return []string{o.(*v1alpha1.Destination).Spec.CredentialsSecretRef.Name}
	}); err != nil {
		return fmt.Errorf("indexing Destinations by Secret: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Destination{}).
		Owns(&appsv1.Deployment{}).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.destinationsForSecret), builder.OnlyMetadata).
		Watches(&v1alpha1.TrackingSite{}, handler.EnqueueRequestsFromMapFunc(
			referrersOfSite(r.Client, func() client.ObjectList { return &v1alpha1.DestinationList{} }))).
		Named("destination").
		WithOptions(r.Options.controllerOptions()).
		Complete(r)
}

// destinationsForSecret maps a Secret to the Destinations using it as
// credentials, and to those whose site stores events with it.
func (r *DestinationReconciler) destinationsForSecret(ctx context.Context, o client.Object) []reconcile.Request {
	var dests v1alpha1.DestinationList
	if err := r.List(ctx, &dests, client.InNamespace(o.GetNamespace()),
		client.MatchingFields{indexCredentialsSecret: o.GetName()}); err != nil {
		log.FromContext(ctx).Error(err, "listing Destinations for Secret", "secret", o.GetName())
		return nil
	}
	reqs := requestsFor(&dests)
	var sites v1alpha1.TrackingSiteList
	if err := r.List(ctx, &sites, client.InNamespace(o.GetNamespace()),
		client.MatchingFields{indexStorageSecret: o.GetName()}); err != nil {
		return reqs
	}
	for _, s := range sites.Items {
		reqs = append(reqs, referrersOfSite(r.Client, func() client.ObjectList { return &v1alpha1.DestinationList{} })(ctx, &s)...)
	}
	return reqs
}
