package controllers

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	autoscalingv2ac "k8s.io/client-go/applyconfigurations/autoscaling/v2"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

// siteInputs is everything the TrackingSite builders read: pure data, so the
// builders are pure functions tested as tables.
type siteInputs struct {
	site *v1alpha1.TrackingSite
	opts Options
	// configHash is the hash of the rendered runtime ConfigMap.
	configHash string
	// secretHash is the hash of the storage Secret key and the generated keys.
	secretHash string
	// oidcSecretHash is the hash of the dashboard's OIDC client secret; ""
	// without OIDC.
	oidcSecretHash string
}

func (in siteInputs) owner() *v1alpha1.TrackingSite { return in.site }

// renderRuntimeConfig renders the site's runtime configuration.
func renderRuntimeConfig(site *v1alpha1.TrackingSite, dests []v1alpha1.Destination, policies []v1alpha1.RetentionPolicy) ([]byte, error) {
	rc := config.Render(site, dests, policies, config.RenderOptions{
		CollectorURL: collectorURL(site),
		DashboardURL: dashboardURL(site),
	})
	data, err := rc.Marshal()
	if err != nil {
		return nil, fmt.Errorf("rendering runtime config: %w", err)
	}
	return data, nil
}

// buildRuntimeConfigMap is the ConfigMap <site>-runtime.
func buildRuntimeConfigMap(in siteInputs, data []byte) *corev1ac.ConfigMapApplyConfiguration {
	s := in.site
	return corev1ac.ConfigMap(runtimeConfigMapName(s.Name), s.Namespace).
		WithLabels(siteLabels(s.Name, ComponentConfig)).
		WithOwnerReferences(ownerRef("TrackingSite", s.Name, s.UID)).
		WithData(map[string]string{config.FileName: string(data)})
}

// siteVolumes are the volumes of collector and dashboard pods.
func siteVolumes(s *v1alpha1.TrackingSite) []*corev1ac.VolumeApplyConfiguration {
	ref := s.Spec.Storage.Postgres.SecretRef
	return []*corev1ac.VolumeApplyConfiguration{
		configVolume(s.Name),
		secretVolume(volKeys, keysSecretName(s.Name)),
		secretVolume(volStorage, ref.Name, storageKey(s)),
		tmpVolume(),
	}
}

// storageKey is the key of the storage Secret holding the URI.
func storageKey(s *v1alpha1.TrackingSite) string {
	if k := s.Spec.Storage.Postgres.SecretRef.Key; k != "" {
		return k
	}
	return "uri"
}

// siteContainer is a runtime container with the site's config, keys and storage mounted.
func siteContainer(in siteInputs, name string, args []string, res *corev1ac.ResourceRequirementsApplyConfiguration) *corev1ac.ContainerApplyConfiguration {
	return withHTTP(runtimeContainer(name, in.opts, args)).
		WithResources(res).
		WithEnv(gcEnv(res)...).
		WithVolumeMounts(
			corev1ac.VolumeMount().WithName(volKeys).WithMountPath(config.KeysDir).WithReadOnly(true),
			corev1ac.VolumeMount().WithName(volStorage).WithMountPath(config.StorageDir).WithReadOnly(true),
		)
}

// podAnnotations roll the pods when the config or a consumed Secret changes.
func (in siteInputs) podAnnotations() map[string]string {
	return map[string]string{AnnotationConfigHash: in.configHash, AnnotationSecretHash: in.secretHash}
}

// buildCollectorDeployment is the Deployment <site>-collector. Under an
// HPA it leaves replicas out, so the HPA owns them.
func buildCollectorDeployment(in siteInputs) *appsv1ac.DeploymentApplyConfiguration {
	s := in.site
	c := s.Spec.Collector
	container := siteContainer(in, "collector",
		configArgs("collect", fmt.Sprintf("--listen=:%d", httpPort), "--trusted-proxies="+strings.Join(trustedProxies(s), ",")),
		resourcesOr(c.Resources, "100m", "128Mi", "512Mi"))
	spec := appsv1ac.DeploymentSpec().
		WithSelector(metav1LabelSelector(selectorLabels(s.Name, ComponentCollector))).
		WithStrategy(appsv1ac.DeploymentStrategy().WithType("RollingUpdate").
			WithRollingUpdate(appsv1ac.RollingUpdateDeployment().
				WithMaxUnavailable(intstr.FromInt32(0)).WithMaxSurge(intstr.FromInt32(1)))).
		WithTemplate(podTemplate(siteLabels(s.Name, ComponentCollector), in.podAnnotations(),
			[]*corev1ac.ContainerApplyConfiguration{container}, siteVolumes(s)...))
	if c.Autoscaling == nil {
		spec.WithReplicas(collectorReplicas(s))
	}
	return appsv1ac.Deployment(collectorName(s.Name), s.Namespace).
		WithLabels(siteLabels(s.Name, ComponentCollector)).
		WithOwnerReferences(ownerRef("TrackingSite", s.Name, s.UID)).
		WithSpec(spec)
}

// trustedProxies are the proxies whose X-Forwarded-For the collector believes.
func trustedProxies(s *v1alpha1.TrackingSite) []string {
	if p := s.Spec.Collector.TrustedProxies; len(p) > 0 {
		return p
	}
	return v1alpha1.DefaultTrustedProxies
}

// collectorReplicas is the collector's replica count without autoscaling.
func collectorReplicas(s *v1alpha1.TrackingSite) int32 {
	if r := s.Spec.Collector.Replicas; r != nil {
		return *r
	}
	return 2
}

// collectorMinReplicas is the least number of collector pods the site runs.
func collectorMinReplicas(s *v1alpha1.TrackingSite) int32 {
	if a := s.Spec.Collector.Autoscaling; a != nil {
		if a.MinReplicas != nil {
			return *a.MinReplicas
		}
		return 2
	}
	return collectorReplicas(s)
}

// buildService is a ClusterIP Service on port 80 for a component.
func buildService(s *v1alpha1.TrackingSite, name, component string) *corev1ac.ServiceApplyConfiguration {
	return corev1ac.Service(name, s.Namespace).
		WithLabels(siteLabels(s.Name, component)).
		WithOwnerReferences(ownerRef("TrackingSite", s.Name, s.UID)).
		WithSpec(corev1ac.ServiceSpec().
			WithType(corev1.ServiceTypeClusterIP).
			WithSelector(selectorLabels(s.Name, component)).
			WithPorts(corev1ac.ServicePort().WithName("http").WithPort(80).
				WithTargetPort(intstr.FromString("http")).WithProtocol(corev1.ProtocolTCP)))
}

// buildCollectorHPA is the HorizontalPodAutoscaler, when autoscaling is set.
func buildCollectorHPA(in siteInputs) *autoscalingv2ac.HorizontalPodAutoscalerApplyConfiguration {
	s := in.site
	a := s.Spec.Collector.Autoscaling
	target := int32(70)
	if a.TargetCPUUtilizationPercentage != nil {
		target = *a.TargetCPUUtilizationPercentage
	}
	return autoscalingv2ac.HorizontalPodAutoscaler(collectorName(s.Name), s.Namespace).
		WithLabels(siteLabels(s.Name, ComponentCollector)).
		WithOwnerReferences(ownerRef("TrackingSite", s.Name, s.UID)).
		WithSpec(autoscalingv2ac.HorizontalPodAutoscalerSpec().
			WithScaleTargetRef(autoscalingv2ac.CrossVersionObjectReference().
				WithAPIVersion("apps/v1").WithKind("Deployment").WithName(collectorName(s.Name))).
			WithMinReplicas(collectorMinReplicas(s)).
			WithMaxReplicas(a.MaxReplicas).
			WithMetrics(autoscalingv2ac.MetricSpec().
				WithType("Resource").
				WithResource(autoscalingv2ac.ResourceMetricSource().
					WithName(corev1.ResourceCPU).
					WithTarget(autoscalingv2ac.MetricTarget().
						WithType("Utilization").WithAverageUtilization(target)))))
}

// buildCollectorPDB keeps one collector pod up during voluntary disruptions,
// when the site runs more than one.
func buildCollectorPDB(in siteInputs) *policyv1ac.PodDisruptionBudgetApplyConfiguration {
	s := in.site
	return policyv1ac.PodDisruptionBudget(collectorName(s.Name), s.Namespace).
		WithLabels(siteLabels(s.Name, ComponentCollector)).
		WithOwnerReferences(ownerRef("TrackingSite", s.Name, s.UID)).
		WithSpec(policyv1ac.PodDisruptionBudgetSpec().
			WithMaxUnavailable(intstr.FromInt32(1)).
			WithSelector(metav1LabelSelector(selectorLabels(s.Name, ComponentCollector))))
}

// buildDashboardDeployment is the Deployment <site>-dashboard.
func buildDashboardDeployment(in siteInputs) *appsv1ac.DeploymentApplyConfiguration {
	s := in.site
	replicas := int32(1)
	if r := s.Spec.Dashboard.Replicas; r != nil {
		replicas = *r
	}
	// The dashboard sits behind the same ingress as the collector: failed
	// sign-ins are counted per client address it forwards.
	container := siteContainer(in, "dashboard",
		configArgs("dashboard", fmt.Sprintf("--listen=:%d", httpPort), "--trusted-proxies="+strings.Join(trustedProxies(s), ",")),
		resourcesOr(nil, "50m", "96Mi", "384Mi"))
	volumes := siteVolumes(s)
	annotations := in.podAnnotations()
	if oidc := s.Spec.Dashboard.OIDC; oidc != nil {
		// Only the dashboard gets the client secret; its hash joins the
		// secret hash so a rotated secret rolls the dashboard pods.
		volumes = append(volumes, secretVolume(volOIDC, oidc.ClientSecretRef.Name, config.OIDCSecretKey(oidc)))
		container.WithVolumeMounts(corev1ac.VolumeMount().WithName(volOIDC).WithMountPath(config.OIDCDir).WithReadOnly(true))
		annotations[AnnotationSecretHash] = hashBytes([]byte(in.secretHash + "/" + in.oidcSecretHash))
	}
	return appsv1ac.Deployment(dashboardName(s.Name), s.Namespace).
		WithLabels(siteLabels(s.Name, ComponentDashboard)).
		WithOwnerReferences(ownerRef("TrackingSite", s.Name, s.UID)).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(replicas).
			WithSelector(metav1LabelSelector(selectorLabels(s.Name, ComponentDashboard))).
			WithTemplate(podTemplate(siteLabels(s.Name, ComponentDashboard), annotations,
				[]*corev1ac.ContainerApplyConfiguration{container}, volumes...)))
}
