package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/trackstack/trackstack/controllers"
	"github.com/trackstack/trackstack/runtime/config"
)

// TestDashboardStartsFromOperatorRender runs `trackstack dashboard` from
// the pod the operator renders for the sample site, next to its collector
// on the same database: the API answers the admin (basic auth, the site's
// generated password) with the numbers of the events the collector took,
// and nobody else.
func TestDashboardStartsFromOperatorRender(t *testing.T) {
	bin := trackstackBin.get(t)
	dsn := pg.NewDatabase(t)
	site := readSample(t, "../../config/samples/trackstack_v1alpha1_trackingsite.yaml")
	site.Namespace = "shops"
	collector, keys := startCollect(t, bin, site, dsn)
	postPurchases(t, collector, keys, "order", 3)

	cmData, _, err := controllers.RenderSiteObjects(site, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pod := controllers.DashboardPodSpec(site, controllers.Options{RuntimeImage: "trackstack:e2e"})
	dash := startPod(t, bin, "dashboard", pod, siteObjects(site, cmData, keys, dsn))
	dash.waitReady(t)

	req, _ := http.NewRequest("GET", dash.url+"/api/v1/sites/shop/overview", nil)
	req.SetBasicAuth("admin", strings.TrimSpace(string(keys[config.KeyAdminPassword])))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var ov struct {
		Current struct {
			Conversions int64   `json:"conversions"`
			Revenue     float64 `json:"revenue"`
		} `json:"current"`
	}
	if res.StatusCode != 200 || json.Unmarshal(body, &ov) != nil || ov.Current.Conversions != 3 || ov.Current.Revenue != 3*99.5 {
		t.Fatalf("overview as admin: %d %s; want 3 conversions worth 298.5", res.StatusCode, body)
	}

	res, err = http.Get(dash.url + "/api/v1/sites/shop/overview")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the API without credentials: %d, want 401", res.StatusCode)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = noRedirect.Get(dash.url + "/sites/shop/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound || !strings.Contains(res.Header.Get("Location"), "/login") {
		t.Errorf("a page without a session: %d to %q, want a redirect to /login", res.StatusCode, res.Header.Get("Location"))
	}
}
