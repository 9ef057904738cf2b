package config_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"
)

// TestAPIServerAccepts applies the operator's install (config/default) and
// the samples to a real kube-apiserver (envtest) with the real kubectl: the
// CRD schemas and CEL rules accept every sample, and the restricted Pod
// Security level has nothing to say about any pod template. No operator runs,
// so nothing is reconciled; the objects are only admitted and stored.
func TestAPIServerAccepts(t *testing.T) {
	bin := kubectlPath(t)
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	if _, err := env.Start(); err != nil {
		t.Fatalf("while starting envtest: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("while stopping envtest: %v", err)
		}
	})
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	k := func(t *testing.T, stdin []byte, args ...string) (stdout, stderr []byte) {
		t.Helper()
		return kubectl(t, bin, stdin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	}

	t.Run("operator install", func(t *testing.T) {
		manifests, _ := kubectl(t, bin, nil, "kustomize", "default")
		// --force-conflicts: envtest created the CRDs under its own field manager.
		_, stderr := k(t, manifests, "apply", "--server-side", "--force-conflicts", "--field-manager=test", "-f", "-")
		noWarnings(t, stderr)
		out, _ := k(t, nil, "get", "deployment", "-n", systemNamespace, "-o", "name")
		if got := strings.TrimSpace(string(out)); got != "deployment.apps/"+namePrefix+"controller-manager" {
			t.Errorf("deployments in %s = %q", systemNamespace, got)
		}
	})

	// Like the operator's namespace, the samples' enforces the restricted
	// Pod Security level, and warns, so a violating pod template shows up.
	for _, ns := range []string{"samples", "dry-run"} {
		k(t, []byte(`apiVersion: v1
kind: Namespace
metadata:
  name: `+ns+`
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/warn: restricted
`), "apply", "--server-side", "-f", "-")
	}

	t.Run("samples", func(t *testing.T) {
		_, stderr := k(t, nil, "apply", "--server-side", "-n", "samples", "-k", "samples")
		noWarnings(t, stderr)

		// `kubectl get trackstack` (the category) lists one object per kind.
		out, _ := k(t, nil, "get", "trackstack", "-n", "samples", "-o", "name")
		got := strings.Fields(string(out))
		slices.Sort(got)
		want := []string{
			"destination.trackstack.dev/meta",
			"retentionpolicy.trackstack.dev/default",
			"trackingsite.trackstack.dev/shop",
		}
		if !slices.Equal(got, want) {
			t.Errorf("kubectl get trackstack = %v, want %v", got, want)
		}

		// Before the operator has looked at an object its status reads as in
		// progress (observedGeneration -1): the Argo CD health checks and
		// kstatus rely on it.
		for _, obj := range want {
			out, _ := k(t, nil, "get", obj, "-n", "samples", "-o", "jsonpath={.status.observedGeneration}")
			if string(out) != "-1" {
				t.Errorf("%s status.observedGeneration = %q, want -1", obj, out)
			}
		}
	})

	// Each sample file alone, as a user would try one with `kubectl apply -f`,
	// in a namespace of its own (nothing is stored in a dry run).
	files, err := filepath.Glob(filepath.Join("samples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		t.Run("dry run "+filepath.Base(f), func(t *testing.T) {
			_, stderr := k(t, nil, "apply", "--dry-run=server", "-n", "dry-run", "-f", f)
			noWarnings(t, stderr)
		})
	}

	// The checks above mean something only if the API server does complain.
	t.Run("violations are reported", func(t *testing.T) {
		tests := []struct {
			name     string
			manifest string
			want     string
		}{
			{
				name: "privileged pod template",
				manifest: `apiVersion: apps/v1
kind: Deployment
metadata: {name: privileged}
spec:
  selector: {matchLabels: {app: privileged}}
  template:
    metadata: {labels: {app: privileged}}
    spec:
      containers: [{name: c, image: busybox, securityContext: {privileged: true}}]
`,
				want: `would violate PodSecurity "restricted`,
			},
			{
				name:     "destination settings block not matching its type",
				manifest: strings.Replace(readSample(t, "trackstack_v1alpha1_destination.yaml"), "type: meta", "type: ga4", 1),
				want:     "spec.ga4 is required when type is ga4",
			},
			{
				name:     "retention schedule with six fields",
				manifest: strings.Replace(readSample(t, "trackstack_v1alpha1_retentionpolicy.yaml"), `"17 3 * * *"`, `"0 17 3 * * *"`, 1),
				want:     "schedule must be five cron fields",
			},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, stderr, _ := runKubectl(bin, []byte(tc.manifest),
					"--kubeconfig", kubeconfig, "apply", "--dry-run=server", "-n", "dry-run", "-f", "-")
				if !bytes.Contains(stderr, []byte(tc.want)) {
					t.Errorf("kubectl said %q, want it to contain %q", stderr, tc.want)
				}
			})
		}
	})
}

func readSample(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("samples", name))
	if err != nil {
		t.Fatal(err)
	}
	// Keep only the first document: the trackstack object itself.
	doc, _, _ := strings.Cut(string(data), "\n---\n")
	if err := yaml.Unmarshal([]byte(doc), &map[string]any{}); err != nil {
		t.Fatal(err)
	}
	return doc
}

// noWarnings fails on any warning the API server sent back (kubectl prints
// them as "Warning: ..." on stderr), such as a Pod Security violation or a
// deprecated field.
func noWarnings(t *testing.T, stderr []byte) {
	t.Helper()
	if bytes.Contains(stderr, []byte("Warning:")) {
		t.Errorf("the API server warned:\n%s", stderr)
	}
}
