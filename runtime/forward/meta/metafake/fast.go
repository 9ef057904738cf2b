package metafake

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// fastDecode reads the JSON bodies the meta adapter sends, and only those,
// without reflection: the fields it writes, each at most once, strings
// without escapes or non-ASCII bytes, event_time as a JSON integer, and
// custom_data fields the adapter fills, kept as copies of the raw bytes of
// their values. Anything else (another field, a null, an escape, a duplicate
// key, an empty list, malformed JSON) returns ok false and readBody's
// general path decides, so the fake accepts, rejects and records exactly
// what that path does (TestFastDecodeMatchesGeneral and FuzzReadBody
// compare them). The general path scanned every 1,000-event request three
// times and decoded it by reflection: most of the fake's cost.
func fastDecode(raw []byte) (b *body, ok bool) {
	r := reader{data: raw}
	// Every event has an event_name: counting them sizes the list once
	// instead of copying events of up to 1,000 as it grows.
	b = &body{Data: make([]Event, 0, min(bytes.Count(raw, []byte(`"event_name"`)), MaxEvents+1))}
	var seen uint16
	ok = r.object(func(key []byte) bool {
		switch string(key) {
		case "data":
			return once(&seen, 1) && r.array(func() bool {
				b.Data = append(b.Data, Event{})
				return r.event(&b.Data[len(b.Data)-1])
			})
		case "test_event_code":
			return once(&seen, 2) && r.str(&b.TestEventCode)
		case "access_token":
			return once(&seen, 4) && r.str(&b.AccessToken)
		}
		return false
	})
	if !ok || seen&1 == 0 || !r.end() {
		return nil, false
	}
	return b, true
}

func (r *reader) event(e *Event) bool {
	var seen uint16
	return r.object(func(key []byte) bool {
		switch string(key) {
		case "event_name":
			return once(&seen, 1) && r.str(&e.EventName)
		case "event_time":
			e.EventTime = new(int64)
			return once(&seen, 2) && r.integer(e.EventTime)
		case "event_id":
			return once(&seen, 4) && r.str(&e.EventID)
		case "action_source":
			return once(&seen, 8) && r.str(&e.ActionSource)
		case "event_source_url":
			return once(&seen, 16) && r.str(&e.EventSourceURL)
		case "user_data":
			e.UserData = &UserData{}
			return once(&seen, 32) && r.userData(e.UserData)
		case "custom_data":
			e.CustomData = make(CustomData, 4)
			return once(&seen, 64) && r.customData(e.CustomData)
		}
		return false
	})
}

func (r *reader) userData(u *UserData) bool {
	var seen uint16
	return r.object(func(key []byte) bool {
		switch string(key) {
		case "em":
			return once(&seen, 1) && r.hashes(&u.Email)
		case "ph":
			return once(&seen, 2) && r.hashes(&u.Phone)
		case "fn":
			return once(&seen, 4) && r.hashes(&u.FirstName)
		case "ln":
			return once(&seen, 8) && r.hashes(&u.LastName)
		case "ct":
			return once(&seen, 16) && r.hashes(&u.City)
		case "zp":
			return once(&seen, 32) && r.hashes(&u.Zip)
		case "country":
			return once(&seen, 64) && r.hashes(&u.Country)
		case "external_id":
			return once(&seen, 128) && r.hashes(&u.ExternalID)
		case "client_ip_address":
			return once(&seen, 256) && r.str(&u.ClientIPAddress)
		case "client_user_agent":
			return once(&seen, 512) && r.str(&u.ClientUserAgent)
		case "fbc":
			return once(&seen, 1024) && r.str(&u.FBC)
		case "fbp":
			return once(&seen, 2048) && r.str(&u.FBP)
		}
		return false
	})
}

// hashes reads a non-empty array of strings, the form the adapter sends.
func (r *reader) hashes(to *Hashes) bool {
	var h Hashes
	ok := r.array(func() bool {
		var s string
		ok := r.str(&s)
		h = append(h, s)
		return ok
	})
	*to = h
	return ok
}

// customData keeps each field's value as its bytes in the body, as
// json.RawMessage does, after checking it has the form the adapter
// writes.
func (r *reader) customData(cd CustomData) bool {
	return r.object(func(key []byte) bool {
		var read func() bool
		switch string(key) {
		case "value":
			read = r.number
		case "currency", "order_id":
			read = r.plain
		case "content_ids":
			read = func() bool { return r.array(r.plain) }
		case "contents":
			read = func() bool { return r.array(r.content) }
		default:
			return false
		}
		if _, dup := cd[string(key)]; dup {
			return false
		}
		r.skipSpace()
		start := r.pos
		if !read() {
			return false
		}
		cd[intern(key)] = r.keep(r.data[start:r.pos])
		return true
	})
}

// content checks one element of contents.
func (r *reader) content() bool {
	var seen uint16
	return r.object(func(key []byte) bool {
		switch string(key) {
		case "id":
			return once(&seen, 1) && r.plain()
		case "quantity":
			return once(&seen, 2) && r.number()
		case "item_price":
			return once(&seen, 4) && r.number()
		}
		return false
	})
}

// once marks bit in seen and reports whether it was clear: a duplicate
// key goes to the general path.
func once(seen *uint16, bit uint16) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// reader reads JSON, giving up (false) on anything unexpected.
type reader struct {
	data []byte
	pos  int
	// kept holds the raw values handed out, so that the events the fake
	// records do not hold on to the whole body.
	kept []byte
}

// keep returns a copy of raw, from a buffer shared by the request's
// values.
func (r *reader) keep(raw []byte) json.RawMessage {
	if len(r.kept)+len(raw) > cap(r.kept) {
		r.kept = make([]byte, 0, max(4096, len(raw)))
	}
	start := len(r.kept)
	r.kept = append(r.kept, raw...)
	return r.kept[start:len(r.kept):len(r.kept)]
}

func (r *reader) skipSpace() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// take consumes c after white space.
func (r *reader) take(c byte) bool {
	r.skipSpace()
	if r.pos < len(r.data) && r.data[r.pos] == c {
		r.pos++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (r *reader) end() bool {
	r.skipSpace()
	return r.pos == len(r.data)
}

// object reads a non-empty object, handing each key to field, which reads
// the value.
func (r *reader) object(field func(key []byte) bool) bool {
	if !r.take('{') {
		return false
	}
	for {
		key, ok := r.plainString()
		if !ok || !r.take(':') || !field(key) {
			return false
		}
		if r.take('}') {
			return true
		}
		if !r.take(',') {
			return false
		}
	}
}

// array reads a non-empty array, element reading each value.
func (r *reader) array(element func() bool) bool {
	if !r.take('[') {
		return false
	}
	for {
		if !element() {
			return false
		}
		if r.take(']') {
			return true
		}
		if !r.take(',') {
			return false
		}
	}
}

func (r *reader) str(to *string) bool {
	s, ok := r.plainString()
	if ok {
		*to = intern(s)
	}
	return ok
}

// plain checks a string without keeping it.
func (r *reader) plain() bool {
	_, ok := r.plainString()
	return ok
}

// intern spares an allocation for the values most events repeat.
func intern(s []byte) string {
	switch string(s) {
	case "website":
		return "website"
	case "Purchase":
		return "Purchase"
	case "value":
		return "value"
	case "currency":
		return "currency"
	case "order_id":
		return "order_id"
	case "contents":
		return "contents"
	case "content_ids":
		return "content_ids"
	case "EUR":
		return "EUR"
	case "USD":
		return "USD"
	}
	return string(s)
}

// plainString reads a string of printable ASCII without escapes, which
// reads the same in every decoder.
func (r *reader) plainString() ([]byte, bool) {
	if !r.take('"') {
		return nil, false
	}
	start := r.pos
	for ; r.pos < len(r.data); r.pos++ {
		switch c := r.data[r.pos]; {
		case c == '"':
			r.pos++
			return r.data[start : r.pos-1], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// integer reads a JSON integer that fits an int64: -?(0|[1-9][0-9]*).
func (r *reader) integer(to *int64) bool {
	r.skipSpace()
	start := r.pos
	r.skip('-')
	switch {
	case r.skip('0'):
	case r.digits() == 0:
		return false
	}
	n, err := strconv.ParseInt(string(r.data[start:r.pos]), 10, 64)
	if err != nil || !r.delimited() {
		return false
	}
	*to = n
	return true
}

// number checks a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *reader) number() bool {
	r.skipSpace()
	r.skip('-')
	switch {
	case r.skip('0'):
	case r.digits() == 0:
		return false
	}
	if r.skip('.') && r.digits() == 0 {
		return false
	}
	if r.skip('e') || r.skip('E') {
		if !r.skip('+') {
			r.skip('-')
		}
		if r.digits() == 0 {
			return false
		}
	}
	return r.delimited()
}

func (r *reader) skip(c byte) bool {
	if r.pos < len(r.data) && r.data[r.pos] == c {
		r.pos++
		return true
	}
	return false
}

func (r *reader) digits() int {
	start := r.pos
	for r.pos < len(r.data) && '0' <= r.data[r.pos] && r.data[r.pos] <= '9' {
		r.pos++
	}
	return r.pos - start
}

// delimited reports whether a literal ends here, as JSON requires.
func (r *reader) delimited() bool {
	if r.pos == len(r.data) {
		return true
	}
	switch r.data[r.pos] {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}
