package controllers

import (
	"path"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

// Options are the operator-wide settings the builders need.
type Options struct {
	// RuntimeImage is the image of the trackstack runtime binary.
	RuntimeImage string
	// ImagePullPolicy of runtime containers. Empty: IfNotPresent.
	ImagePullPolicy corev1.PullPolicy
	// MaxConcurrentReconciles is how many objects of one kind reconcile at
	// once. Reconciles mostly wait on the API server, so a few in parallel
	// cut the time a large cluster takes to converge. Zero: 4.
	MaxConcurrentReconciles int
}

// controllerOptions are the controller options every reconciler uses.
func (o Options) controllerOptions() controller.Options {
	n := o.MaxConcurrentReconciles
	if n <= 0 {
		n = 4
	}
	return controller.Options{MaxConcurrentReconciles: n}
}

// DefaultRuntimeImage is used when the operator is started without --runtime-image.
const DefaultRuntimeImage = "ghcr.io/trackstack/trackstack:v0.1.0"

// httpPort is the port every runtime HTTP server listens on in its pod.
const httpPort = 8080

// Volume names shared by the runtime pods.
const (
	volConfig      = "config"
	volKeys        = "keys"
	volStorage     = "storage"
	volCredentials = "credentials"
	volOIDC        = "oidc"
	volTmp         = "tmp"
)

// runtimeUID is the non-root user of the runtime image (distroless nonroot).
const runtimeUID = 65532

// ownerRef is the controller owner reference of a child.
func ownerRef(kind, name string, uid types.UID) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(v1alpha1.GroupVersion.String()).
		WithKind(kind).
		WithName(name).
		WithUID(uid).
		WithController(true).
		WithBlockOwnerDeletion(true)
}

// restrictedPodSecurity is the pod-level half of the restricted Pod Security Standard.
func restrictedPodSecurity() *corev1ac.PodSecurityContextApplyConfiguration {
	return corev1ac.PodSecurityContext().
		WithRunAsNonRoot(true).
		WithRunAsUser(runtimeUID).
		WithRunAsGroup(runtimeUID).
		WithFSGroup(runtimeUID).
		WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault))
}

// restrictedContainerSecurity is the container-level half: no privilege
// escalation, no capabilities, read-only root filesystem.
func restrictedContainerSecurity() *corev1ac.SecurityContextApplyConfiguration {
	return corev1ac.SecurityContext().
		WithAllowPrivilegeEscalation(false).
		WithReadOnlyRootFilesystem(true).
		WithRunAsNonRoot(true).
		WithCapabilities(corev1ac.Capabilities().WithDrop("ALL"))
}

// resourcesOr returns the user's resources, or defaults when unset.
func resourcesOr(r *corev1.ResourceRequirements, cpu, mem, memLimit string) *corev1ac.ResourceRequirementsApplyConfiguration {
	if r != nil && (len(r.Requests) > 0 || len(r.Limits) > 0) {
		ac := corev1ac.ResourceRequirements()
		if len(r.Requests) > 0 {
			ac.WithRequests(r.Requests.DeepCopy())
		}
		if len(r.Limits) > 0 {
			ac.WithLimits(r.Limits.DeepCopy())
		}
		return ac
	}
	return corev1ac.ResourceRequirements().
		WithRequests(corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(cpu),
			corev1.ResourceMemory: resource.MustParse(mem),
		}).
		WithLimits(corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(memLimit)})
}

// gcEnv tunes the Go garbage collector of a runtime container for
// throughput: GOGC=400 collects a quarter as often as the default (the
// collector's 20-event ingest benchmark gains about 10%), and GOMEMLIMIT at
// 90% of the container's memory limit makes the collector work harder
// before the kernel's OOM killer would have to.
func gcEnv(res *corev1ac.ResourceRequirementsApplyConfiguration) []*corev1ac.EnvVarApplyConfiguration {
	env := []*corev1ac.EnvVarApplyConfiguration{corev1ac.EnvVar().WithName("GOGC").WithValue("400")}
	if res != nil && res.Limits != nil {
		if mem, ok := (*res.Limits)[corev1.ResourceMemory]; ok && mem.Value() > 0 {
			limit := mem.Value() / 10 * 9
			env = append(env, corev1ac.EnvVar().WithName("GOMEMLIMIT").WithValue(strconv.FormatInt(limit, 10)))
		}
	}
	return env
}

// httpProbe probes an HTTP path on the runtime port.
func httpProbe(p string, period int32) *corev1ac.ProbeApplyConfiguration {
	return corev1ac.Probe().
		WithHTTPGet(corev1ac.HTTPGetAction().WithPath(p).WithPort(intstr.FromString("http")).WithScheme(corev1.URISchemeHTTP)).
		WithPeriodSeconds(period).
		WithTimeoutSeconds(2).
		WithFailureThreshold(3)
}

// runtimeContainer is a container running a trackstack subcommand with the
// site's configuration mounted.
func runtimeContainer(name string, opts Options, args []string) *corev1ac.ContainerApplyConfiguration {
	pull := opts.ImagePullPolicy
	if pull == "" {
		pull = corev1.PullIfNotPresent
	}
	return corev1ac.Container().
		WithName(name).
		WithImage(opts.RuntimeImage).
		WithImagePullPolicy(pull).
		WithArgs(args...).
		WithEnv(corev1ac.EnvVar().WithName("TMPDIR").WithValue("/tmp")).
		WithSecurityContext(restrictedContainerSecurity()).
		WithVolumeMounts(
			corev1ac.VolumeMount().WithName(volConfig).WithMountPath(config.ConfigDir).WithReadOnly(true),
			corev1ac.VolumeMount().WithName(volTmp).WithMountPath("/tmp"),
		)
}

// withHTTP adds the runtime's HTTP port and health probes to a container.
func withHTTP(c *corev1ac.ContainerApplyConfiguration) *corev1ac.ContainerApplyConfiguration {
	return c.
		WithPorts(corev1ac.ContainerPort().WithName("http").WithContainerPort(httpPort).WithProtocol(corev1.ProtocolTCP)).
		WithLivenessProbe(httpProbe("/healthz", 10)).
		WithReadinessProbe(httpProbe("/readyz", 5))
}

// configArgs are the arguments every subcommand takes to find its configuration.
func configArgs(sub string, extra ...string) []string {
	return append([]string{sub, "--config", path.Join(config.ConfigDir, config.FileName)}, extra...)
}

// configVolume mounts the site's runtime ConfigMap.
func configVolume(site string) *corev1ac.VolumeApplyConfiguration {
	return corev1ac.Volume().WithName(volConfig).
		WithConfigMap(corev1ac.ConfigMapVolumeSource().WithName(runtimeConfigMapName(site)).WithDefaultMode(0o444))
}

// secretVolume mounts a Secret read-only; with keys, only those keys.
func secretVolume(name, secret string, keys ...string) *corev1ac.VolumeApplyConfiguration {
	src := corev1ac.SecretVolumeSource().WithSecretName(secret).WithDefaultMode(0o440)
	for _, k := range keys {
		src.WithItems(corev1ac.KeyToPath().WithKey(k).WithPath(k))
	}
	return corev1ac.Volume().WithName(name).WithSecret(src)
}

// tmpVolume is a small writable scratch directory (the root filesystem is read-only).
func tmpVolume() *corev1ac.VolumeApplyConfiguration {
	return corev1ac.Volume().WithName(volTmp).
		WithEmptyDir(corev1ac.EmptyDirVolumeSource().WithSizeLimit(resource.MustParse("64Mi")))
}

// podTemplate wraps containers and volumes into a restricted pod template.
func podTemplate(labels, annotations map[string]string, containers []*corev1ac.ContainerApplyConfiguration, volumes ...*corev1ac.VolumeApplyConfiguration) *corev1ac.PodTemplateSpecApplyConfiguration {
	spec := corev1ac.PodSpec().
		WithAutomountServiceAccountToken(false).
		WithEnableServiceLinks(false).
		WithSecurityContext(restrictedPodSecurity()).
		WithContainers(containers...).
		WithVolumes(volumes...)
	return corev1ac.PodTemplateSpec().
		WithLabels(labels).
		WithAnnotations(annotations).
		WithSpec(spec)
}
