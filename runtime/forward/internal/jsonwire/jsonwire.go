// Package jsonwire appends JSON field by field for the adapters whose
// request bodies are hot (up to 1,000 events a request): the bytes
// encoding/json writes, without reflection. Anything encoding/json would
// escape is left to encoding/json itself, so the escaping stays its own;
// each adapter proves its whole body equal to json.Marshal's in tests.
package jsonwire

import (
	"encoding/json"
	"math"
	"strconv"
)

// AppendKey appends "name": for a name that needs no escaping.
func AppendKey(b []byte, name string) []byte {
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// CloseObject ends an object whose fields each end with a comma.
func CloseObject(b []byte) []byte {
	if b[len(b)-1] == ',' {
		b[len(b)-1] = '}'
		return b
	}
	return append(b, '}')
}

// AppendString appends s quoted. Printable ASCII other than the
// characters encoding/json escapes ("\<>&) is copied; any other string
// is left to encoding/json, so the escaping is its own.
func AppendString(b []byte, s string) []byte {
	for i := range len(s) {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			quoted, _ := json.Marshal(s) // a string always encodes
			return append(b, quoted...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// AppendFloat writes a finite float64 as encoding/json does: the
// shortest decimal, in exponent form below 1e-6 and from 1e21, with a
// two-digit negative exponent shortened (1e-07 → 1e-7).
func AppendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
