package tracker

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

// SizeBudget is the most t.js may weigh gzipped, settings included.
const SizeBudget = 2048

var allOn = config.Autocapture{Clicks: true, Forms: true, OutboundLinks: true, SPA: true}

// realistic is a site as the samples configure one: opt-in consent, every
// autocapture on, and the Meta and GA4 pixels of the DESIGN example.
var realistic = ScriptConfig{
	Site:        "shop-example-com",
	ConsentMode: v1alpha1.ConsentModeOptIn,
	Autocapture: allOn,
	Pixels: v1alpha1.PixelsSpec{
		Meta: &v1alpha1.MetaPixel{PixelID: "123456789012345"},
		GA4:  &v1alpha1.GA4Pixel{MeasurementID: "G-ABCDEF1234"},
	},
}

// allPixels configures every platform, for the size of x.js.
var allPixels = ScriptConfig{
	Site:        "shop",
	Cookieless:  true,
	ConsentMode: v1alpha1.ConsentModeOptOut,
	Autocapture: allOn,
	Pixels: v1alpha1.PixelsSpec{
		Meta:      &v1alpha1.MetaPixel{PixelID: "123456789012345"},
		GA4:       &v1alpha1.GA4Pixel{MeasurementID: "G-ABCDEF1234"},
		GoogleAds: &v1alpha1.GoogleAdsPixel{ConversionID: "AW-123456789", ConversionLabel: "AbC-dEf_123"},
		Pinterest: &v1alpha1.PinterestPixel{TagID: "2612345678901"},
		TikTok:    &v1alpha1.TikTokPixel{PixelCode: "C4ABCDEFGHIJ1234KLMN"},
	},
}

func gzipSize(t *testing.T, b []byte) int {
	t.Helper()
	f := newFile(b, etagOf(b))
	return len(f.gz)
}

func TestSizeBudget(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ScriptConfig
	}{
		{"realistic", realistic},
		{"defaults", ScriptConfig{Site: "shop", Autocapture: allOn}},
		{"all settings", allPixels},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js, _ := Script(tc.cfg)
			size := gzipSize(t, js)
			t.Logf("t.js: %d bytes, %d gzipped (budget %d)", len(js), size, SizeBudget)
			if size > SizeBudget {
				t.Errorf("t.js is %d bytes gzipped, over the budget of %d bytes", size, SizeBudget)
			}
			if x, _ := Extension(tc.cfg); x != nil {
				t.Logf("x.js (loaded only with pixels): %d bytes, %d gzipped", len(x), gzipSize(t, x))
			}
		})
	}
	tcf, _ := TCF()
	t.Logf("tcf.js (loaded only with a TCF CMP): %d bytes, %d gzipped", len(tcf), gzipSize(t, tcf))
	h, _ := Hasher()
	t.Logf("h.js (loaded only to hash email and phone): %d bytes, %d gzipped", len(h), gzipSize(t, h))
}

// settingsOf extracts the JSON t.js was given.
func settingsOf(t *testing.T, js []byte) map[string]any {
	t.Helper()
	m := regexp.MustCompile(`const [A-Za-z_$]+=(\{[^}]*\})`).FindSubmatch(js)
	if m == nil {
		t.Fatalf("no injected settings in %.120s", js)
	}
	var s map[string]any
	if err := json.Unmarshal(m[1], &s); err != nil {
		t.Fatalf("settings %s: %v", m[1], err)
	}
	return s
}

func TestScriptInjectsSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ScriptConfig
		want map[string]any
	}{
		{"defaults", ScriptConfig{Site: "shop", Autocapture: allOn}, map[string]any{"s": "shop", "a": 15.0}},
		{"site from the tag, nothing captured", ScriptConfig{ConsentMode: "none"}, map[string]any{"a": 0.0}},
		{"opt-in, forms and SPA", ScriptConfig{Site: "a", ConsentMode: "optIn", Autocapture: config.Autocapture{Forms: true, SPA: true}},
			map[string]any{"s": "a", "m": 1.0, "a": 10.0}},
		{"opt-out, cookieless, clicks and outbound", ScriptConfig{Site: "b", ConsentMode: "optOut", Cookieless: true, Autocapture: config.Autocapture{Clicks: true, OutboundLinks: true}},
			map[string]any{"s": "b", "m": 2.0, "a": 5.0, "n": 1.0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js, etag := Script(tc.cfg)
			if bytes.Contains(js, []byte(configPlaceholder)) {
				t.Fatal("placeholder left in the script")
			}
			got := settingsOf(t, js)
			if len(got) != len(tc.want) {
				t.Errorf("settings %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("settings[%q] = %v, want %v", k, got[k], v)
				}
			}
			if again, etag2 := Script(tc.cfg); !bytes.Equal(again, js) || etag2 != etag {
				t.Error("Script is not deterministic")
			}
		})
	}
}

func TestScriptSettingsAreEscaped(t *testing.T) {
	js, _ := Script(ScriptConfig{Site: "</script><script>alert(1)</script>\u2028"})
	for _, bad := range []string{"</script>", "\u2028"} {
		if strings.Contains(string(js), bad) {
			t.Errorf("injected settings contain %q unescaped", bad)
		}
	}
}

func TestPixelsGoToTheExtension(t *testing.T) {
	if x, _ := Extension(ScriptConfig{Site: "shop"}); x != nil {
		t.Errorf("x.js without pixels: %s", x)
	}
	if s := settingsOf(t, must(Script(ScriptConfig{Site: "shop"}))); s["x"] != nil {
		t.Errorf("t.js without pixels names x.js version %v", s["x"])
	}

	x, xtag := Extension(allPixels)
	for _, want := range []string{`{"id":"123456789012345"}`, `"ga":"G-ABCDEF1234"`, `"aw":"AW-123456789"`, `"al":"AbC-dEf_123"`,
		`{"id":"2612345678901"}`, `{"id":"C4ABCDEFGHIJ1234KLMN"}`, "connect.facebook.net", "googletagmanager.com", "pinimg.com", "analytics.tiktok.com"} {
		if !strings.Contains(string(x), want) {
			t.Errorf("x.js lacks %s", want)
		}
	}
	if bytes.Contains(x, []byte(bridgesPlaceholder)) {
		t.Error("placeholder left in x.js")
	}
	if s := settingsOf(t, must(Script(allPixels))); s["x"] != version(xtag) {
		t.Errorf("t.js names x.js version %v, want %s", s["x"], version(xtag))
	}
	// Pixel ids stay out of t.js: they ship only to sites with pixels.
	if js := must(Script(allPixels)); bytes.Contains(js, []byte("123456789012345")) {
		t.Error("t.js carries pixel ids")
	}
}

func must(b []byte, _ string) []byte { return b }

func TestConfigFor(t *testing.T) {
	rt := &config.Runtime{
		Site: config.Site{Name: "shop"},
		Tracker: config.Tracker{Path: "/_ts", Cookieless: true, ConsentMode: "optIn", Autocapture: allOn,
			Pixels: v1alpha1.PixelsSpec{Meta: &v1alpha1.MetaPixel{PixelID: "12345"}}},
	}
	got := ConfigFor(rt)
	if got.Site != "shop" || got.ConsentMode != "optIn" || !got.Cookieless || got.Autocapture != allOn || got.Pixels.Meta.PixelID != "12345" {
		t.Errorf("ConfigFor = %+v", got)
	}
}

func get(t *testing.T, h http.Handler, target string, header map[string]string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func TestHandler(t *testing.T) {
	h := NewHandler(realistic)
	js, etag := Script(realistic)
	gz := `"` + strings.Trim(etag, `"`) + `-gz"`

	t.Run("plain", func(t *testing.T) {
		res := get(t, h, "/_ts/t.js", nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || !bytes.Equal(body, js) {
			t.Fatalf("status %d, body %.60s", res.StatusCode, body)
		}
		for k, want := range map[string]string{"ETag": etag, "Cache-Control": "public, max-age=3600",
			"Content-Type": "text/javascript; charset=utf-8", "Vary": "Accept-Encoding", "Content-Encoding": ""} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
	})
	t.Run("gzip", func(t *testing.T) {
		res := get(t, h, "/_ts/t.js", map[string]string{"Accept-Encoding": "br;q=1.0, gzip;q=0.8, deflate"})
		if res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("ETag") != gz {
			t.Fatalf("Content-Encoding %q, ETag %q", res.Header.Get("Content-Encoding"), res.Header.Get("ETag"))
		}
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(zr)
		if !bytes.Equal(body, js) {
			t.Error("gzip body does not decode to the script")
		}
	})
	for _, tc := range []struct {
		name, accept string
		gzip         bool
	}{
		{"gzip refused", "gzip;q=0, identity", false},
		{"star", "*", true},
		{"star but not gzip", "*;q=1, gzip;q=0.0", false},
		{"none", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := get(t, h, "/_ts/t.js", map[string]string{"Accept-Encoding": tc.accept})
			if got := res.Header.Get("Content-Encoding") == "gzip"; got != tc.gzip {
				t.Errorf("gzip = %v, want %v", got, tc.gzip)
			}
		})
	}
	for _, inm := range []string{etag, gz, `W/` + etag, `"other", ` + gz, "*"} {
		t.Run("304 for "+inm, func(t *testing.T) {
			res := get(t, h, "/_ts/t.js", map[string]string{"If-None-Match": inm, "Accept-Encoding": "gzip"})
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Errorf("status %d with %d body bytes, want 304 and none", res.StatusCode, len(body))
			}
			if res.Header.Get("ETag") != gz || res.Header.Get("Cache-Control") == "" {
				t.Errorf("304 headers %v", res.Header)
			}
		})
	}
	t.Run("stale ETag", func(t *testing.T) {
		if res := get(t, h, "/_ts/t.js", map[string]string{"If-None-Match": `"old"`}); res.StatusCode != 200 {
			t.Errorf("status %d, want 200", res.StatusCode)
		}
	})
	t.Run("x.js at its version is immutable", func(t *testing.T) {
		_, xtag := Extension(realistic)
		res := get(t, h, "/_ts/x.js?v="+version(xtag), nil)
		if res.StatusCode != 200 || res.Header.Get("Cache-Control") != immutable {
			t.Errorf("status %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
		}
		res = get(t, h, "/_ts/x.js?v=0000", nil)
		if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("old version: status %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
		}
	})
	for target, want := range map[string]int{"/_ts/tcf.js": 200, "/_ts/h.js": 200, "/_ts/other.js": 404, "/_ts/t.js?site=nope": 404} {
		t.Run(target, func(t *testing.T) {
			if res := get(t, h, target, nil); res.StatusCode != want {
				t.Errorf("status %d, want %d", res.StatusCode, want)
			}
		})
	}
	t.Run("no pixels, no x.js", func(t *testing.T) {
		if res := get(t, NewHandler(ScriptConfig{Site: "a"}), "/_ts/x.js", nil); res.StatusCode != 404 {
			t.Errorf("status %d, want 404", res.StatusCode)
		}
	})
}

func TestHandlerSites(t *testing.T) {
	a, b := ScriptConfig{Site: "a", Autocapture: allOn}, ScriptConfig{Site: "b", ConsentMode: "optIn"}
	h := NewHandler(a, b)
	if res := get(t, h, "/_ts/t.js", nil); res.StatusCode != 404 {
		t.Errorf("two sites, no site named: status %d, want 404", res.StatusCode)
	}
	res := get(t, h, "/_ts/t.js?site=b", nil)
	if body, _ := io.ReadAll(res.Body); settingsOf(t, body)["s"] != "b" {
		t.Errorf("?site=b served %s", body)
	}
	w := httptest.NewRecorder()
	h.ServeSite(w, httptest.NewRequest(http.MethodGet, "/_ts/t.js", nil), "a")
	if settingsOf(t, w.Body.Bytes())["s"] != "a" {
		t.Error("ServeSite(a) served another site")
	}

	h.Update(ScriptConfig{Site: "c"})
	if res := get(t, h, "/_ts/t.js", nil); res.StatusCode != 200 || res.Header.Get("ETag") != must2(Script(ScriptConfig{Site: "c"})) {
		t.Errorf("after Update: status %d, ETag %s", res.StatusCode, res.Header.Get("ETag"))
	}
}

func must2(_ []byte, etag string) string { return etag }

func BenchmarkHandler(b *testing.B) {
	h := NewHandler(realistic)
	r := httptest.NewRequest(http.MethodGet, "/_ts/t.js", nil)
	r.Header.Set("Accept-Encoding", "gzip, deflate, br")
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
}
