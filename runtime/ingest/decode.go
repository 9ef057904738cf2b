package ingest

import (
	"bytes"
	"maps"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/trackstack/trackstack/runtime/event"
)

// Both decoders walk a fastjson tree instead of using encoding/json: no
// reflection, one pooled parse per body, and every type error names its
// exact field path (events[3].value), which encoding/json cannot do for
// array elements.

// fieldError is a body that does not have the shape of the protocol: the
// whole request is answered 400 with this message.
type fieldError struct {
	path string
	msg  string
}

func (e *fieldError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return e.path + ": " + e.msg
}

// path is where a value sits in the body: an event index (-1 for the
// envelope) and up to two field names. It is only formatted when an error
// names it, so walking a valid body builds no strings.
type path struct {
	index  int
	parent string
	field  string
}

func (p path) String() string {
	f := p.field
	if p.parent != "" {
		f = p.parent + "." + f
	}
	if p.index < 0 {
		return f
	}
	s := "events[" + strconv.Itoa(p.index) + "]"
	if f != "" {
		s += "." + f
	}
	return s
}

// sub returns the path of a member. Paths are at most two levels deep
// (events[i].utm.source); deeper members are named by their parent.
func (p path) sub(field string) path {
	switch {
	case p.field == "":
		return path{index: p.index, field: field}
	case p.parent == "":
		return path{index: p.index, parent: p.field, field: field}
	}
	return p
}

func typeName(v *fastjson.Value) string {
	switch v.Type() {
	case fastjson.TypeNull:
		return "null"
	case fastjson.TypeObject:
		return "object"
	case fastjson.TypeArray:
		return "array"
	case fastjson.TypeString:
		return "string"
	case fastjson.TypeNumber:
		return "number"
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return "boolean"
	}
	return "unknown"
}

func typeError(p path, want string, v *fastjson.Value) error {
	return &fieldError{path: p.String(), msg: "expected " + want + ", got " + typeName(v)}
}

// isNull reports whether an optional field is absent in effect.
func isNull(v *fastjson.Value) bool { return v == nil || v.Type() == fastjson.TypeNull }

// stringBytes returns the bytes of a JSON string (nil for null).
func stringBytes(p path, v *fastjson.Value) ([]byte, error) {
	if isNull(v) {
		return nil, nil
	}
	if v.Type() != fastjson.TypeString {
		return nil, typeError(p, "string", v)
	}
	b, _ := v.StringBytes()
	return b, nil
}

// str decodes an optional string field into a clean Go string.
func str(p path, v *fastjson.Value) (string, error) {
	b, err := stringBytes(p, v)
	if err != nil || len(b) == 0 {
		return "", err
	}
	return clean(b), nil
}

// number decodes an optional number field; ok is false for null.
func number(p path, v *fastjson.Value) (f float64, ok bool, err error) {
	if isNull(v) {
		return 0, false, nil
	}
	if v.Type() != fastjson.TypeNumber {
		return 0, false, typeError(p, "number", v)
	}
	f, err = v.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, &fieldError{path: p.String(), msg: "not a finite number"}
	}
	return f, true, nil
}

func object(p path, v *fastjson.Value) (*fastjson.Object, error) {
	if isNull(v) {
		return nil, nil
	}
	if v.Type() != fastjson.TypeObject {
		return nil, typeError(p, "object", v)
	}
	o, _ := v.Object()
	return o, nil
}

// visitStrings calls f for every non-empty member of an optional object of
// strings, stopping at the first member of another type.
func visitStrings(p path, v *fastjson.Value, f func(key []byte, val []byte)) error {
	o, err := object(p, v)
	if o == nil || err != nil {
		return err
	}
	o.Visit(func(key []byte, mv *fastjson.Value) {
		if err != nil {
			return
		}
		switch mv.Type() {
		case fastjson.TypeString:
			if b, _ := mv.StringBytes(); len(b) > 0 {
				f(key, b)
			}
		case fastjson.TypeNull:
		default:
			err = typeError(p.sub(string(key)), "string", mv)
		}
	})
	return err
}

// clean returns b as a string that every store accepts: valid UTF-8 and no
// NUL bytes (PostgreSQL text rejects both, and one bad string would fail a
// whole batch insert).
func clean(b []byte) string {
	if utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 {
		return string(b)
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}

// decoder is the pooled per-request decoding state.
type decoder struct {
	parser fastjson.Parser
	// strs interns strings within one body: the events of a batch repeat
	// their page's URL, referrer, UTM values and cookies, so most of those
	// strings are allocated once per batch instead of once per event.
	strs map[string]string
	// prevClickIDs is the previous event's click id map, shared with the
	// next event when equal (event maps are read-only after decoding).
	prevClickIDs map[string]string
}

const maxInterned = 256

func newDecoder() *decoder { return &decoder{strs: make(map[string]string, 32)} }

// reset prepares the decoder for the next body.
func (d *decoder) reset() {
	clear(d.strs)
	d.prevClickIDs = nil
}

// intern returns b as a clean string, reusing an equal one of this body.
func (d *decoder) intern(b []byte) string {
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	s := clean(b)
	if len(d.strs) < maxInterned && len(s) == len(b) {
		d.strs[s] = s
	}
	return s
}

// istr decodes an optional string field through the intern table.
func (d *decoder) istr(p path, v *fastjson.Value) (string, error) {
	b, err := stringBytes(p, v)
	if err != nil || len(b) == 0 {
		return "", err
	}
	return d.intern(b), nil
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// eventType maps the wire name to the constant without allocating.
func eventType(b []byte) (event.Type, bool) {
	switch string(b) {
	case "pageview":
		return event.TypePageview, true
	case "click":
		return event.TypeClick, true
	case "form_submit":
		return event.TypeFormSubmit, true
	case "conversion":
		return event.TypeConversion, true
	case "custom":
		return event.TypeCustom, true
	case "identify":
		return event.TypeIdentify, true
	}
	return "", false
}

// eventName returns common names as constants, so most events allocate
// nothing for their name.
func eventName(b []byte) string {
	switch string(b) {
	case "pageview":
		return "pageview"
	case "click":
		return "click"
	case "form_submit":
		return "form_submit"
	case "outbound_click":
		return "outbound_click"
	case "purchase":
		return "purchase"
	case "refund":
		return "refund"
	case "lead":
		return "lead"
	case "signup":
		return "signup"
	case "identify":
		return "identify"
	}
	return clean(b)
}

// consentValue keeps only the two Consent Mode values.
func consentValue(b []byte) string {
	switch {
	case bytes.EqualFold(b, []byte(event.Granted)):
		return event.Granted
	case bytes.EqualFold(b, []byte(event.Denied)):
		return event.Denied
	}
	return ""
}

func decodeConsent(p path, v *fastjson.Value, c *event.Consent) error {
	return visitStrings(p, v, func(key, val []byte) {
		switch string(key) {
		case "ad_storage":
			c.AdStorage = consentValue(val)
		case "analytics_storage":
			c.AnalyticsStorage = consentValue(val)
		case "ad_user_data":
			c.AdUserData = consentValue(val)
		case "ad_personalization":
			c.AdPersonalization = consentValue(val)
		}
	})
}

func (d *decoder) decodeUTM(p path, v *fastjson.Value, u *event.UTM) error {
	return visitStrings(p, v, func(key, val []byte) {
		s := truncate(d.intern(val), maxUTMLen)
		switch string(key) {
		case "source":
			u.Source = s
		case "medium":
			u.Medium = s
		case "campaign":
			u.Campaign = s
		case "term":
			u.Term = s
		case "content":
			u.Content = s
		}
	})
}

// clickIDKey returns the canonical key for a known click id parameter.
func clickIDKey(b []byte) string {
	for _, k := range event.ClickIDKeys {
		if string(b) == k {
			return k
		}
	}
	return ""
}

func (d *decoder) decodeClickIDs(p path, v *fastjson.Value) (map[string]string, error) {
	var m map[string]string
	err := visitStrings(p, v, func(key, val []byte) {
		k := clickIDKey(key)
		if k == "" {
			return // unknown parameters are not click ids we attribute
		}
		if m == nil {
			m = make(map[string]string, 2)
		}
		m[k] = truncate(d.intern(val), maxClickIDLen)
	})
	if err != nil || m == nil {
		return nil, err
	}
	if maps.Equal(m, d.prevClickIDs) {
		return d.prevClickIDs, nil
	}
	d.prevClickIDs = m
	return m, nil
}

// appendJSON re-encodes a parsed value as strict JSON: fastjson's own
// MarshalTo writes Go escapes (\x00) for control characters and passes NaN
// through, which a JSON column would refuse.
func appendJSON(dst []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		dst = append(dst, '{')
		first := true
		o.Visit(func(key []byte, mv *fastjson.Value) {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendJSONString(dst, key)
			dst = append(dst, ':')
			dst = appendJSON(dst, mv)
		})
		return append(dst, '}')
	case fastjson.TypeArray:
		a, _ := v.Array()
		dst = append(dst, '[')
		for i, e := range a {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSON(dst, e)
		}
		return append(dst, ']')
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return appendJSONString(dst, b)
	case fastjson.TypeNumber:
		f, err := v.Float64()
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return append(dst, "null"...)
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64)
	case fastjson.TypeTrue:
		return append(dst, "true"...)
	case fastjson.TypeFalse:
		return append(dst, "false"...)
	}
	return append(dst, "null"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes b as a JSON string: invalid UTF-8 becomes U+FFFD
// and NUL is dropped (PostgreSQL jsonb rejects \u0000).
func appendJSONString(dst, b []byte) []byte {
	dst = append(dst, '"')
	for len(b) > 0 {
		c := b[0]
		if c < utf8.RuneSelf {
			b = b[1:]
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c == 0:
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				// <, > and & are escaped so a dashboard can embed the
				// value in HTML without surprises.
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			continue
		}
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\\ufffd"...)
		} else if r == '\u2028' || r == '\u2029' {
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		} else {
			dst = append(dst, b[:size]...)
		}
		b = b[size:]
	}
	return append(dst, '"')
}
