package controllers

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

func TestRenderSiteObjects(t *testing.T) {
	site := &v1alpha1.TrackingSite{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "web"},
		Spec: v1alpha1.TrackingSiteSpec{
			Domains: []string{"shop.example.com"},
			Storage: v1alpha1.StorageSpec{Postgres: v1alpha1.PostgresStorage{SecretRef: v1alpha1.SecretKeyReference{Name: "pg", Key: "dsn"}}},
		},
	}
	data, keys, err := RenderSiteObjects(site, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := config.Parse([]byte(data[config.FileName]))
	if err != nil {
		t.Fatalf("the rendered ConfigMap does not parse as the runtime reads it: %v", err)
	}
	if rt.Site.Name != "shop" || rt.Storage.DSNFile != config.StorageDir+"/dsn" || rt.Site.KeysDir != config.KeysDir {
		t.Errorf("rendered config %+v", rt)
	}
	for _, k := range config.GeneratedKeys {
		if len(keys[k]) < 32 {
			t.Errorf("key %s is %q, want a generated value", k, keys[k])
		}
	}
	_, again, err := RenderSiteObjects(site, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(again[config.KeyIngest]) == string(keys[config.KeyIngest]) {
		t.Error("two renders generated the same ingest key")
	}

	pod := CollectorPodSpec(site, Options{RuntimeImage: "trackstack:test"})
	if len(pod.Containers) != 1 {
		t.Fatalf("collector pod has %d containers", len(pod.Containers))
	}
	args := pod.Containers[0].Args
	if len(args) == 0 || args[0] != "collect" || !slices.Contains(args, "--config") {
		t.Errorf("collector args %v", args)
	}
	mounts := map[string]string{}
	for _, m := range pod.Containers[0].VolumeMounts {
		mounts[*m.MountPath] = *m.Name
	}
	for _, dir := range []string{config.ConfigDir, config.KeysDir, config.StorageDir} {
		if mounts[dir] == "" {
			t.Errorf("nothing mounted at %s: %v", dir, mounts)
		}
	}
	if RuntimeConfigMapName("shop") != "shop-runtime" || KeysSecretName("shop") != "shop-keys" {
		t.Error("object names changed")
	}
}
