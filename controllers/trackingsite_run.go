package controllers

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/types"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	autoscalingv2ac "k8s.io/client-go/applyconfigurations/autoscaling/v2"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

// siteRun is one pass of the TrackingSite reconciler: the sub-steps share
// what earlier steps found through its fields.
type siteRun struct {
	r       *TrackingSiteReconciler
	site    *v1alpha1.TrackingSite
	applier *applier

	storageHash string
	// oidcHash is the hash of the dashboard's OIDC client secret; "" without OIDC.
	oidcHash   string
	configHash string
	// destinations are the site's Destinations, read once by reconcileConfig.
	destinations []v1alpha1.Destination
	// changed lists the children this pass created or changed.
	changed []string
	// waiting says what the rollout still waits for; empty once rolled out.
	waiting string
	// destinationProblem describes a Destination of the site that is not Ready.
	destinationProblem string
}

func (run *siteRun) key(name string) types.NamespacedName {
	return types.NamespacedName{Namespace: run.site.Namespace, Name: name}
}

func (run *siteRun) inputs() siteInputs {
	return siteInputs{site: run.site, opts: run.r.Options, configHash: run.configHash, secretHash: run.storageHash, oidcSecretHash: run.oidcHash}
}

// note records a child that was written.
func (run *siteRun) note(changed bool, kind, name string) {
	if changed {
		run.changed = append(run.changed, kind+" "+name)
	}
}

// reconcileStorageSecret checks the storage Secret has its key; its hash rolls the pods on rotation.
func (run *siteRun) reconcileStorageSecret(ctx context.Context) error {
	ref := run.site.Spec.Storage.Postgres.SecretRef
	h, err := checkSecretKeys(ctx, run.r.APIReader, run.site.Namespace, ref.Name, []string{storageKey(run.site)})
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	run.storageHash = h
	return nil
}

// reconcileOIDCSecret checks the dashboard's OIDC client Secret has its
// key; its hash rolls the dashboard pods on rotation.
func (run *siteRun) reconcileOIDCSecret(ctx context.Context) error {
	oidc := run.site.Spec.Dashboard.OIDC
	if oidc == nil {
		run.oidcHash = ""
		return nil
	}
	h, err := checkSecretKeys(ctx, run.r.APIReader, run.site.Namespace, oidc.ClientSecretRef.Name, []string{config.OIDCSecretKey(oidc)})
	if err != nil {
		return fmt.Errorf("dashboard OIDC client secret: %w", err)
	}
	run.oidcHash = h
	return nil
}

// reconcileConfig renders the runtime ConfigMap from the site and the
// Destinations and RetentionPolicies that reference it.
func (run *siteRun) reconcileConfig(ctx context.Context) error {
	ns := client.InNamespace(run.site.Namespace)
	byRef := client.MatchingFields{indexSiteRef: run.site.Name}
	var dests v1alpha1.DestinationList
	if err := run.r.List(ctx, &dests, ns, byRef); err != nil {
		return fmt.Errorf("listing Destinations: %w", err)
	}
	var policies v1alpha1.RetentionPolicyList
	if err := run.r.List(ctx, &policies, ns, byRef); err != nil {
		return fmt.Errorf("listing RetentionPolicies: %w", err)
	}
	run.destinations = dests.Items
	data, err := renderRuntimeConfig(run.site, dests.Items, policies.Items)
	if err != nil {
		return err
	}
	run.configHash = hashBytes(data)
	changed, err := applyChild(ctx, run.applier, run.site, run.key(runtimeConfigMapName(run.site.Name)),
		&corev1.ConfigMap{}, buildRuntimeConfigMap(run.inputs(), data), corev1ac.ExtractConfigMap)
	run.note(changed, "ConfigMap", runtimeConfigMapName(run.site.Name))
	return err
}

// reconcileCollector applies the collector Deployment and Service, and the
// HPA and PodDisruptionBudget when the spec asks for them.
func (run *siteRun) reconcileCollector(ctx context.Context) error {
	s, in := run.site, run.inputs()
	name := collectorName(s.Name)
	changed, err := applyChild(ctx, run.applier, s, run.key(name), &appsv1.Deployment{}, buildCollectorDeployment(in), appsv1ac.ExtractDeployment)
	if run.note(changed, "Deployment", name); err != nil {
		return err
	}
	changed, err = applyChild(ctx, run.applier, s, run.key(name), &corev1.Service{}, buildService(s, name, ComponentCollector), corev1ac.ExtractService)
	if run.note(changed, "Service", name); err != nil {
		return err
	}
	if s.Spec.Collector.Autoscaling != nil {
		changed, err = applyChild(ctx, run.applier, s, run.key(name), &autoscalingv2.HorizontalPodAutoscaler{}, buildCollectorHPA(in), autoscalingv2ac.ExtractHorizontalPodAutoscaler)
	} else {
		changed, err = deleteChild(ctx, run.r.Client, s, run.key(name), &autoscalingv2.HorizontalPodAutoscaler{})
	}
	if run.note(changed, "HorizontalPodAutoscaler", name); err != nil {
		return err
	}
	if collectorMinReplicas(s) > 1 {
		changed, err = applyChild(ctx, run.applier, s, run.key(name), &policyv1.PodDisruptionBudget{}, buildCollectorPDB(in), policyv1ac.ExtractPodDisruptionBudget)
	} else {
		changed, err = deleteChild(ctx, run.r.Client, s, run.key(name), &policyv1.PodDisruptionBudget{})
	}
	run.note(changed, "PodDisruptionBudget", name)
	return err
}

// reconcileDashboard applies the dashboard Deployment and Service.
func (run *siteRun) reconcileDashboard(ctx context.Context) error {
	s, in := run.site, run.inputs()
	name := dashboardName(s.Name)
	changed, err := applyChild(ctx, run.applier, s, run.key(name), &appsv1.Deployment{}, buildDashboardDeployment(in), appsv1ac.ExtractDeployment)
	if run.note(changed, "Deployment", name); err != nil {
		return err
	}
	changed, err = applyChild(ctx, run.applier, s, run.key(name), &corev1.Service{}, buildService(s, name, ComponentDashboard), corev1ac.ExtractService)
	run.note(changed, "Service", name)
	return err
}

// reconcileIngresses publishes the collector and the dashboard: the
// Ingress <site>-collector for the first-party host, <site>-dashboard for
// the dashboard host (see trackingsite_ingress.go). The first-party one
// comes first, so a route moving between them is never absent.
func (run *siteRun) reconcileIngresses(ctx context.Context) error {
	s := run.site
	if err := run.reconcileIngress(ctx, collectorName(s.Name), wantsCollectorIngress(s), buildCollectorIngress); err != nil {
		return err
	}
	return run.reconcileIngress(ctx, dashboardName(s.Name), wantsDashboardIngress(s), buildDashboardIngress)
}

// reconcileIngress applies the Ingress name when wanted, else deletes it.
func (run *siteRun) reconcileIngress(ctx context.Context, name string, want bool,
	build func(siteInputs) *networkingv1ac.IngressApplyConfiguration,
) error {
	var changed bool
	var err error
	if want {
		changed, err = applyChild(ctx, run.applier, run.site, run.key(name), &networkingv1.Ingress{}, build(run.inputs()), networkingv1ac.ExtractIngress)
	} else {
		changed, err = deleteChild(ctx, run.r.Client, run.site, run.key(name), &networkingv1.Ingress{})
	}
	run.note(changed, "Ingress", name)
	return err
}

// observeRollout checks that the collector and dashboard Deployments have
// rolled out the current template and have their replicas available.
func (run *siteRun) observeRollout(ctx context.Context) error {
	emitApplied(run.r.Recorder, run.site, run.changed)
	for _, name := range []string{collectorName(run.site.Name), dashboardName(run.site.Name)} {
		var d appsv1.Deployment
		if err := run.r.Get(ctx, run.key(name), &d); err != nil {
			run.waiting = fmt.Sprintf("waiting for Deployment %s to appear", name)
			return client.IgnoreNotFound(err)
		}
		if msg := deploymentWaiting(&d); msg != "" {
			run.waiting = msg
			return nil
		}
	}
	return nil
}

// deploymentWaiting says what a Deployment's rollout still waits for, or ""
// when done. It follows `kubectl rollout status`: the new spec observed,
// every replica on the new template, no replica of an old template left
// (status.replicas counts those), and every wanted replica available.
func deploymentWaiting(d *appsv1.Deployment) string {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	switch {
	case st.ObservedGeneration < d.Generation:
		return fmt.Sprintf("waiting for Deployment %s to observe its new spec", d.Name)
	case st.UpdatedReplicas < want:
		return fmt.Sprintf("waiting for Deployment %s rollout: %d/%d replicas updated", d.Name, st.UpdatedReplicas, want)
	case st.Replicas > st.UpdatedReplicas:
		return fmt.Sprintf("waiting for Deployment %s rollout: %d old replicas pending termination", d.Name, st.Replicas-st.UpdatedReplicas)
	case st.AvailableReplicas < want:
		return fmt.Sprintf("waiting for Deployment %s: %d/%d replicas available", d.Name, st.AvailableReplicas, want)
	}
	return ""
}

// observeDestinations summarises the site's Destinations, so that the site
// reports one that cannot deliver.
func (run *siteRun) observeDestinations(context.Context) error {
	readyCount := 0
	for _, d := range run.destinations {
		switch readyStatus(&d.Status.ObjectStatus) {
		case "True":
			readyCount++
		case "False":
			if run.destinationProblem == "" {
				run.destinationProblem = fmt.Sprintf("Destination %s is not ready: %s", d.Name, readyMessage(&d.Status.ObjectStatus))
			}
		}
	}
	run.site.Status.Destinations = fmt.Sprintf("%d/%d ready", readyCount, len(run.destinations))
	return nil
}

// conclude turns the pass's findings (and its error, if any) into an outcome.
func (run *siteRun) conclude(err error) outcome {
	if o, ok := outcomeOf(err); ok {
		return o
	}
	switch {
	case run.waiting != "":
		return progressing(v1alpha1.ReasonProgressing, run.waiting)
	case run.destinationProblem != "":
		return degraded(v1alpha1.ReasonDestinationNotReady, run.destinationProblem)
	case collectorURL(run.site) == "":
		// Informational: Ready stays True, as a site fed by its backend
		// alone needs no public host (ReasonNoPublicHost).
		return ready(v1alpha1.ReasonNoPublicHost, noPublicHostMessage(run.site))
	}
	// The Destination count lives in status.destinations, not in the
	// message: a message that changes with every Destination would mean a
	// status write and an Event each time.
	return ready(v1alpha1.ReasonSucceeded, "collector and dashboard are running")
}
