package enrich

import (
	"testing"

	"github.com/trackstack/trackstack/runtime/event"
)

func TestClassify(t *testing.T) {
	site := []string{"shop.example.com", "www.example.org"}
	tests := []struct {
		name      string
		touch     Touch
		want      string
		signalled bool
	}{
		{name: "nothing is direct", want: event.ChannelDirect},
		{name: "gclid", touch: Touch{ClickIDs: map[string]string{"gclid": "abc"}}, want: event.ChannelPaidSearch, signalled: true},
		{name: "gbraid", touch: Touch{ClickIDs: map[string]string{"gbraid": "x"}}, want: event.ChannelPaidSearch, signalled: true},
		{name: "wbraid", touch: Touch{ClickIDs: map[string]string{"wbraid": "x"}}, want: event.ChannelPaidSearch, signalled: true},
		{name: "msclkid", touch: Touch{ClickIDs: map[string]string{"msclkid": "x"}}, want: event.ChannelPaidSearch, signalled: true},
		{name: "fbclid", touch: Touch{ClickIDs: map[string]string{"fbclid": "x"}, Referrer: "https://www.google.com/"}, want: event.ChannelPaidSocial, signalled: true},
		{name: "ttclid", touch: Touch{ClickIDs: map[string]string{"ttclid": "x"}}, want: event.ChannelPaidSocial, signalled: true},
		{name: "li_fat_id", touch: Touch{ClickIDs: map[string]string{"li_fat_id": "x"}}, want: event.ChannelPaidSocial, signalled: true},
		{name: "twclid", touch: Touch{ClickIDs: map[string]string{"twclid": "x"}}, want: event.ChannelPaidSocial, signalled: true},
		{name: "epik", touch: Touch{ClickIDs: map[string]string{"epik": "x"}}, want: event.ChannelPaidSocial, signalled: true},
		{name: "empty click id ignored", touch: Touch{ClickIDs: map[string]string{"gclid": ""}}, want: event.ChannelDirect},
		{name: "search click id wins over social", touch: Touch{ClickIDs: map[string]string{"fbclid": "a", "gclid": "b"}}, want: event.ChannelPaidSearch, signalled: true},
		{name: "cpc google", touch: Touch{UTM: event.UTM{Source: "google", Medium: "cpc"}}, want: event.ChannelPaidSearch, signalled: true},
		{name: "ppc bing", touch: Touch{UTM: event.UTM{Source: "bing", Medium: "PPC"}}, want: event.ChannelPaidSearch, signalled: true},
		{name: "paid_search", touch: Touch{UTM: event.UTM{Source: "duckduckgo", Medium: "paid_search"}}, want: event.ChannelPaidSearch, signalled: true},
		{name: "cpc facebook", touch: Touch{UTM: event.UTM{Source: "facebook", Medium: "cpc"}}, want: event.ChannelPaidSocial, signalled: true},
		{name: "cpc ig story", touch: Touch{UTM: event.UTM{Source: "ig-story", Medium: "cpc"}}, want: event.ChannelPaidSocial, signalled: true},
		{name: "paid_social", touch: Touch{UTM: event.UTM{Source: "tiktok", Medium: "paid_social"}}, want: event.ChannelPaidSocial, signalled: true},
		{name: "utm email", touch: Touch{UTM: event.UTM{Source: "newsletter", Medium: "email"}}, want: event.ChannelEmail, signalled: true},
		{name: "utm source mailchimp", touch: Touch{UTM: event.UTM{Source: "mailchimp"}}, want: event.ChannelEmail, signalled: true},
		{name: "utm social", touch: Touch{UTM: event.UTM{Source: "linkedin", Medium: "social"}}, want: event.ChannelOrganicSocial, signalled: true},
		{name: "utm organic google", touch: Touch{UTM: event.UTM{Source: "google", Medium: "organic"}}, want: event.ChannelOrganicSearch, signalled: true},
		{name: "utm source only search", touch: Touch{UTM: event.UTM{Source: "google.com"}}, want: event.ChannelOrganicSearch, signalled: true},
		{name: "utm source only social", touch: Touch{UTM: event.UTM{Source: "facebook"}}, want: event.ChannelOrganicSocial, signalled: true},
		{name: "utm referral", touch: Touch{UTM: event.UTM{Source: "partner", Medium: "referral"}}, want: event.ChannelReferral, signalled: true},
		{name: "unknown utm with search referrer", touch: Touch{UTM: event.UTM{Source: "x1", Medium: "display"}, Referrer: "https://www.google.de/"}, want: event.ChannelOrganicSearch, signalled: true},
		{name: "unknown utm no referrer", touch: Touch{UTM: event.UTM{Campaign: "spring"}}, want: event.ChannelReferral, signalled: true},
		{name: "google referrer", touch: Touch{Referrer: "https://www.google.com/"}, want: event.ChannelOrganicSearch, signalled: true},
		{name: "google country domain", touch: Touch{Referrer: "https://www.google.co.uk/search?q=x"}, want: event.ChannelOrganicSearch, signalled: true},
		{name: "bing", touch: Touch{Referrer: "https://www.bing.com/search?q=shoes"}, want: event.ChannelOrganicSearch, signalled: true},
		{name: "duckduckgo", touch: Touch{Referrer: "https://duckduckgo.com/"}, want: event.ChannelOrganicSearch, signalled: true},
		{name: "yandex ru", touch: Touch{Referrer: "https://yandex.ru/search/?text=x"}, want: event.ChannelOrganicSearch, signalled: true},
		{name: "facebook mobile", touch: Touch{Referrer: "https://m.facebook.com/"}, want: event.ChannelOrganicSocial, signalled: true},
		{name: "facebook link shim", touch: Touch{Referrer: "https://l.facebook.com/l.php?u=x"}, want: event.ChannelOrganicSocial, signalled: true},
		{name: "t.co", touch: Touch{Referrer: "https://t.co/abc"}, want: event.ChannelOrganicSocial, signalled: true},
		{name: "linkedin", touch: Touch{Referrer: "https://www.linkedin.com/feed/"}, want: event.ChannelOrganicSocial, signalled: true},
		{name: "pinterest country", touch: Touch{Referrer: "https://www.pinterest.de/"}, want: event.ChannelOrganicSocial, signalled: true},
		{name: "gmail webmail", touch: Touch{Referrer: "https://mail.google.com/mail/u/0/"}, want: event.ChannelEmail, signalled: true},
		{name: "outlook webmail", touch: Touch{Referrer: "https://outlook.live.com/mail/0/"}, want: event.ChannelEmail, signalled: true},
		{name: "other site is referral", touch: Touch{Referrer: "https://blog.example.net/post"}, want: event.ChannelReferral, signalled: true},
		{name: "own site is internal", touch: Touch{Referrer: "https://shop.example.com/cart", SiteDomains: site}, want: event.ChannelDirect},
		{name: "own subdomain is internal", touch: Touch{Referrer: "https://m.shop.example.com/", SiteDomains: site}, want: event.ChannelDirect},
		{name: "www domain config matches apex", touch: Touch{Referrer: "https://example.org/", SiteDomains: site}, want: event.ChannelDirect},
		{name: "lookalike is not own", touch: Touch{Referrer: "https://evilshop.example.com.attacker.net/", SiteDomains: site}, want: event.ChannelReferral, signalled: true},
		{name: "referrer without scheme", touch: Touch{Referrer: "google.com"}, want: event.ChannelDirect},
		{name: "gmail app referrer", touch: Touch{Referrer: "android-app://com.google.android.gm/"}, want: event.ChannelEmail, signalled: true},
		{name: "google app referrer", touch: Touch{Referrer: "android-app://com.google.android.googlequicksearchbox"}, want: event.ChannelOrganicSearch, signalled: true},
		{name: "unknown app referrer", touch: Touch{Referrer: "android-app://com.example.reader/"}, want: event.ChannelReferral, signalled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, signalled := Classify(tt.touch)
			if got != tt.want || signalled != tt.signalled {
				t.Fatalf("Classify() = %q, %v; want %q, %v", got, signalled, tt.want, tt.signalled)
			}
		})
	}
}

func TestHost(t *testing.T) {
	tests := map[string]string{
		"https://www.Google.com/search?q=1": "google.com",
		"http://user:pw@Example.org:8080/x": "example.org",
		"https://[2001:db8::1]:443/":        "2001:db8::1",
		"//cdn.example.com/a":               "cdn.example.com",
		"https://example.com.":              "example.com",
		"https://example.com#frag":          "example.com",
		"https://example.com?q":             "example.com",
		"example.com/path":                  "",
		"":                                  "",
		"https://[broken":                   "",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got := Host(in); got != want {
				t.Fatalf("Host(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestHostMatches(t *testing.T) {
	tests := []struct {
		host, domain string
		want         bool
	}{
		{"example.com", "example.com", true},
		{"a.example.com", "example.com", true},
		{"A.Example.COM", "example.com", true},
		{"badexample.com", "example.com", false},
		{"example.com", "a.example.com", false},
		{"example.com.evil.net", "example.com", false},
		{"", "example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.host+"/"+tt.domain, func(t *testing.T) {
			if got := HostMatches(tt.host, tt.domain); got != tt.want {
				t.Fatalf("HostMatches(%q, %q) = %v", tt.host, tt.domain, got)
			}
		})
	}
}

func BenchmarkClassify(b *testing.B) {
	touches := []Touch{
		{Referrer: "https://www.google.co.uk/search?q=x", SiteDomains: []string{"shop.example.com"}},
		{UTM: event.UTM{Source: "facebook", Medium: "cpc"}},
		{Referrer: "https://shop.example.com/cart", SiteDomains: []string{"shop.example.com"}},
		{Referrer: "https://blog.example.net/post", SiteDomains: []string{"shop.example.com"}},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Classify(touches[i%len(touches)])
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"https://www.google.com/", "https://[::1]:80/", "//x", "a://b@c:d/e", "https://Mail.Google.com/"} {
		f.Add(s, "cpc", "facebook")
	}
	valid := map[string]bool{
		event.ChannelPaidSearch: true, event.ChannelPaidSocial: true, event.ChannelOrganicSearch: true,
		event.ChannelOrganicSocial: true, event.ChannelEmail: true, event.ChannelReferral: true, event.ChannelDirect: true,
	}
	f.Fuzz(func(t *testing.T, ref, medium, source string) {
		ch, signalled := Classify(Touch{Referrer: ref, UTM: event.UTM{Medium: medium, Source: source}, SiteDomains: []string{"example.com"}})
		if !valid[ch] {
			t.Fatalf("channel %q", ch)
		}
		if !signalled && ch != event.ChannelDirect {
			t.Fatalf("unsignalled channel %q", ch)
		}
	})
}
