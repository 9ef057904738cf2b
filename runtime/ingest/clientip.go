package ingest

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientIP returns the address of the client: RemoteAddr, or, when
// RemoteAddr is a trusted proxy, the right-most X-Forwarded-For entry that
// is not itself a trusted proxy. Entries left of that are client-supplied
// and could be forged, so they are never used.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	remote := parseHostAddr(r.RemoteAddr)
	if !remote.IsValid() || !isTrusted(remote, trusted) {
		return remote
	}
	xff := r.Header.Values("X-Forwarded-For")
	// Walk every header line and every comma-separated entry from the right.
	for i := len(xff) - 1; i >= 0; i-- {
		line := xff[i]
		for line != "" {
			entry := line
			if j := strings.LastIndexByte(line, ','); j >= 0 {
				entry, line = line[j+1:], line[:j]
			} else {
				line = ""
			}
			a := parseHostAddr(strings.TrimSpace(entry))
			if !a.IsValid() {
				// Garbage in the chain: stop trusting it beyond this point.
				return remote
			}
			if !isTrusted(a, trusted) {
				return a
			}
			remote = a
		}
	}
	return remote
}

// parseHostAddr parses "ip", "ip:port" or "[ipv6]:port".
func parseHostAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIPFunc returns the client address function of a server behind the
// trusted proxies, as the collector uses it (for other servers of the
// runtime that count failures per client, such as the dashboard's sign-in).
func ClientIPFunc(trusted []netip.Prefix) func(*http.Request) netip.Addr {
	return func(r *http.Request) netip.Addr { return clientIP(r, trusted) }
}
