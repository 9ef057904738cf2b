package standalone

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadFilesReadsDirectoriesRecursively(t *testing.T) {
	res, err := LoadFiles([]string{"testdata/ok"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sites) != 2 || res.Sites[0].Name != "shop" || res.Sites[1].Name != "blog" {
		t.Fatalf("sites %+v, want shop and blog in file order", res.Sites)
	}
	if res.Sites[1].Spec.Tracker.Consent.Mode != "optIn" {
		t.Errorf("blog consent %q", res.Sites[1].Spec.Tracker.Consent.Mode)
	}
	if len(res.Destinations) != 1 || len(res.RetentionPolicies) != 1 {
		t.Errorf("destinations %d, policies %d", len(res.Destinations), len(res.RetentionPolicies))
	}
	sec := res.Secrets["meta-capi"]
	if string(sec["accessToken"]) != "from-stringData" || string(sec["other"]) != "other" {
		t.Errorf("secret %q: stringData must win over data, data is base64", sec)
	}
	if got := res.Source("Destination", "shop-meta"); got != filepath.Join("testdata", "ok", "sub", "destinations.yml")+" (document 1)" {
		t.Errorf("source %q", got)
	}
	if got := res.Source("TrackingSite", "blog"); !strings.HasSuffix(got, "sites.yaml (document 3)") {
		t.Errorf("blog's source %q: documents are counted from 1, comment-only ones included", got)
	}
	if d := res.DestinationsOf("shop"); len(d) != 1 || len(res.DestinationsOf("blog")) != 0 {
		t.Errorf("DestinationsOf(shop) = %v", d)
	}
	if p := res.RetentionPoliciesOf("shop"); len(p) != 1 || p[0].Spec.MaxAgeDays != 30 {
		t.Errorf("RetentionPoliciesOf(shop) = %v", p)
	}
}

const (
	siteDoc = "apiVersion: trackstack.dev/v1alpha1\nkind: TrackingSite\nmetadata: {name: shop}\nspec: {domains: [shop.example.com]}\n"
	destDoc = "apiVersion: trackstack.dev/v1alpha1\nkind: Destination\nmetadata: {name: hook}\nspec: {siteRef: {name: shop}, type: webhook, credentialsSecretRef: {name: hook}, webhook: {url: 'http://127.0.0.1:9/'}}\n"
	secDoc  = "apiVersion: v1\nkind: Secret\nmetadata: {name: hook}\nstringData: {secret: s}\n"
)

func TestLoadFilesErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		// want are substrings of the error, which must name the place.
		want []string
	}{
		{"unknown field", map[string]string{"a.yaml": siteDoc + "---\n" + strings.Replace(siteDoc, "domains", "domain", 1)},
			[]string{"a.yaml (document 2)", `unknown field "spec.domain"`}},
		{"duplicate field", map[string]string{"a.yaml": siteDoc + "spec: {}\n"}, []string{"a.yaml (document 1)", "spec"}},
		{"unknown kind", map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"},
			[]string{"a.yaml (document 1)", "v1 ConfigMap is not read in standalone mode"}},
		{"wrong version", map[string]string{"a.yaml": strings.Replace(siteDoc, "v1alpha1", "v1", 1)},
			[]string{"trackstack.dev/v1 TrackingSite is not read"}},
		{"no kind", map[string]string{"a.yaml": "metadata: {name: x}\n"}, []string{"a.yaml (document 1)", "no apiVersion and kind"}},
		{"not yaml", map[string]string{"a.yaml": siteDoc + "---\nkind: [\n"}, []string{"a.yaml (document 2)"}},
		{"bad base64", map[string]string{"a.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata: {k: '***'}\n"}, []string{"a.yaml (document 1)"}},
		{"no name", map[string]string{"a.yaml": strings.Replace(siteDoc, "{name: shop}", "{}", 1)}, []string{"TrackingSite has no metadata.name"}},
		{"duplicate", map[string]string{"a.yaml": siteDoc, "b.yaml": siteDoc},
			[]string{"b.yaml (document 1)", "TrackingSite shop is already defined in", "a.yaml (document 1)"}},
		{"no site", map[string]string{"a.yaml": secDoc}, []string{"no TrackingSite"}},
		{"dangling site ref", map[string]string{"a.yaml": siteDoc + "---\n" + strings.Replace(destDoc, "{name: shop}", "{name: blog}", 1) + "---\n" + secDoc},
			[]string{"Destination hook", `no TrackingSite "blog"`}},
		{"missing secret", map[string]string{"a.yaml": siteDoc + "---\n" + destDoc}, []string{"Destination hook", `no Secret "hook"`}},
		{"bad secret key", map[string]string{"a.yaml": siteDoc + "---\n" + destDoc + "---\n" + strings.Replace(secDoc, "secret: s", "'../x': s", 1)},
			[]string{"Secret hook", `key "../x"`}},
		{"policy ref", map[string]string{"a.yaml": siteDoc + "---\napiVersion: trackstack.dev/v1alpha1\nkind: RetentionPolicy\nmetadata: {name: p}\nspec: {siteRef: {name: nope}}\n"},
			[]string{"RetentionPolicy p", `no TrackingSite "nope"`}},
		{"site name", map[string]string{"a.yaml": strings.Replace(siteDoc, "{name: shop}", "{name: Shop_1}", 1)}, []string{"TrackingSite Shop_1", "metadata.name"}},
		{"reserved path", map[string]string{"a.yaml": strings.Replace(siteDoc, "spec: {", "spec: {tracker: {path: /api/ts}, ", 1)},
			[]string{"spec.tracker.path \"/api/ts\" is taken"}},
		{"no yaml files", map[string]string{"notes.txt": "x"}, []string{"no *.yaml or *.yml files"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := LoadFiles([]string{dir})
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v, want one wrapping ErrConfig", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := LoadFiles([]string{"testdata/nope"}); !errors.Is(err, ErrConfig) {
		t.Errorf("missing path: %v", err)
	}
	if _, err := LoadFiles(nil); !errors.Is(err, ErrConfig) {
		t.Errorf("no paths: %v", err)
	}
}

// FuzzDecode feeds arbitrary files to the document decoder: it may refuse
// them, but must not panic, and what it accepts has names.
func FuzzDecode(f *testing.F) {
	for _, p := range []string{"testdata/ok/sites.yaml", "testdata/ok/sub/destinations.yml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(siteDoc + "---\n" + destDoc + "---\n" + secDoc))
	f.Add([]byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res := &Resources{Secrets: map[string]map[string][]byte{}, source: map[string]string{}}
		if err := res.decode("fuzz.yaml", data); err != nil {
			return
		}
		for _, s := range res.Sites {
			if s.Name == "" {
				t.Errorf("accepted a site without a name")
			}
		}
	})
}
