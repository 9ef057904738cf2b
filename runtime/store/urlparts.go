package store

import (
	"regexp"
	"strings"
)

// schemePrefix is an absolute URL's "scheme://". PostgreSQL's analytics
// SQL uses the same pattern, so both stores cut URLs alike.
var schemePrefix = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// URLPath is the page of a URL as reports show it: the path, without
// scheme, host, query or fragment; "/" for a URL with an empty path, and a
// relative URL's part before "?" or "#". An empty URL has no page ("").
// The SQLite store calls it from SQL; PostgreSQL computes the same with a
// regular expression, and the conformance suite checks that they agree.
func URLPath(u string) string {
	if u == "" {
		return ""
	}
	rest := u
	if loc := schemePrefix.FindStringIndex(u); loc != nil {
		rest = u[loc[1]:]
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			rest = rest[i:]
		} else {
			rest = ""
		}
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	if rest == "" {
		return "/"
	}
	return rest
}

// URLHost is the host of an absolute URL as sent (a port stays, case is
// kept), "" for a URL without "scheme://".
func URLHost(u string) string {
	loc := schemePrefix.FindStringIndex(u)
	if loc == nil {
		return ""
	}
	rest := u[loc[1]:]
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}
