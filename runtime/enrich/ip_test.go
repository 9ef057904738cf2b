package enrich

import (
	"net/netip"
	"testing"
)

func TestAnonymizeIP(t *testing.T) {
	tests := []struct {
		ip, mode, want string
	}{
		{"203.0.113.77", AnonymizeNone, "203.0.113.77"},
		{"203.0.113.77", AnonymizeTruncate, "203.0.113.0"},
		{"203.0.113.77", AnonymizeFull, ""},
		{"203.0.113.77", "", "203.0.113.0"},
		{"203.0.113.77", "bogus", "203.0.113.0"},
		{"::ffff:203.0.113.77", AnonymizeTruncate, "203.0.113.0"},
		{"::ffff:203.0.113.77", AnonymizeNone, "203.0.113.77"},
		{"2001:db8:1234:5678:9abc::1", AnonymizeTruncate, "2001:db8:1234::"},
		{"2001:db8:1234:5678:9abc::1", AnonymizeNone, "2001:db8:1234:5678:9abc::1"},
		{"fe80::1%eth0", AnonymizeNone, "fe80::1"},
		{"2001:db8::1", AnonymizeFull, ""},
	}
	for _, tt := range tests {
		t.Run(tt.ip+"/"+tt.mode, func(t *testing.T) {
			if got := AnonymizeIP(netip.MustParseAddr(tt.ip), tt.mode); got != tt.want {
				t.Fatalf("AnonymizeIP(%s, %q) = %q, want %q", tt.ip, tt.mode, got, tt.want)
			}
		})
	}
	if got := AnonymizeIP(netip.Addr{}, AnonymizeNone); got != "" {
		t.Fatalf("invalid address gave %q", got)
	}
}
