package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/internal/browsertest"
	"github.com/trackstack/trackstack/runtime/internal/pgtest"
	"github.com/trackstack/trackstack/runtime/standalone"
	"github.com/trackstack/trackstack/runtime/store/postgres"
)

// Shared by the tests of this package: one PostgreSQL server (a database
// per test) and one build of the binary.
var (
	pg            = pgtest.New()
	trackstackBin = &binary{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Close()
	trackstackBin.cleanup()
	os.Exit(code)
}

// readSample decodes a sample TrackingSite strictly.
func readSample(t *testing.T, file string) *v1alpha1.TrackingSite {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var site v1alpha1.TrackingSite
	if err := yaml.UnmarshalStrict(b, &site); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &site
}

func post(t *testing.T, url string, header map[string]string, body string) (int, string, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), nil
}

// TestCollectorStartsFromOperatorRender: the collector
// starts from exactly the files the operator's builders give a pod, writes
// into PostgreSQL, and on SIGTERM commits everything it acknowledged and
// exits 0.
func TestCollectorStartsFromOperatorRender(t *testing.T) {
	bin := trackstackBin.get(t)
	dsn := pg.NewDatabase(t)
	site := readSample(t, "../../config/samples/trackstack_v1alpha1_trackingsite.yaml")
	site.Namespace = "shops"

	p, keys := startCollect(t, bin, site, dsn)
	bearer := map[string]string{"Authorization": "Bearer " + string(keys[config.KeyIngest]), "Content-Type": "application/json"}
	now := time.Now().UTC().Format(time.RFC3339)

	server := `{"site": "shop", "events": [{"event_id": "order-1001", "type": "conversion", "name": "purchase", "timestamp": "` + now + `",
	  "value": 99.5, "currency": "EUR", "order_id": "1001", "click_ids": {"gclid": "g-1"},
	  "user": {"email": "Ada@Example.com", "ip": "203.0.113.77", "user_agent": "` + desktopUA + `"}}]}`
	if code, body, err := post(t, p.url+"/v1/events", bearer, server); err != nil || code != 200 || !strings.Contains(body, `"accepted":1`) {
		t.Fatalf("server event: %d %s %v", code, body, err)
	}
	if code, _, _ := post(t, p.url+"/v1/events", map[string]string{"Authorization": "Bearer wrong"}, server); code != http.StatusUnauthorized {
		t.Errorf("a wrong ingest key: %d", code)
	}
	// The sample site asks for consent (optIn); the tracker sends only
	// once it is granted, and says so in the batch.
	browser := fmt.Sprintf(`{"site": "shop", "events": [{"event_id": "0b6c8e1e-7d43-4a4b-9d0e-5f1a2b3c4d5e", "type": "pageview", "ts": %d,
	  "url": "https://shop.example.com/?utm_source=google&utm_medium=cpc&gclid=abc123", "utm": {"source": "google", "medium": "cpc"},
	  "click_ids": {"gclid": "abc123"}, "consent": {"ad_storage": "granted", "analytics_storage": "granted", "ad_user_data": "granted", "ad_personalization": "denied"},
	  "scripted": true}]}`, time.Now().UnixMilli())
	origin := map[string]string{"Origin": "https://shop.example.com", "Content-Type": "text/plain", "User-Agent": desktopUA}
	if code, body, err := post(t, p.url+"/_ts/e", origin, browser); err != nil || code != 200 || !strings.Contains(body, `"accepted":1`) {
		t.Fatalf("browser batch: %d %s %v", code, body, err)
	}
	if res, err := http.Get(p.url + "/_ts/t.js"); err != nil || res.StatusCode != 200 {
		t.Fatalf("t.js: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	// Load from four clients while SIGTERM arrives: every event
	// acknowledged with 200 must be in the database afterwards.
	var (
		mu    sync.Mutex
		acked []string
		n     atomic.Int64
		wg    sync.WaitGroup
	)
	enough := make(chan struct{})
	var once sync.Once
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("load-%d-%d", c, i)
				body := `{"site": "shop", "events": [{"event_id": "` + id + `", "type": "custom", "name": "load", "timestamp": "` + time.Now().UTC().Format(time.RFC3339) + `"}]}`
				code, resp, err := post(t, p.url+"/v1/events", bearer, body)
				if err != nil {
					return // the collector has closed its port
				}
				if code == 200 && strings.Contains(resp, `"accepted":1`) {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
					if n.Add(1) >= 100 {
						once.Do(func() { close(enough) })
					}
				}
			}
		}()
	}
	<-enough
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		p.exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("collector exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("collector still running a minute after SIGTERM")
	}
	wg.Wait()

	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored, err := st.Recent(context.Background(), "shop", 100000)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]event.Event{}
	for _, e := range stored {
		byID[e.EventID] = e
	}
	var lost []string
	for _, id := range acked {
		if _, ok := byID[id]; !ok {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d acknowledged events are not in PostgreSQL: %v", len(lost), len(acked), lost)
	}
	t.Logf("%d events acknowledged under load, all stored; %d stored in all", len(acked), len(stored))

	order := byID["order-1001"]
	if order.Source != event.SourceServer || order.Value == nil || *order.Value != 99.5 || order.IP != "203.0.113.0" ||
		order.User.EmailSHA256 == "" || order.Device.Browser != "Chrome" {
		t.Errorf("server event stored as %+v", order)
	}
	pv := byID["0b6c8e1e-7d43-4a4b-9d0e-5f1a2b3c4d5e"]
	if pv.Source != event.SourceBrowser || pv.Channel != event.ChannelPaidSearch || pv.ClickIDs["gclid"] != "abc123" ||
		pv.UTM.Source != "google" || pv.VisitorID == "" || pv.IP != "127.0.0.0" {
		t.Errorf("browser event stored as %+v", pv)
	}

	logs := p.stderr.String()
	for _, secret := range []string{string(keys[config.KeyIngest]), string(keys[config.KeySigning]), string(keys[config.KeyVisitorSalt]), dsn} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs show a secret (%.6s…)", secret)
		}
	}
	var last map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		last = nil
		if err := json.Unmarshal([]byte(line), &last); err != nil {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
	if last["msg"] != "stopped" || last["exit_code"] != 0.0 || last["site"] != "shop" || last["cmd"] != "collect" {
		t.Errorf("last log line %v, want the clean stop", last)
	}
	for _, want := range []string{`"msg":"store migrations applied"`, `"msg":"shutting down: draining"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}
}

// TestCollectorOnPostgresInBrowser runs the browser visit of the standalone
// test against `trackstack collect` on PostgreSQL: the demo page is served
// from the site's own host (localhost here), which routes the tracker path
// to the collector as the operator's first-party Ingress rule does.
func TestCollectorOnPostgresInBrowser(t *testing.T) {
	bin := trackstackBin.get(t)
	dsn := pg.NewDatabase(t)
	site := &v1alpha1.TrackingSite{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "shops"},
		Spec: v1alpha1.TrackingSiteSpec{
			Domains: []string{"localhost"},
			Storage: v1alpha1.StorageSpec{Postgres: v1alpha1.PostgresStorage{SecretRef: v1alpha1.SecretKeyReference{Name: "pg", Key: "uri"}}},
			Tracker: v1alpha1.TrackerSpec{Path: "/_ts", Pixels: v1alpha1.PixelsSpec{Meta: &v1alpha1.MetaPixel{PixelID: "1234567890"}}},
		},
	}
	p, _ := startCollect(t, bin, site, dsn)
	collector, err := url.Parse(p.url)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	standalone.NewDemo([]*config.Runtime{config.Render(site, nil, nil, config.RenderOptions{})}).Register(mux)
	mux.Handle("/_ts/", httputil.NewSingleHostReverseProxy(collector))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	read := func(t *testing.T) []event.Event {
		t.Helper()
		evs, err := st.Recent(context.Background(), "shop", 1000)
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	shopVisit(t, browsertest.Start(t), "http://localhost:"+port, read)
}
