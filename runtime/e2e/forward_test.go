package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/controllers"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/forward/meta/metafake"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/postgres"
)

const metaToken = "EAAB-e2e-access-token-s3cr3t"

// metaDestination is a Meta Destination of site shop sending to endpoint,
// created a minute ago.
func metaDestination(endpoint string) v1alpha1.Destination {
	return v1alpha1.Destination{
		ObjectMeta: metav1.ObjectMeta{Name: "meta", Namespace: "shops", CreationTimestamp: metav1.NewTime(time.Now().Add(-time.Minute))},
		Spec: v1alpha1.DestinationSpec{
			SiteRef:              v1alpha1.LocalObjectReference{Name: "shop"},
			Type:                 v1alpha1.DestinationMeta,
			CredentialsSecretRef: v1alpha1.LocalObjectReference{Name: "meta-capi"},
			Meta:                 &v1alpha1.MetaDestination{PixelID: "1234567890", Endpoint: v1alpha1.Endpoint{Endpoint: endpoint}},
		},
	}
}

// startForward starts `trackstack forward` from the forwarder pod the
// operator renders for dest, with the site's ConfigMap and keys and the
// credentials Secret holding token.
func startForward(t *testing.T, bin string, site *v1alpha1.TrackingSite, dest v1alpha1.Destination, keys map[string][]byte, token, dsn string) *podProcess {
	t.Helper()
	cmData, _, err := controllers.RenderSiteObjects(site, []v1alpha1.Destination{dest}, nil)
	if err != nil {
		t.Fatal(err)
	}
	objects := siteObjects(site, cmData, keys, dsn)
	objects[dest.Spec.CredentialsSecretRef.Name] = map[string][]byte{"accessToken": []byte(token)}
	pod := controllers.ForwarderPodSpec(&dest, site, controllers.Options{RuntimeImage: "trackstack:e2e"})
	return startPod(t, bin, "forwarder", pod, objects)
}

// gate holds requests to a handler while closed, to kill a forwarder with
// a batch in flight; a held request is dropped when the gate opens (the
// platform never got it), so only a resend can deliver its events.
type gate struct {
	h       http.Handler
	mu      sync.Mutex
	hold    chan struct{}
	arrived chan struct{}
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	hold := g.hold
	g.mu.Unlock()
	if hold != nil {
		g.arrived <- struct{}{}
		<-hold
		http.Error(w, "dropped", http.StatusBadGateway)
		return
	}
	g.h.ServeHTTP(w, r)
}

func (g *gate) close() {
	g.mu.Lock()
	g.hold, g.arrived = make(chan struct{}), make(chan struct{}, 16)
	g.mu.Unlock()
}

func (g *gate) open() {
	g.mu.Lock()
	close(g.hold)
	g.hold = nil
	g.mu.Unlock()
}

// postPurchases posts n purchases with ids prefix-0.. to the collector.
func postPurchases(t *testing.T, p *podProcess, keys map[string][]byte, prefix string, n int) []string {
	t.Helper()
	now := time.Now().UTC().Format(time.RFC3339)
	var evs, ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%d", prefix, i)
		ids = append(ids, id)
		evs = append(evs, `{"event_id": "`+id+`", "type": "conversion", "name": "purchase", "timestamp": "`+now+`",
		  "value": 99.5, "currency": "EUR", "order_id": "`+id+`", "url": "https://shop.example.com/checkout",
		  "click_ids": {"fbclid": "IwAR-`+id+`"}, "consent": {"ad_user_data": "granted"},
		  "user": {"email": "Ada@Example.com", "ip": "203.0.113.77", "user_agent": "`+desktopUA+`"}}`)
	}
	bearer := map[string]string{"Authorization": "Bearer " + string(keys[config.KeyIngest]), "Content-Type": "application/json"}
	body := `{"site": "shop", "events": [` + strings.Join(evs, ",") + `]}`
	if code, resp, err := post(t, p.url+"/v1/events", bearer, body); err != nil || code != 200 || !strings.Contains(resp, fmt.Sprintf(`"accepted":%d`, n)) {
		t.Fatalf("posting purchases: %d %s %v", code, resp, err)
	}
	return ids
}

// waitDelivered waits until every id has a sent record at destination meta.
func waitDelivered(t *testing.T, st *postgres.Store, ids []string) map[string]store.Delivery {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		list, err := st.ListDeliveries(context.Background(), "shop", "meta", store.DeliverySent, 10000)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]store.Delivery{}
		for _, d := range list {
			got[d.EventID] = d
		}
		missing := 0
		for _, id := range ids {
			if _, ok := got[id]; !ok {
				missing++
			}
		}
		if missing == 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events not delivered", missing, len(ids))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func received(f *metafake.Fake) map[string]int {
	n := map[string]int{}
	for _, e := range f.Events() {
		n[e.EventID]++
	}
	return n
}

// TestForwarderStartsFromOperatorRender runs the collector and the Meta
// forwarder from the files the operator renders, against the strict Meta
// fake, and kills the forwarder with SIGKILL while a batch is in flight:
// after a restart it sends again only what Meta had not confirmed.
func TestForwarderStartsFromOperatorRender(t *testing.T) {
	bin := trackstackBin.get(t)
	dsn := pg.NewDatabase(t)
	site := readSample(t, "../../config/samples/trackstack_v1alpha1_trackingsite.yaml")
	site.Namespace = "shops"
	fake := metafake.New("1234567890", metaToken)
	g := &gate{h: fake}
	srv := httptest.NewServer(g)
	defer srv.Close()
	dest := metaDestination(srv.URL)

	collector, keys := startCollectWith(t, bin, site, []v1alpha1.Destination{dest}, dsn)
	fwd := startForward(t, bin, site, dest, keys, metaToken, dsn)
	fwd.waitReady(t)
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	first := postPurchases(t, collector, keys, "first", 5)
	recs := waitDelivered(t, st, first)
	for _, id := range first {
		if r := recs[id]; !strings.HasPrefix(r.ResponseID, "FAKETRACE") || r.SendAs != "Purchase" {
			t.Errorf("%s: record %+v, want Meta's fbtrace_id and Purchase", id, r)
		}
	}
	for _, e := range fake.Events() {
		if e.EventName != "Purchase" || e.ActionSource != "website" || !strings.HasPrefix(e.UserData.FBC, "fb.1.") ||
			e.UserData.ClientIPAddress != "203.0.113.77" || e.UserData.ClientUserAgent != desktopUA {
			t.Errorf("Meta got %+v: want Purchase from the website with fbc from the fbclid and the real IP and user agent", e)
		}
	}

	// A batch in flight when the forwarder dies: the forwarder never heard
	// back, so after a restart it sends it again, and nothing confirmed.
	g.close()
	second := postPurchases(t, collector, keys, "second", 5)
	<-g.arrived
	fwd.cmd.Process.Kill()
	<-fwd.exited
	fwd.exited <- nil
	g.open()
	fwd = startForward(t, bin, site, dest, keys, metaToken, dsn)
	waitDelivered(t, st, append(first, second...))
	got := received(fake)
	for _, id := range first {
		if got[id] != 1 {
			t.Errorf("%s, confirmed before the kill, reached Meta %d times; want once", id, got[id])
		}
	}
	for _, id := range second {
		if got[id] != 1 {
			t.Errorf("%s, in flight at the kill, reached Meta %d times; want once, by the resend", id, got[id])
		}
	}
}

// TestForwarderRejectedCredentials: Meta answers 401, so the forwarder
// fails /readyz with Meta's message and logs it, never the token, and the
// events stay pending until the credentials work.
func TestForwarderRejectedCredentials(t *testing.T) {
	bin := trackstackBin.get(t)
	dsn := pg.NewDatabase(t)
	site := readSample(t, "../../config/samples/trackstack_v1alpha1_trackingsite.yaml")
	site.Namespace = "shops"
	fake := metafake.New("1234567890", metaToken)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	dest := metaDestination(srv.URL)
	collector, keys := startCollectWith(t, bin, site, []v1alpha1.Destination{dest}, dsn)
	const wrong = "EAAB-revoked-token-9f8e7d"
	fwd := startForward(t, bin, site, dest, keys, wrong, dsn)
	fwd.waitReady(t)
	ids := postPurchases(t, collector, keys, "order", 2)

	body := fwd.waitStatus(t, "/readyz", http.StatusServiceUnavailable)
	if !strings.Contains(body, "Invalid OAuth access token") {
		t.Errorf("/readyz says %q, want Meta's message", body)
	}
	fwd.waitLog(t, "Invalid OAuth access token")
	logs := fwd.stderr.String()
	if strings.Contains(logs, wrong) || strings.Contains(body, wrong) {
		t.Errorf("the token leaked into the log or /readyz")
	}
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pending, err := st.ListDeliveries(context.Background(), "shop", "meta", store.DeliveryPending, 10)
	if err != nil || len(pending) != len(ids) {
		t.Fatalf("pending records: %v, %v; want both events pending", pending, err)
	}

	// The Secret is fixed (the pod restarts with it): everything goes out.
	fwd.cmd.Process.Kill()
	<-fwd.exited
	fwd.exited <- nil
	fwd = startForward(t, bin, site, dest, keys, metaToken, dsn)
	waitDelivered(t, st, ids)
	fwd.waitReady(t)
}
