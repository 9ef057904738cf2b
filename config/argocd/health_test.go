package argocd_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite argocd-cm.yaml from the health.lua scripts")

// group is the API group; Argo CD keys health checks by group and kind.
const group = "trackstack.dev"

// kinds maps every trackstack kind to a constructor of its Go type, so each
// test input is checked to be a real object of that kind (strict decoding),
// not a hand-written shape the scripts happen to accept.
var kinds = map[string]func() any{
	"TrackingSite":    func() any { return &v1alpha1.TrackingSite{} },
	"Destination":     func() any { return &v1alpha1.Destination{} },
	"RetentionPolicy": func() any { return &v1alpha1.RetentionPolicy{} },
}

// healthTests is Argo CD's health_test.yaml format, so the scripts, their
// cases and their inputs could be proposed upstream as they are.
type healthTests struct {
	Tests []struct {
		HealthStatus health `json:"healthStatus"`
		InputPath    string `json:"inputPath"`
	} `json:"tests"`
}

type health struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func TestHealthScripts(t *testing.T) {
	for kind, newObject := range kinds {
		t.Run(kind, func(t *testing.T) {
			dir := filepath.Join(group, kind)
			script := readFile(t, filepath.Join(dir, "health.lua"))

			var cases healthTests
			if err := yaml.UnmarshalStrict(readFile(t, filepath.Join(dir, "health_test.yaml")), &cases); err != nil {
				t.Fatalf("while reading %s/health_test.yaml: %v", dir, err)
			}
			checkCoverage(t, dir, cases)

			for _, tc := range cases.Tests {
				t.Run(strings.TrimSuffix(filepath.Base(tc.InputPath), ".yaml"), func(t *testing.T) {
					input := readFile(t, filepath.Join(dir, tc.InputPath))
					if err := yaml.UnmarshalStrict(input, newObject()); err != nil {
						t.Fatalf("%s is not a valid %s: %v", tc.InputPath, kind, err)
					}
					var obj map[string]any
					if err := yaml.Unmarshal(input, &obj); err != nil {
						t.Fatalf("while decoding %s: %v", tc.InputPath, err)
					}
					got, err := runHealth(string(script), obj)
					if err != nil {
						t.Fatal(err)
					}
					if got != tc.HealthStatus {
						t.Errorf("health = %+v, want %+v", got, tc.HealthStatus)
					}
				})
			}
		})
	}
}

// checkCoverage fails when a kind's cases miss one of the health states Argo
// CD distinguishes, or when a file in testdata is not used by any case.
func checkCoverage(t *testing.T, dir string, cases healthTests) {
	t.Helper()
	seen := map[string]bool{}
	used := map[string]bool{}
	for _, tc := range cases.Tests {
		seen[tc.HealthStatus.Status] = true
		used[filepath.Clean(tc.InputPath)] = true
	}
	for _, want := range []string{"Healthy", "Progressing", "Degraded", "Suspended"} {
		if !seen[want] {
			t.Errorf("%s/health_test.yaml has no case whose health is %s", dir, want)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		if !used[rel] {
			t.Errorf("%s is not used by any case in %s/health_test.yaml", f, dir)
		}
	}
}

// runHealth runs a health script the way Argo CD does: a fresh gopher-lua
// state with only the package, base and table libraries, the live object as
// the global obj, and the table the script returns read as the health.
func runHealth(script string, obj map[string]any) (health, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	// A guard against a script that never returns, not a speed check.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l.SetContext(ctx)
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return health{}, fmt.Errorf("while opening Lua library %s: %w", lib.name, err)
		}
	}
	luaObj, err := toLua(l, obj)
	if err != nil {
		return health{}, fmt.Errorf("while converting the object to Lua: %w", err)
	}
	l.SetGlobal("obj", luaObj)
	if err := l.DoString(script); err != nil {
		return health{}, fmt.Errorf("while running the health script: %w", err)
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return health{}, fmt.Errorf("the health script returned %s, want a table", l.Get(-1).Type())
	}
	var h health
	for field, dst := range map[string]*string{"status": &h.Status, "message": &h.Message} {
		v, ok := ret.RawGetString(field).(lua.LString)
		if !ok {
			return health{}, fmt.Errorf("the health script's %s is %s, want a string", field, ret.RawGetString(field).Type())
		}
		*dst = string(v)
	}
	return h, nil
}

// toLua converts decoded JSON (what Argo CD hands its scripts) to Lua values.
func toLua(l *lua.LState, v any) (lua.LValue, error) {
	switch v := v.(type) {
	case nil:
		return lua.LNil, nil
	case bool:
		return lua.LBool(v), nil
	case string:
		return lua.LString(v), nil
	case float64:
		return lua.LNumber(v), nil
	case int64:
		return lua.LNumber(v), nil
	case map[string]any:
		t := l.NewTable()
		for k, e := range v {
			lv, err := toLua(l, e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			t.RawSetString(k, lv)
		}
		return t, nil
	case []any:
		t := l.CreateTable(len(v), 0)
		for i, e := range v {
			lv, err := toLua(l, e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			t.RawSetInt(i+1, lv)
		}
		return t, nil
	default:
		return nil, fmt.Errorf("unexpected %T", v)
	}
}

// TestArgoCDConfigMap keeps argocd-cm.yaml, the snippet users merge into
// Argo CD's argocd-cm, identical to the tested health.lua scripts.
func TestArgoCDConfigMap(t *testing.T) {
	want := renderConfigMap(t)
	if *update {
		if err := os.WriteFile("argocd-cm.yaml", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := readFile(t, "argocd-cm.yaml")
	if !bytes.Equal(got, want) {
		t.Fatal("argocd-cm.yaml differs from the health.lua scripts; regenerate it with\n" +
			"  go test ./config/argocd -run TestArgoCDConfigMap -update")
	}

	// The YAML block scalars must give Argo CD the scripts byte for byte.
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(got, &cm); err != nil {
		t.Fatalf("argocd-cm.yaml is not a ConfigMap: %v", err)
	}
	if cm.Name != "argocd-cm" {
		t.Errorf("name = %q, want argocd-cm", cm.Name)
	}
	var keys []string
	for kind := range kinds {
		key := healthKey(kind)
		keys = append(keys, key)
		script := readFile(t, filepath.Join(group, kind, "health.lua"))
		if cm.Data[key] != string(script) {
			t.Errorf("data[%q] does not decode to %s/%s/health.lua", key, group, kind)
		}
	}
	gotKeys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		gotKeys = append(gotKeys, k)
	}
	slices.Sort(keys)
	slices.Sort(gotKeys)
	if !slices.Equal(gotKeys, keys) {
		t.Errorf("data keys = %v, want %v", gotKeys, keys)
	}
}

// healthKey is the argocd-cm key Argo CD reads a kind's health script from.
func healthKey(kind string) string {
	return "resource.customizations.health." + group + "_" + kind
}

func renderConfigMap(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(`# Argo CD health checks for trackstack's kinds, for Argo CD's argocd-cm.
# Generated from trackstack.dev/*/health.lua by
#   go test ./config/argocd -run TestArgoCDConfigMap -update
# (the test fails when this file and the scripts differ).
#
# Merge it into the argocd-cm of your Argo CD, e.g. as a patch in the
# kustomization that installs Argo CD, or with server-side apply, which sets
# only these keys:
#   kubectl apply --server-side --field-manager=trackstack -f config/argocd/argocd-cm.yaml
# With the Argo CD Helm chart, put the same keys under configs.cm instead.
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: argocd
  labels:
    app.kubernetes.io/name: argocd-cm
    app.kubernetes.io/part-of: argocd
data:
`)
	names := make([]string, 0, len(kinds))
	for kind := range kinds {
		names = append(names, kind)
	}
	sort.Strings(names)
	for _, kind := range names {
		script := readFile(t, filepath.Join(group, kind, "health.lua"))
		fmt.Fprintf(&b, "  %s: |\n", healthKey(kind))
		for _, line := range strings.SplitAfter(string(script), "\n") {
			if strings.TrimSpace(line) == "" {
				b.WriteString(line)
				continue
			}
			b.WriteString("    " + line)
		}
	}
	return b.Bytes()
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
