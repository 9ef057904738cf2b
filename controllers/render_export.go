package controllers

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// RenderSiteObjects returns what the operator writes for a TrackingSite
// before its pods start: the data of the ConfigMap <site>-runtime and the
// keys of a freshly generated Secret <site>-keys. It runs the reconciler's
// own builders, so tools and tests (runtime/e2e) can start the runtime from
// exactly what a cluster would mount.
func RenderSiteObjects(site *v1alpha1.TrackingSite, dests []v1alpha1.Destination, policies []v1alpha1.RetentionPolicy) (configMapData map[string]string, keys map[string][]byte, err error) {
	data, err := renderRuntimeConfig(site, dests, policies)
	if err != nil {
		return nil, nil, err
	}
	cm := buildRuntimeConfigMap(siteInputs{site: site}, data)
	var s corev1.Secret
	if err := addMissingKeys(&s); err != nil {
		return nil, nil, fmt.Errorf("generating the keys of site %s: %w", site.Name, err)
	}
	return cm.Data, s.Data, nil
}

// CollectorPodSpec returns the pod spec of the site's collector Deployment
// as the operator applies it: the container's arguments and environment,
// and which ConfigMap and Secret keys are mounted where.
func CollectorPodSpec(site *v1alpha1.TrackingSite, opts Options) *corev1ac.PodSpecApplyConfiguration {
	return buildCollectorDeployment(siteInputs{site: site, opts: opts}).Spec.Template.Spec
}

// RuntimeConfigMapName is the name of a site's runtime ConfigMap.
func RuntimeConfigMapName(site string) string { return runtimeConfigMapName(site) }

// KeysSecretName is the name of a site's generated keys Secret.
func KeysSecretName(site string) string { return keysSecretName(site) }

// ForwarderPodSpec returns the pod spec of a Destination's forwarder
// Deployment as the operator applies it.
func ForwarderPodSpec(dest *v1alpha1.Destination, site *v1alpha1.TrackingSite, opts Options) *corev1ac.PodSpecApplyConfiguration {
	return buildForwarderDeployment(forwarderInputs{dest: dest, site: site, opts: opts}).Spec.Template.Spec
}

// DashboardPodSpec returns the pod spec of the site's dashboard Deployment
// as the operator applies it.
func DashboardPodSpec(site *v1alpha1.TrackingSite, opts Options) *corev1ac.PodSpecApplyConfiguration {
	return buildDashboardDeployment(siteInputs{site: site, opts: opts}).Spec.Template.Spec
}

// RetentionPodSpec returns the pod spec of a RetentionPolicy's CronJob
// Jobs as the operator applies it.
func RetentionPodSpec(policy *v1alpha1.RetentionPolicy, site *v1alpha1.TrackingSite, opts Options) *corev1ac.PodSpecApplyConfiguration {
	return buildRetentionCronJob(retentionInputs{policy: policy, site: site, opts: opts}).Spec.JobTemplate.Spec.Template.Spec
}

// PurgePodSpec returns the pod spec of the site's purge Job (the Job
// <site>-purge that runs `trackstack purge` when a TrackingSite with
// deletionPolicy: Delete is deleted) as the operator creates it. It mounts
// the ConfigMap <site>-purge, which holds what RenderSiteObjects renders as
// the runtime ConfigMap's data.
func PurgePodSpec(site *v1alpha1.TrackingSite, opts Options) *corev1ac.PodSpecApplyConfiguration {
	return buildPurgeJob(siteInputs{site: site, opts: opts}).Spec.Template.Spec
}

// PurgeConfigMapName is the name of the ConfigMap a site's purge Job reads.
func PurgeConfigMapName(site string) string { return purgeName(site) }
