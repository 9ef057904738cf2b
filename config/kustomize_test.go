package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

const (
	systemNamespace = "trackstack-system"
	namePrefix      = "trackstack-"
)

// TestKustomizeBuilds builds every kustomization with the real kubectl and
// checks what `make deploy` would install.
func TestKustomizeBuilds(t *testing.T) {
	bin := kubectlPath(t)
	s := newScheme(t)

	for _, dir := range []string{"crd", "rbac", "manager", "default", "prometheus", "samples"} {
		t.Run("build "+dir, func(t *testing.T) { build(t, bin, s, dir) })
	}

	t.Run("crd has the three CRDs", func(t *testing.T) {
		var names []string
		for _, crd := range find[*apiextensionsv1.CustomResourceDefinition](build(t, bin, s, "crd")) {
			names = append(names, crd.Name)
		}
		slices.Sort(names)
		want := []string{"destinations.trackstack.dev", "retentionpolicies.trackstack.dev", "trackingsites.trackstack.dev"}
		if !slices.Equal(names, want) {
			t.Errorf("CRDs = %v, want %v", names, want)
		}
	})

	t.Run("default installs the operator", func(t *testing.T) {
		objs := build(t, bin, s, "default")
		checkPlacement(t, objs)
		checkManager(t, objs)
		checkBindings(t, objs)
		checkRoles(t, objs)
		checkMetricsService(t, objs)
	})

	t.Run("prometheus selects the metrics Service", func(t *testing.T) {
		monitors := build(t, bin, s, "prometheus")
		svc, ok := byName[*corev1.Service](build(t, bin, s, "default"), namePrefix+"controller-manager-metrics-service")
		if !ok {
			t.Fatal("no metrics Service in config/default")
		}
		if len(monitors) != 1 || monitors[0].gvk.Kind != "ServiceMonitor" {
			t.Fatalf("config/prometheus = %v, want one ServiceMonitor", monitors)
		}
		m := monitors[0].obj.(*unstructured.Unstructured).Object
		selector, _, _ := unstructured.NestedStringMap(m, "spec", "selector", "matchLabels")
		if len(selector) == 0 || !labels.SelectorFromSet(selector).Matches(labels.Set(svc.Labels)) {
			t.Errorf("ServiceMonitor selector %v does not match the metrics Service's labels %v", selector, svc.Labels)
		}
		endpoints, _, _ := unstructured.NestedSlice(m, "spec", "endpoints")
		if len(endpoints) != 1 {
			t.Fatalf("endpoints = %v, want one", endpoints)
		}
		ep := endpoints[0].(map[string]any)
		if ep["port"] != svc.Spec.Ports[0].Name || ep["scheme"] != "https" || ep["bearerTokenFile"] == nil {
			t.Errorf("endpoint = %v, want port %s over https with the pod's bearer token", ep, svc.Spec.Ports[0].Name)
		}
	})

	// `make deploy IMG=...` sets the image through a throwaway overlay of
	// config/default (kubectl's kustomize has no `edit set image`).
	t.Run("deploy overlay sets the image", func(t *testing.T) {
		overlay := t.TempDir()
		abs, err := filepath.Abs("default")
		if err != nil {
			t.Fatal(err)
		}
		rel, err := filepath.Rel(overlay, abs)
		if err != nil {
			t.Fatal(err)
		}
		const img = "registry.example.com/trackstack/operator:v1.2.3"
		k := fmt.Sprintf("resources:\n- %s\nimages:\n- name: controller\n  newName: %s\n", rel, img)
		if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(k), 0o644); err != nil {
			t.Fatal(err)
		}
		d, ok := byName[*appsv1.Deployment](build(t, bin, s, overlay), namePrefix+"controller-manager")
		if !ok {
			t.Fatal("no manager Deployment")
		}
		if got := d.Spec.Template.Spec.Containers[0].Image; got != img {
			t.Errorf("image = %q, want %q", got, img)
		}
	})
}

// checkPlacement: namespaced objects land in trackstack-system and every
// name we chose carries the prefix (CRD names are fixed by their group).
func checkPlacement(t *testing.T, objs []object) {
	t.Helper()
	ns, ok := byName[*corev1.Namespace](objs, systemNamespace)
	if !ok {
		t.Fatalf("no Namespace %s", systemNamespace)
	}
	if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("Namespace %s labels = %v, want Pod Security restricted enforced", systemNamespace, ns.Labels)
	}
	for _, o := range objs {
		m := o.obj.(interface {
			GetName() string
			GetNamespace() string
		})
		switch o.obj.(type) {
		case *apiextensionsv1.CustomResourceDefinition:
			continue
		case *corev1.Namespace, *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding:
			if m.GetNamespace() != "" {
				t.Errorf("%s: cluster-scoped object with namespace %q", o, m.GetNamespace())
			}
		default:
			if m.GetNamespace() != systemNamespace {
				t.Errorf("%s: namespace %q, want %s", o, m.GetNamespace(), systemNamespace)
			}
		}
		if !strings.HasPrefix(m.GetName(), namePrefix) {
			t.Errorf("%s: name lacks the %s prefix", o, namePrefix)
		}
	}
}

// checkManager checks the operator Deployment against what the restricted
// Pod Security level and a well-behaved operator need.
func checkManager(t *testing.T, objs []object) {
	t.Helper()
	d, ok := byName[*appsv1.Deployment](objs, namePrefix+"controller-manager")
	if !ok {
		t.Fatal("no manager Deployment")
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("containers = %d, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != "controller" {
		t.Errorf("image = %q, want the placeholder controller that make deploy replaces", c.Image)
	}
	for _, arg := range []string{
		"--leader-elect",
		"--health-probe-bind-address=:8081",
		"--metrics-bind-address=:8443",
		"--runtime-image=ghcr.io/trackstack/trackstack:dev",
	} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("args %v lack %s", c.Args, arg)
		}
	}
	if _, ok := byName[*corev1.ServiceAccount](objs, pod.ServiceAccountName); !ok {
		t.Errorf("serviceAccountName %q names no ServiceAccount in the build", pod.ServiceAccountName)
	}

	psc, sc := pod.SecurityContext, c.SecurityContext
	switch {
	case psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot:
		t.Error("pod does not set runAsNonRoot")
	case psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Error("pod does not use the RuntimeDefault seccomp profile")
	case sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("container root filesystem is not read-only")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("container allows privilege escalation")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Error("container does not drop ALL capabilities (and add none)")
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[r]; !ok {
			t.Errorf("no %s request", r)
		}
	}
	if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
		t.Error("no memory limit")
	}
	for name, probe := range map[string]*corev1.Probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != name {
			t.Errorf("no HTTP probe on %s", name)
			continue
		}
		port := probe.HTTPGet.Port.IntValue()
		if port == 0 {
			port = containerPort(c, probe.HTTPGet.Port.String())
		}
		if port != 8081 {
			t.Errorf("probe %s on port %d, want 8081", name, port)
		}
	}
}

func containerPort(c corev1.Container, name string) int {
	for _, p := range c.Ports {
		if p.Name == name {
			return int(p.ContainerPort)
		}
	}
	return 0
}

// checkBindings: every binding points at a role and ServiceAccount that the
// build itself contains, so nothing is left dangling by the name prefix.
func checkBindings(t *testing.T, objs []object) {
	t.Helper()
	subjects := func(ss []rbacv1.Subject) {
		for _, sub := range ss {
			if sub.Kind != rbacv1.ServiceAccountKind {
				continue
			}
			sa, ok := byName[*corev1.ServiceAccount](objs, sub.Name)
			if !ok || sa.Namespace != sub.Namespace {
				t.Errorf("binding subject %s/%s is no ServiceAccount of the build", sub.Namespace, sub.Name)
			}
		}
	}
	for _, b := range find[*rbacv1.ClusterRoleBinding](objs) {
		if _, ok := byName[*rbacv1.ClusterRole](objs, b.RoleRef.Name); !ok {
			t.Errorf("ClusterRoleBinding %s: no ClusterRole %s in the build", b.Name, b.RoleRef.Name)
		}
		subjects(b.Subjects)
	}
	for _, b := range find[*rbacv1.RoleBinding](objs) {
		if _, ok := byName[*rbacv1.Role](objs, b.RoleRef.Name); !ok {
			t.Errorf("RoleBinding %s: no Role %s in the build", b.Name, b.RoleRef.Name)
		}
		subjects(b.Subjects)
	}
	var bound []string
	for _, b := range find[*rbacv1.ClusterRoleBinding](objs) {
		bound = append(bound, b.RoleRef.Name)
	}
	for _, want := range []string{namePrefix + "manager-role", namePrefix + "metrics-auth-role"} {
		if !slices.Contains(bound, want) {
			t.Errorf("ClusterRole %s is not bound to the operator", want)
		}
	}
}

// checkRoles: the metrics endpoint's and the tenants' roles grant what they say.
func checkRoles(t *testing.T, objs []object) {
	t.Helper()
	grants := func(role string, group, resource, verb string) bool {
		r, ok := byName[*rbacv1.ClusterRole](objs, role)
		if !ok {
			t.Errorf("no ClusterRole %s", role)
			return false
		}
		for _, rule := range r.Rules {
			if slices.Contains(rule.APIGroups, group) && slices.Contains(rule.Resources, resource) && slices.Contains(rule.Verbs, verb) {
				return true
			}
		}
		return false
	}
	if !grants(namePrefix+"metrics-auth-role", "authentication.k8s.io", "tokenreviews", "create") ||
		!grants(namePrefix+"metrics-auth-role", "authorization.k8s.io", "subjectaccessreviews", "create") {
		t.Error("metrics-auth-role cannot create TokenReviews and SubjectAccessReviews")
	}
	reader, ok := byName[*rbacv1.ClusterRole](objs, namePrefix+"metrics-reader")
	if !ok || len(reader.Rules) != 1 || !slices.Equal(reader.Rules[0].NonResourceURLs, []string{"/metrics"}) {
		t.Error("metrics-reader does not grant GET /metrics")
	}
	for kind, plural := range map[string]string{
		"trackingsite": "trackingsites", "destination": "destinations", "retentionpolicy": "retentionpolicies",
	} {
		editor, viewer := namePrefix+kind+"-editor-role", namePrefix+kind+"-viewer-role"
		for _, verb := range []string{"create", "update", "patch", "delete", "get", "list", "watch"} {
			if !grants(editor, "trackstack.dev", plural, verb) {
				t.Errorf("%s cannot %s %s", editor, verb, plural)
			}
		}
		for _, verb := range []string{"get", "list", "watch"} {
			if !grants(viewer, "trackstack.dev", plural, verb) {
				t.Errorf("%s cannot %s %s", viewer, verb, plural)
			}
		}
		for _, verb := range []string{"create", "update", "patch", "delete"} {
			if grants(viewer, "trackstack.dev", plural, verb) {
				t.Errorf("viewer role %s can %s %s", viewer, verb, plural)
			}
		}
	}
}

func checkMetricsService(t *testing.T, objs []object) {
	t.Helper()
	svc, ok := byName[*corev1.Service](objs, namePrefix+"controller-manager-metrics-service")
	if !ok {
		t.Fatal("no metrics Service")
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 8443 || svc.Spec.Ports[0].Name != "https" {
		t.Errorf("metrics Service ports = %+v, want https on 8443", svc.Spec.Ports)
	}
	d, _ := byName[*appsv1.Deployment](objs, namePrefix+"controller-manager")
	if d == nil || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Error("metrics Service does not select the manager's pods")
	}
	if d != nil && containerPort(d.Spec.Template.Spec.Containers[0], svc.Spec.Ports[0].TargetPort.String()) != 8443 {
		t.Errorf("metrics Service targetPort %s is not the manager's port 8443", svc.Spec.Ports[0].TargetPort.String())
	}
}
