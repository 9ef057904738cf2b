// Package tracker holds the browser tracker script and serves it.
//
// The readable JavaScript lives in src/; hack/build-tracker.sh (run by `make
// generate`) minifies it with esbuild, pinned in go.mod, into dist/, which is
// committed and embedded here. Four files are served beside the browser
// endpoint, under the site's tracker.path (docs/tracker-protocol.md):
//
//   - t.js, the tracker, with the site's settings injected in place of a
//     placeholder (Script);
//   - x.js, the site's browser pixel bridges, which t.js loads only for sites
//     that configure pixels (Extension);
//   - tcf.js, which t.js loads only on pages with an IAB TCF v2 consent
//     platform;
//   - h.js, which hashes email and phone values in the browser, loaded only
//     when an event first carries one (identify, marked form fields).
//
// Handler serves them with ETags, conditional requests and gzip.
package tracker

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

//go:embed dist
var dist embed.FS

// Placeholders the build leaves in the minified files (hack/build-tracker.sh
// checks that each survives exactly once).
const (
	configPlaceholder  = `"__TS_CFG__"`
	bridgesPlaceholder = `"__TS_BRIDGES__"`
)

// ScriptConfig is what t.js and x.js need to know about a site.
type ScriptConfig struct {
	// Site is the site name sent with every batch. Empty: the script tag's
	// data-site attribute.
	Site string
	// ConsentMode is none, optIn or optOut (v1alpha1.ConsentMode*); anything
	// else is none.
	ConsentMode string
	// Cookieless keeps the session's attribution in memory instead of
	// sessionStorage.
	Cookieless bool
	// Autocapture says what the script records by itself.
	Autocapture config.Autocapture
	// Pixels are the browser pixels fired with each event's event_id.
	Pixels v1alpha1.PixelsSpec
}

// ConfigFor returns the script configuration of a site's runtime configuration.
func ConfigFor(rt *config.Runtime) ScriptConfig {
	return ScriptConfig{
		Site:        rt.Site.Name,
		ConsentMode: rt.Tracker.ConsentMode,
		Cookieless:  rt.Tracker.Cookieless,
		Autocapture: rt.Tracker.Autocapture,
		Pixels:      rt.Tracker.Pixels,
	}
}

// scriptSettings is the JSON t.js reads (src/tracker.js). Keys are one
// letter because they ship to every visitor.
type scriptSettings struct {
	Site        string `json:"s,omitempty"`
	ConsentMode int    `json:"m,omitempty"` // 1 optIn, 2 optOut
	Autocapture int    `json:"a"`           // bits: 1 clicks, 2 forms, 4 outbound links, 8 SPA
	Cookieless  int    `json:"n,omitempty"` // 1 when cookieless
	Extension   string `json:"x,omitempty"` // version of x.js, set when pixels are configured
}

// Script returns t.js for cfg and its ETag. It is a pure function of cfg;
// Handler computes it once per configuration.
func Script(cfg ScriptConfig) (js []byte, etag string) {
	s := scriptSettings{Site: cfg.Site}
	switch cfg.ConsentMode {
	case v1alpha1.ConsentModeOptIn:
		s.ConsentMode = 1
	case v1alpha1.ConsentModeOptOut:
		s.ConsentMode = 2
	}
	for bit, on := range []bool{cfg.Autocapture.Clicks, cfg.Autocapture.Forms, cfg.Autocapture.OutboundLinks, cfg.Autocapture.SPA} {
		if on {
			s.Autocapture |= 1 << bit
		}
	}
	if cfg.Cookieless {
		s.Cookieless = 1
	}
	if x, xtag := Extension(cfg); x != nil {
		s.Extension = version(xtag)
	}
	js = inject(asset("t.js"), configPlaceholder, marshal(s))
	return js, etagOf(js)
}

// Extension returns x.js for cfg, the bridges of its browser pixels, and its
// ETag; nil when cfg configures no pixel.
func Extension(cfg ScriptConfig) (js []byte, etag string) {
	p := cfg.Pixels
	var bridges []string
	add := func(name string, settings any) {
		bridges = append(bridges, "("+bridge(name)+")("+string(marshal(settings))+")")
	}
	if p.Meta != nil {
		add("meta", map[string]string{"id": p.Meta.PixelID})
	}
	if p.GA4 != nil || p.GoogleAds != nil {
		g := map[string]string{}
		if p.GA4 != nil {
			g["ga"] = p.GA4.MeasurementID
		}
		if p.GoogleAds != nil {
			g["aw"] = p.GoogleAds.ConversionID
			if p.GoogleAds.ConversionLabel != "" {
				g["al"] = p.GoogleAds.ConversionLabel
			}
		}
		add("google", g)
	}
	if p.Pinterest != nil {
		add("pinterest", map[string]string{"id": p.Pinterest.TagID})
	}
	if p.TikTok != nil {
		add("tiktok", map[string]string{"id": p.TikTok.PixelCode})
	}
	if len(bridges) == 0 {
		return nil, ""
	}
	js = inject(asset("x.js"), bridgesPlaceholder, []byte("["+strings.Join(bridges, ",")+"]"))
	return js, etagOf(js)
}

// TCF returns tcf.js and its ETag.
func TCF() (js []byte, etag string) {
	js = asset("tcf.js")
	return js, etagOf(js)
}

// Hasher returns h.js and its ETag.
func Hasher() (js []byte, etag string) {
	js = asset("h.js")
	return js, etagOf(js)
}

// bridge returns the factory function of a pixel bridge. The build leaves
// each as the statement `x=<factory>;`, which keeps esbuild from dropping an
// unused expression.
func bridge(name string) string {
	s := strings.TrimSpace(string(asset("pixels/" + name + ".js")))
	f, ok := strings.CutPrefix(s, "x=")
	if !ok || !strings.HasSuffix(f, ";") {
		panic(fmt.Sprintf("tracker: dist/pixels/%s.js is not `x=<factory>;`; run make generate", name))
	}
	return strings.TrimSuffix(f, ";")
}

// asset returns an embedded file. A missing file is a broken build, caught
// by this package's tests.
func asset(name string) []byte {
	b, err := dist.ReadFile("dist/" + name)
	if err != nil {
		panic(fmt.Sprintf("tracker: %v; run make generate", err))
	}
	return b
}

func inject(js []byte, placeholder string, value []byte) []byte {
	s := string(js)
	if strings.Count(s, placeholder) != 1 {
		panic(fmt.Sprintf("tracker: placeholder %s not found once in an embedded script; run make generate", placeholder))
	}
	return []byte(strings.Replace(s, placeholder, string(value), 1))
}

// marshal encodes settings for a script. encoding/json escapes <, > and &
// and U+2028/U+2029, so the result is safe in any JavaScript context.
func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("tracker: encoding script settings: %v", err)) // strings and ints only
	}
	return b
}

// version is the short form of an ETag that t.js puts in x.js's URL.
func version(etag string) string {
	return strings.Trim(etag, `"`)[:8]
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}
