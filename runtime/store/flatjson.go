package store

import "github.com/trackstack/trackstack/runtime/event"

// Every event a forwarder sends is read with its click ids and user data,
// stored as JSON objects of short ASCII strings (ids, SHA-256 digests).
// encoding/json validates and then decodes each through reflection, which
// took a tenth of a forwarder's CPU. The functions below read exactly that
// shape and nothing else: anything they do not recognise (escapes,
// non-ASCII, other value types, unknown keys, null) makes them report
// false, and the caller decodes with encoding/json as before.

// decodeClickIDs reads a flat object of strings into a new map.
func decodeClickIDs(data []byte) (map[string]string, bool) {
	out := map[string]string{}
	ok := scanFlatObject(data, func(k, v []byte) bool {
		out[string(k)] = string(v)
		return true
	})
	return out, ok
}

// decodeUser reads user data whose keys are User's JSON names.
func decodeUser(data []byte) (event.User, bool) {
	var u event.User
	ok := scanFlatObject(data, func(k, v []byte) bool {
		f := userField(&u, string(k))
		if f == nil {
			return false
		}
		*f = string(v)
		return true
	})
	return u, ok
}

// userField returns the field of u stored under key, nil when none is.
func userField(u *event.User, key string) *string {
	switch key {
	case "em":
		return &u.EmailSHA256
	case "ph":
		return &u.PhoneSHA256
	case "fn":
		return &u.FirstNameSHA256
	case "ln":
		return &u.LastNameSHA256
	case "ct":
		return &u.CitySHA256
	case "zp":
		return &u.ZipSHA256
	case "country":
		return &u.CountrySHA256
	case "em_google":
		return &u.EmailGoogleSHA256
	case "ph_e164":
		return &u.PhoneE164SHA256
	}
	return nil
}

// scanFlatObject calls set for each member of a JSON object whose keys
// and values are strings of printable ASCII without escapes. It reports
// false, possibly after some calls, when data is anything else or set
// returns false.
func scanFlatObject(data []byte, set func(k, v []byte) bool) bool {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return skipSpace(data, i+1) == len(data)
	}
	for {
		k, next, ok := plainString(data, i)
		if !ok {
			return false
		}
		i = skipSpace(data, next)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		v, next, ok := plainString(data, skipSpace(data, i+1))
		if !ok || !set(k, v) {
			return false
		}
		i = skipSpace(data, next)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return skipSpace(data, i+1) == len(data)
		default:
			return false
		}
	}
}

// plainString reads the string starting at data[i] (its opening quote)
// and returns its contents and the index after its closing quote; ok is
// false unless every byte in between is printable ASCII other than a
// backslash.
func plainString(data []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return data[i+1 : j], j + 1, true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return nil, 0, false
		}
	}
	return nil, 0, false
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}
