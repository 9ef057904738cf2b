// Package config_test checks the kustomize tree in config/: that every sample
// is a valid object of its kind and references what it needs, that every
// kustomization builds with the real kubectl, and that a real API server
// accepts the operator's install and the samples.
package config_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// object is one YAML document decoded into its Go type (unstructured for
// kinds without one here, such as the Prometheus Operator's ServiceMonitor).
type object struct {
	source string // file and document index, for messages
	gvk    schema.GroupVersionKind
	obj    runtime.Object
}

func (o object) String() string { return fmt.Sprintf("%s %s (%s)", o.gvk.Kind, name(o.obj), o.source) }

func name(obj runtime.Object) string {
	if m, ok := obj.(interface{ GetName() string }); ok {
		return m.GetName()
	}
	return "?"
}

func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, v1alpha1.AddToScheme,
	} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// decodeAll splits a multi-document YAML stream and decodes each document
// strictly into its Go type: a misspelt or misplaced field is an error, where
// kubectl and the API server would drop it silently. allowUnknownKinds lets
// kinds the scheme lacks through as unstructured objects.
func decodeAll(s *runtime.Scheme, source string, data []byte, allowUnknownKinds bool) ([]object, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []object
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("while splitting %s: %w", source, err)
		}
		src := fmt.Sprintf("%s#%d", source, i)
		var u unstructured.Unstructured
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			return nil, fmt.Errorf("while reading %s: %w", src, err)
		}
		if len(u.Object) == 0 {
			continue // only comments
		}
		gvk := u.GroupVersionKind()
		if gvk.Kind == "" || gvk.Version == "" {
			return nil, fmt.Errorf("%s has no apiVersion or kind", src)
		}
		obj, err := s.New(gvk)
		if err != nil {
			if !allowUnknownKinds {
				return nil, fmt.Errorf("%s: unexpected kind %s", src, gvk)
			}
			out = append(out, object{source: src, gvk: gvk, obj: &u})
			continue
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return nil, fmt.Errorf("%s is not a valid %s: %w", src, gvk.Kind, err)
		}
		out = append(out, object{source: src, gvk: gvk, obj: obj})
	}
}

// find returns the objects of type T.
func find[T runtime.Object](objs []object) []T {
	var out []T
	for _, o := range objs {
		if v, ok := o.obj.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// byName returns the object of type T with the given name, or the zero T.
func byName[T interface {
	runtime.Object
	GetName() string
}](objs []object, n string) (T, bool) {
	for _, v := range find[T](objs) {
		if v.GetName() == n {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// envtestSkipReason is why a test needing the envtest binaries skips under
// go test -short (`make test SHORT=1`), the one case in which it does not run.
const envtestSkipReason = "needs the envtest binaries (kubectl, kube-apiserver, etcd): left out by go test -short; make test runs it"

// kubectlPath is the kubectl built with the envtest binaries, from
// KUBEBUILDER_ASSETS (`make test` always sets it) or else from the directory
// `make envtest-bins` builds into, which it then exports for envtest too.
// When neither has it the test fails, saying how to build it: a skip would
// let a bare `go test` on a fresh clone pass without checking the manifests.
// Only go test -short skips it.
func kubectlPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip(envtestSkipReason)
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		dir, err := filepath.Abs(filepath.Join("..", "bin", "k8s", "1.37.2-"+goruntime.GOOS+"-"+goruntime.GOARCH))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "kubectl")); err != nil {
			t.Fatalf("KUBEBUILDER_ASSETS is unset and %s has no kubectl: run `make envtest-bins` "+
				"(or `make test`, which builds the envtest binaries and sets KUBEBUILDER_ASSETS)", dir)
		}
		t.Setenv("KUBEBUILDER_ASSETS", dir)
		assets = dir
	}
	p := filepath.Join(assets, "kubectl")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("KUBEBUILDER_ASSETS=%s has no kubectl (run `make envtest-bins`): %v", assets, err)
	}
	return p
}

// kubectl runs kubectl and returns its stdout and stderr; it fails the test
// when kubectl exits non-zero.
func kubectl(t *testing.T, path string, stdin []byte, args ...string) (stdout, stderr []byte) {
	t.Helper()
	stdout, stderr, err := runKubectl(path, stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %v: %v\n%s", args, err, stderr)
	}
	return stdout, stderr
}

// runKubectl runs kubectl and returns its output and exit error.
func runKubectl(path string, stdin []byte, args ...string) (stdout, stderr []byte, err error) {
	var out, errOut bytes.Buffer
	cmd := exec.Command(path, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.Bytes(), errOut.Bytes(), err
}

// build runs `kubectl kustomize dir` and decodes the result.
func build(t *testing.T, kubectlBin string, s *runtime.Scheme, dir string) []object {
	t.Helper()
	out, _ := kubectl(t, kubectlBin, nil, "kustomize", dir)
	objs, err := decodeAll(s, "kustomize "+dir, out, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) == 0 {
		t.Fatalf("kubectl kustomize %s produced no objects", dir)
	}
	return objs
}
