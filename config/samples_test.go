package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// TestSamples checks both sample sets: every document decodes strictly into
// its Go type, and the set is complete, i.e. every reference to a site or a
// Secret (and the keys a Destination type needs) resolves within the set, so
// applying it (or running `make run` on it) needs nothing else.
func TestSamples(t *testing.T) {
	s := newScheme(t)
	tests := []struct {
		dir        string
		standalone bool
	}{
		{dir: "samples"},
		{dir: "samples/standalone", standalone: true},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			files, err := filepath.Glob(filepath.Join(tc.dir, "*.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var objs []object
			var resources []string
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if filepath.Base(f) == "kustomization.yaml" {
					resources = kustomizationResources(t, data)
					continue
				}
				got, err := decodeAll(s, f, data, false)
				if err != nil {
					t.Error(err)
					continue
				}
				if len(got) == 0 {
					t.Errorf("%s has no objects", f)
				}
				objs = append(objs, got...)
			}
			if tc.standalone {
				if resources != nil {
					t.Errorf("%s has a kustomization.yaml; standalone mode reads every YAML file there as resources", tc.dir)
				}
			} else {
				checkKustomizationLists(t, tc.dir, files, resources)
			}
			for _, err := range checkSampleSet(objs, tc.standalone) {
				t.Error(err)
			}
		})
	}
}

func kustomizationResources(t *testing.T, data []byte) []string {
	t.Helper()
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
	}
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		t.Fatalf("while reading kustomization.yaml: %v", err)
	}
	return k.Resources
}

// checkKustomizationLists fails when a sample file is missing from the
// kustomization (it would silently not be applied) or listed but absent.
func checkKustomizationLists(t *testing.T, dir string, files, resources []string) {
	t.Helper()
	var want []string
	for _, f := range files {
		if b := filepath.Base(f); b != "kustomization.yaml" {
			want = append(want, b)
		}
	}
	got := slices.Clone(resources)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s/kustomization.yaml lists %v, want every sample file %v", dir, got, want)
	}
}

// checkSampleSet returns every broken reference in a set of samples. The API
// server validates each object on its own (envtest does that in
// TestAPIServerAccepts); this checks what no single object shows.
func checkSampleSet(objs []object, standalone bool) []error {
	var errs []error
	sites := find[*v1alpha1.TrackingSite](objs)
	dests := find[*v1alpha1.Destination](objs)
	policies := find[*v1alpha1.RetentionPolicy](objs)
	if len(sites) == 0 || len(dests) == 0 || len(policies) == 0 {
		errs = append(errs, fmt.Errorf("want at least one TrackingSite, Destination and RetentionPolicy, got %d, %d, %d",
			len(sites), len(dests), len(policies)))
	}
	for _, o := range objs {
		if m, ok := o.obj.(interface{ GetNamespace() string }); ok && m.GetNamespace() != "" {
			errs = append(errs, fmt.Errorf("%s sets a namespace; samples go wherever they are applied", o))
		}
	}
	secretHas := func(name, key string) error {
		secret, ok := byName[*corev1.Secret](objs, name)
		if !ok {
			return fmt.Errorf("no Secret %s among the samples", name)
		}
		if standalone && len(secret.Data) > 0 {
			return fmt.Errorf("Secret %s uses data; standalone mode reads stringData", name)
		}
		if _, ok := secret.StringData[key]; ok {
			return nil
		}
		if _, ok := secret.Data[key]; ok {
			return nil
		}
		return fmt.Errorf("Secret %s has no key %s", name, key)
	}
	for _, site := range sites {
		if len(site.Name) > 30 {
			errs = append(errs, fmt.Errorf("TrackingSite %s: name longer than 30 characters", site.Name))
		}
		ref := site.Spec.Storage.Postgres.SecretRef
		switch {
		case standalone && ref.Name != "":
			errs = append(errs, fmt.Errorf("TrackingSite %s sets storage; standalone mode stores in SQLite under --data", site.Name))
		case !standalone:
			key := ref.Key
			if key == "" {
				key = "uri"
			}
			if err := secretHas(ref.Name, key); err != nil {
				errs = append(errs, fmt.Errorf("TrackingSite %s storage: %v", site.Name, err))
			}
		}
	}
	siteExists := func(n string) bool {
		_, ok := byName[*v1alpha1.TrackingSite](objs, n)
		return ok
	}
	for _, d := range dests {
		if len(d.Name) > 40 {
			errs = append(errs, fmt.Errorf("Destination %s: name longer than 40 characters", d.Name))
		}
		if !siteExists(d.Spec.SiteRef.Name) {
			errs = append(errs, fmt.Errorf("Destination %s: no TrackingSite %s among the samples", d.Name, d.Spec.SiteRef.Name))
		}
		if blocks := settingsBlocks(d.Spec); !slices.Equal(blocks, []string{d.Spec.Type}) {
			errs = append(errs, fmt.Errorf("Destination %s of type %s sets the settings blocks %v", d.Name, d.Spec.Type, blocks))
		}
		keys, ok := v1alpha1.CredentialKeys[d.Spec.Type]
		if !ok {
			errs = append(errs, fmt.Errorf("Destination %s: unknown type %q", d.Name, d.Spec.Type))
		}
		for _, key := range keys {
			if err := secretHas(d.Spec.CredentialsSecretRef.Name, key); err != nil {
				errs = append(errs, fmt.Errorf("Destination %s credentials: %v", d.Name, err))
			}
		}
	}
	for _, p := range policies {
		if len(p.Name) > 21 {
			errs = append(errs, fmt.Errorf("RetentionPolicy %s: name longer than 21 characters", p.Name))
		}
		if !siteExists(p.Spec.SiteRef.Name) {
			errs = append(errs, fmt.Errorf("RetentionPolicy %s: no TrackingSite %s among the samples", p.Name, p.Spec.SiteRef.Name))
		}
	}
	if standalone {
		for _, o := range objs {
			switch o.obj.(type) {
			case *v1alpha1.TrackingSite, *v1alpha1.Destination, *v1alpha1.RetentionPolicy, *corev1.Secret:
			default:
				errs = append(errs, fmt.Errorf("%s: standalone mode reads only TrackingSites, Destinations, RetentionPolicies and Secrets", o))
			}
		}
	}
	return errs
}

// settingsBlocks names the type-specific blocks a Destination sets.
func settingsBlocks(spec v1alpha1.DestinationSpec) []string {
	var out []string
	for name, set := range map[string]bool{
		v1alpha1.DestinationMeta:         spec.Meta != nil,
		v1alpha1.DestinationGoogleAds:    spec.GoogleAds != nil,
		v1alpha1.DestinationGoogleAdsAPI: spec.GoogleAdsAPI != nil,
		v1alpha1.DestinationGA4:          spec.GA4 != nil,
		v1alpha1.DestinationPinterest:    spec.Pinterest != nil,
		v1alpha1.DestinationTikTok:       spec.TikTok != nil,
		v1alpha1.DestinationWebhook:      spec.Webhook != nil,
		v1alpha1.DestinationTelegram:     spec.Telegram != nil,
		v1alpha1.DestinationOneSignal:    spec.OneSignal != nil,
	} {
		if set {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// TestCheckSampleSetFindsBrokenReferences makes sure checkSampleSet is not
// vacuous: each mutation of the standalone samples must be reported.
func TestCheckSampleSetFindsBrokenReferences(t *testing.T) {
	s := newScheme(t)
	var base []object
	files, _ := filepath.Glob("samples/standalone/*.yaml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := decodeAll(s, f, data, false)
		if err != nil {
			t.Fatal(err)
		}
		base = append(base, objs...)
	}
	if errs := checkSampleSet(base, true); len(errs) > 0 {
		t.Fatalf("the standalone samples should pass: %v", errs)
	}
	tests := []struct {
		name   string
		mutate func(objs []object)
		want   string
	}{
		{"site reference", func(objs []object) {
			find[*v1alpha1.Destination](objs)[0].Spec.SiteRef.Name = "nope"
		}, "no TrackingSite nope"},
		{"missing secret key", func(objs []object) {
			for _, sec := range find[*corev1.Secret](objs) {
				sec.StringData = map[string]string{"other": "x"}
			}
		}, "has no key secret"},
		{"second settings block", func(objs []object) {
			find[*v1alpha1.Destination](objs)[0].Spec.Meta = &v1alpha1.MetaDestination{PixelID: "12345"}
		}, "sets the settings blocks [meta webhook]"},
		{"namespace", func(objs []object) {
			find[*v1alpha1.RetentionPolicy](objs)[0].Namespace = "web"
		}, "sets a namespace"},
		{"long policy name", func(objs []object) {
			find[*v1alpha1.RetentionPolicy](objs)[0].Name = strings.Repeat("p", 22)
		}, "longer than 21"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs := make([]object, len(base))
			for i, o := range base {
				objs[i] = o
				objs[i].obj = o.obj.DeepCopyObject()
			}
			tc.mutate(objs)
			errs := checkSampleSet(objs, true)
			for _, err := range errs {
				if strings.Contains(err.Error(), tc.want) {
					return
				}
			}
			t.Errorf("want an error containing %q, got %v", tc.want, errs)
		})
	}
}
