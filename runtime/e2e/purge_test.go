package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/trackstack/trackstack/controllers"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/postgres"
)

// TestPurgeJobFromOperatorRender runs the binary as the pod of the
// operator's purge Job: the container's own arguments, its mounted
// ConfigMap and storage Secret written as files, on a real PostgreSQL
// holding two sites' data. The site's rows go, the other site's stay, and
// the summary on stdout counts what went.
func TestPurgeJobFromOperatorRender(t *testing.T) {
	bin := trackstackBin.get(t)
	dsn := pg.NewDatabase(t)
	site := readSample(t, "../../config/samples/trackstack_v1alpha1_trackingsite.yaml")
	site.Namespace = "shops"
	st := seedPurge(t, dsn, site.Name, "other")
	defer st.Close()

	cmData, _, err := controllers.RenderSiteObjects(site, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pod := controllers.PurgePodSpec(site, controllers.Options{RuntimeImage: "trackstack:e2e"})
	objects := siteObjects(site, cmData, nil, dsn)
	objects[controllers.PurgeConfigMapName(site.Name)] = objects[controllers.RuntimeConfigMapName(site.Name)]
	root := t.TempDir()
	podFiles(t, root, pod, objects)
	c := pod.Containers[0]

	help := exec.Command(bin, c.Args[0], "--help")
	if out, err := help.CombinedOutput(); err != nil || !bytes.Contains(out, []byte("--confirm-site")) {
		t.Fatalf("%s --help: %v\n%s", c.Args[0], err, out)
	}

	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, append(slices.Clone(c.Args), "--root", root)...)
	for _, e := range c.Env {
		cmd.Env = append(cmd.Env, *e.Name+"="+*e.Value)
	}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("purge as the Job runs it: %v\n%s", err, stderr.String())
	}
	var sum struct {
		Site   string           `json:"site"`
		Tables map[string]int64 `json:"tables"`
		Rows   int64            `json:"rows"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("stdout is not the summary: %v\n%s", err, stdout.String())
	}
	if sum.Site != site.Name || sum.Tables["events"] != 4 || sum.Tables["event_ids"] != 4 || sum.Tables["audit_log"] != 1 {
		t.Errorf("summary %s", stdout.String())
	}
	for name, want := range map[string]int{site.Name: 0, "other": 4} {
		evs, err := st.Recent(context.Background(), name, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != want {
			t.Errorf("site %s has %d events after the purge, want %d", name, len(evs), want)
		}
	}
}

// seedPurge stores four events and an audit entry for each site.
func seedPurge(t *testing.T, dsn string, sites ...string) *postgres.Store {
	t.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, site := range sites {
		var evs []event.Event
		for i, id := range []string{"a", "b", "c", "d"} {
			at := now.Add(-time.Duration(i) * 20 * time.Hour)
			evs = append(evs, event.Event{Site: site, EventID: id, Type: event.TypePageview, Source: event.SourceServer, Timestamp: at, ReceivedAt: at})
		}
		if _, err := st.Insert(ctx, evs); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordAudit(ctx, store.AuditEntry{Site: site, At: now, Actor: "admin", Action: "sign_in"}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}
