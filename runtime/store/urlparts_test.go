package store

import "testing"

func TestURLParts(t *testing.T) {
	tests := []struct{ url, path, host string }{
		{"", "", ""},
		{"https://shop.example.com", "/", "shop.example.com"},
		{"https://shop.example.com?x=1", "/", "shop.example.com"},
		{"https://shop.example.com#top", "/", "shop.example.com"},
		{"https://shop.example.com/a/b?q=1#f", "/a/b", "shop.example.com"},
		{"HTTP://Shop.Example.com:8080/A/", "/A/", "Shop.Example.com:8080"},
		{"android-app://com.slack/", "/", "com.slack"},
		{"/rel/x?y=1", "/rel/x", ""},
		{"checkout#done", "checkout", ""},
		{"?only=query", "/", ""},
		{"mailto:a@example.com", "mailto:a@example.com", ""},
		{"https://", "/", ""},
		{"1http://x/y", "1http://x/y", ""}, // a scheme starts with a letter
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := URLPath(tt.url); got != tt.path {
				t.Errorf("URLPath(%q) = %q, want %q", tt.url, got, tt.path)
			}
			if got := URLHost(tt.url); got != tt.host {
				t.Errorf("URLHost(%q) = %q, want %q", tt.url, got, tt.host)
			}
		})
	}
}
