package enrich

import (
	"net/netip"
)

// IP anonymization modes (config.Privacy.IPAnonymization).
const (
	// AnonymizeNone stores the address as received.
	AnonymizeNone = "none"
	// AnonymizeTruncate zeroes the host part: the last octet of an IPv4
	// address, everything after the /48 of an IPv6 address. Coarse
	// geolocation still works; the household does not stand out.
	AnonymizeTruncate = "truncate"
	// AnonymizeFull stores no address at all.
	AnonymizeFull = "full"
)

// AnonymizeIP returns the address to store under mode. An unknown or empty
// mode is treated as truncate: when in doubt, store less. An invalid address
// yields "".
func AnonymizeIP(a netip.Addr, mode string) string {
	if !a.IsValid() {
		return ""
	}
	a = a.Unmap()
	switch mode {
	case AnonymizeNone:
		return a.WithZone("").String()
	case AnonymizeFull:
		return ""
	}
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.Addr().String()
}
