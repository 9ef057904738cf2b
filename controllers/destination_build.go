package controllers

import (
	"encoding/json"
	"fmt"

	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

// forwarderInputs is what the forwarder builder reads.
type forwarderInputs struct {
	dest *v1alpha1.Destination
	site *v1alpha1.TrackingSite
	opts Options
	// secretHash covers the credentials and the storage Secret.
	secretHash string
}

// matchesOnIP reports whether a destination type sends the visitor's raw
// IP, so its forwarder needs the site's key to open the sealed IPs.
func matchesOnIP(typ string) bool {
	return (&config.Destination{Type: typ}).MatchesOnIP()
}

// forwarderLabels are the labels of a Destination's forwarder.
func forwarderLabels(site, dest string) map[string]string {
	l := siteLabels(site, ComponentForwarder)
	l[LabelDestination] = dest
	return l
}

// destinationSpecHash changes whenever the forwarder's settings change, so
// the forwarder restarts on them even before it learns to reload.
func destinationSpecHash(d *v1alpha1.Destination) string {
	spec := d.Spec.DeepCopy()
	spec.Resources = nil // resources roll the pod by themselves
	data, _ := json.Marshal(spec)
	return hashBytes(data)
}

// forwarderProgressDeadline is how long a forwarder pod may take to become
// ready before its Destination reports it: a start takes a few seconds.
const forwarderProgressDeadline = 120

// buildForwarderDeployment is the Deployment <site>-fwd-<destination>. One
// replica (a forwarder owns its cursor), Recreate so two never overlap,
// zero while paused.
func buildForwarderDeployment(in forwarderInputs) *appsv1ac.DeploymentApplyConfiguration {
	d, s := in.dest, in.site
	name := forwarderName(s.Name, d.Name)
	replicas := int32(1)
	if d.Spec.Paused {
		replicas = 0
	}
	keys := v1alpha1.CredentialKeys[d.Spec.Type]
	container := withHTTP(runtimeContainer("forwarder", in.opts,
		configArgs("forward", "--destination="+d.Name, fmt.Sprintf("--listen=:%d", httpPort)))).
		WithResources(resourcesOr(d.Spec.Resources, "50m", "64Mi", "256Mi")).
		WithVolumeMounts(
			corev1ac.VolumeMount().WithName(volStorage).WithMountPath(config.StorageDir).WithReadOnly(true),
			corev1ac.VolumeMount().WithName(volCredentials).WithMountPath(config.CredentialsDir).WithReadOnly(true),
		)
	volumes := []*corev1ac.VolumeApplyConfiguration{
		configVolume(s.Name),
		secretVolume(volStorage, s.Spec.Storage.Postgres.SecretRef.Name, storageKey(s)),
		secretVolume(volCredentials, d.Spec.CredentialsSecretRef.Name, keys...),
		tmpVolume(),
	}
	if matchesOnIP(d.Spec.Type) {
		// Only the key that opens the sealed raw IPs, none of the others.
		container.WithVolumeMounts(corev1ac.VolumeMount().WithName(volKeys).WithMountPath(config.KeysDir).WithReadOnly(true))
		volumes = append(volumes, secretVolume(volKeys, keysSecretName(s.Name), config.KeyIPSealing))
	}
	annotations := map[string]string{
		AnnotationConfigHash: destinationSpecHash(d),
		AnnotationSecretHash: in.secretHash,
	}
	labels := forwarderLabels(s.Name, d.Name)
	return appsv1ac.Deployment(name, d.Namespace).
		WithLabels(labels).
		WithOwnerReferences(ownerRef("Destination", d.Name, d.UID)).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(replicas).
			WithStrategy(appsv1ac.DeploymentStrategy().WithType("Recreate")).
			// A forwarder that cannot become ready (credentials rejected)
			// shows as ForwarderNotReady after this, not after the
			// default ten minutes.
			WithProgressDeadlineSeconds(forwarderProgressDeadline).
			WithSelector(metav1LabelSelector(map[string]string{
				LabelName: "trackstack", LabelComponent: ComponentForwarder,
				LabelSite: s.Name, LabelDestination: d.Name,
			})).
			WithTemplate(podTemplate(labels, annotations, []*corev1ac.ContainerApplyConfiguration{container}, volumes...)))
}
