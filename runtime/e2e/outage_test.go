package e2e

import (
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/internal/pgtest"
)

// outage is how long PostgreSQL stays stopped: long enough for clients to
// retry several times and for the collector's connections to all fail.
const outage = 10 * time.Second

func sampleSite(t *testing.T) *v1alpha1.TrackingSite {
	t.Helper()
	site := readSample(t, "../../config/samples/trackstack_v1alpha1_trackingsite.yaml")
	site.Namespace = "shops"
	return site
}

// TestCollectorThroughPostgresOutage stops PostgreSQL as a crash does
// (pg_ctl stop -m immediate) for about ten seconds while clients post
// server events to `trackstack collect`, then starts it again on the same
// port and data directory. While it is down the collector answers 503 with
// Retry-After and fails /readyz; once it is back the collector recovers
// without a restart, and every event it acknowledged is in PostgreSQL once.
func TestCollectorThroughPostgresOutage(t *testing.T) {
	bin := trackstackBin.get(t)
	// A server of its own: the package's shared one serves other tests.
	db := pgtest.New()
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("while stopping the test's PostgreSQL: %v", err)
		}
	})
	dsn := db.NewDatabase(t)
	stopped := false
	t.Cleanup(func() {
		// After a failure during the outage: start it, so the database
		// can be dropped as usual.
		if stopped {
			if err := db.StartAgain(); err != nil {
				t.Errorf("while starting PostgreSQL again for the cleanup: %v", err)
			}
		}
	})
	site := sampleSite(t)
	p, keys := startCollect(t, bin, site, dsn)
	load := startServerLoad(t, p.url, string(keys[config.KeyIngest]), site.Name, "outage")
	load.waitAcked(t, 200, "fewer than 200 events acknowledged before the outage")

	if err := db.StopImmediate(); err != nil {
		t.Fatalf("while stopping PostgreSQL: %v", err)
	}
	stopped = true
	down := time.Now()
	t.Logf("PostgreSQL stopped; load so far: %s", load.summary())
	waitUntil(t, "the collector did not fail /readyz with PostgreSQL stopped", func() bool {
		p.requireRunning(t)
		return readyz(p.url) == http.StatusServiceUnavailable
	})
	waitUntil(t, "no event was answered 503 with Retry-After with PostgreSQL stopped", func() bool {
		p.requireRunning(t)
		_, unavailable := load.counts()
		return unavailable > 0
	})
	// Not an assertion: the outage lasts this long whatever was seen.
	time.Sleep(time.Until(down.Add(outage)))

	if err := db.StartAgain(); err != nil {
		t.Fatalf("while starting PostgreSQL again: %v", err)
	}
	stopped = false
	t.Logf("PostgreSQL started again after %v down; load so far: %s", time.Since(down).Round(time.Second), load.summary())
	waitUntil(t, "the collector's /readyz did not answer 200 again after PostgreSQL came back", func() bool {
		p.requireRunning(t)
		return readyz(p.url) == http.StatusOK
	})
	acked, _ := load.counts()
	load.waitAcked(t, acked+200, "fewer than 200 more events acknowledged after PostgreSQL came back")

	load.stopAndWait()
	t.Logf("load: %s", load.summary())
	load.checkAnswers(t, false)
	checkStored(t, dsn, site.Name, load.ackedIDs())
}

// TestCollectorKilledUnderLoad kills `trackstack collect` with SIGKILL
// while clients post server events: every event it acknowledged is in
// PostgreSQL, since it answers only after the commit. A collector started
// again on the same database takes events, and knows the acknowledged ones.
func TestCollectorKilledUnderLoad(t *testing.T) {
	bin := trackstackBin.get(t)
	dsn := pg.NewDatabase(t)
	site := sampleSite(t)
	p, keys := startCollect(t, bin, site, dsn)
	load := startServerLoad(t, p.url, string(keys[config.KeyIngest]), site.Name, "kill")
	load.waitAcked(t, 300, "fewer than 300 events acknowledged before the kill")

	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-p.exited
	p.exited <- err // for the cleanup
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("collector ended with %v, want killed by SIGKILL", err)
	}
	// Each client ends at its first request that finds the port closed.
	waitUntil(t, "the load clients still run after the collector was killed", func() bool {
		select {
		case <-load.done:
			return true
		default:
			return false
		}
	})
	t.Logf("load: %s", load.summary())
	load.checkAnswers(t, true)
	acked := load.ackedIDs()
	checkStored(t, dsn, site.Name, acked)

	again, keys := startCollect(t, bin, site, dsn)
	bearer := map[string]string{"Authorization": "Bearer " + string(keys[config.KeyIngest]), "Content-Type": "application/json"}
	for _, tt := range []struct{ id, want string }{
		{acked[0], `"duplicates":1`},
		{"after-restart", `"accepted":1`},
	} {
		code, body, err := post(t, again.url+"/v1/events", bearer, serverEventBody(site.Name, tt.id, time.Now()))
		if err != nil || code != http.StatusOK || !strings.Contains(body, tt.want) {
			t.Errorf("event %s after the restart: %d %s %v, want 200 with %s", tt.id, code, body, err, tt.want)
		}
	}
}
