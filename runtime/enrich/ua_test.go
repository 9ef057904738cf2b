package enrich

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

const (
	uaChromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	uaIPhone        = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	uaIPad          = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
	uaAndroid       = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
	uaFirefoxMac    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0"
	uaGooglebot     = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	uaAhrefs        = "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"
	uaHeadless      = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36"
	uaCurl          = "curl/8.5.0"
	uaPythonReq     = "python-requests/2.32.3"
)

func TestUAParserParse(t *testing.T) {
	p := NewUAParser(16)
	tests := []struct {
		ua      string
		browser string
		os      string
		typ     string
		bot     bool
	}{
		{ua: uaChromeWindows, browser: "Chrome", os: "Windows", typ: DeviceDesktop},
		{ua: uaIPhone, browser: "Safari", os: "iOS", typ: DeviceMobile},
		{ua: uaIPad, browser: "Safari", os: "iOS", typ: DeviceTablet},
		{ua: uaAndroid, browser: "Chrome", os: "Android", typ: DeviceMobile},
		{ua: uaFirefoxMac, browser: "Firefox", os: "macOS", typ: DeviceDesktop},
		{ua: uaGooglebot, typ: DeviceBot, bot: true},
		{ua: uaAhrefs, typ: DeviceBot, bot: true},
		{ua: uaHeadless, typ: DeviceBot, bot: true},
		{ua: uaCurl, typ: DeviceBot, bot: true},
		{ua: uaPythonReq, typ: DeviceBot, bot: true},
		{ua: "", typ: DeviceBot, bot: true},
		{ua: "   ", typ: DeviceBot, bot: true},
	}
	for _, tt := range tests {
		name := tt.ua
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			// Twice: the second answer comes from the cache and must match.
			for i := range 2 {
				got := p.Parse(tt.ua)
				if got.Bot != tt.bot || got.Device.Type != tt.typ {
					t.Fatalf("pass %d: Parse() = %+v, want bot=%v type=%s", i, got, tt.bot, tt.typ)
				}
				if tt.browser != "" && got.Device.Browser != tt.browser {
					t.Errorf("browser = %q, want %q", got.Device.Browser, tt.browser)
				}
				if tt.os != "" && got.Device.OS != tt.os {
					t.Errorf("os = %q, want %q", got.Device.OS, tt.os)
				}
			}
		})
	}
}

// fixtureLines returns the non-comment lines of a testdata file.
func fixtureLines(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestRealBrowsersAreNotBots(t *testing.T) {
	p := NewUAParser(0)
	for _, line := range fixtureLines(t, "browsers.txt") {
		typ, ua, _ := strings.Cut(line, "\t")
		t.Run(ua, func(t *testing.T) {
			got := p.Parse(ua)
			if got.Bot || got.Device.Type != typ || got.Device.Browser == "" {
				t.Fatalf("Parse() = %+v, want a %s browser", got, typ)
			}
		})
	}
}

func TestBotsAreBots(t *testing.T) {
	p := NewUAParser(0)
	for _, ua := range fixtureLines(t, "bots.txt") {
		t.Run(ua, func(t *testing.T) {
			if got := p.Parse(ua); !got.Bot || got.Device.Type != DeviceBot {
				t.Fatalf("Parse() = %+v, want a bot", got)
			}
		})
	}
}

func TestUAParserCacheIsBounded(t *testing.T) {
	p := NewUAParser(4)
	for i := range 100 {
		p.Parse(uaChromeWindows + strings.Repeat("x", i))
	}
	if n := p.cache.Len(); n > 4 {
		t.Fatalf("cache holds %d entries, want at most 4", n)
	}
	// A user agent over the cacheable length is parsed but not kept.
	long := uaChromeWindows + strings.Repeat("y", maxCachedUA)
	if got := p.Parse(long); got.Device.Browser != "Chrome" {
		t.Fatalf("long UA parsed as %+v", got)
	}
	if p.cache.Contains(long) {
		t.Fatal("over-long UA was cached")
	}
}

func BenchmarkUAParse(b *testing.B) {
	uas := []string{uaChromeWindows, uaIPhone, uaIPad, uaAndroid, uaFirefoxMac, uaGooglebot}
	b.Run("cached", func(b *testing.B) {
		p := NewUAParser(0)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			p.Parse(uas[i%len(uas)])
		}
	})
	b.Run("uncached", func(b *testing.B) {
		p := NewUAParser(0)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			p.parse(uas[i%len(uas)])
		}
	})
}

func FuzzUAParse(f *testing.F) {
	for _, s := range []string{uaChromeWindows, uaIPhone, uaGooglebot, "", "Mozilla/5.0 (", "\xff\xfe"} {
		f.Add(s)
	}
	p := NewUAParser(64)
	f.Fuzz(func(t *testing.T, ua string) {
		got := p.Parse(ua)
		switch got.Device.Type {
		case DeviceDesktop, DeviceMobile, DeviceTablet, DeviceBot, DeviceOther:
		default:
			t.Fatalf("device type %q", got.Device.Type)
		}
		if got.Bot != (got.Device.Type == DeviceBot) {
			t.Fatalf("bot %v but type %q", got.Bot, got.Device.Type)
		}
	})
}
