package metafake

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/trackstack/trackstack/runtime/forward/internal/jsonscan"
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
	r := reader{Reader: jsonscan.Reader{Data: raw}}
	// Every event has an event_name: counting them sizes the list once
	// instead of copying events of up to 1,000 as it grows.
	b = &body{Data: make([]Event, 0, min(bytes.Count(raw, []byte(`"event_name"`)), MaxEvents+1))}
	var seen uint16
	ok = r.Object(func(key []byte) bool {
		switch string(key) {
		case "data":
			return jsonscan.Once(&seen, 1) && r.Array(func() bool {
				b.Data = append(b.Data, Event{})
				return r.event(&b.Data[len(b.Data)-1])
			})
		case "test_event_code":
			return jsonscan.Once(&seen, 2) && r.str(&b.TestEventCode)
		case "access_token":
			return jsonscan.Once(&seen, 4) && r.str(&b.AccessToken)
		}
		return false
	})
	if !ok || seen&1 == 0 || !r.End() {
		return nil, false
	}
	return b, true
}

func (r *reader) event(e *Event) bool {
	var seen uint16
	return r.Object(func(key []byte) bool {
		switch string(key) {
		case "event_name":
			return jsonscan.Once(&seen, 1) && r.str(&e.EventName)
		case "event_time":
			e.EventTime = new(int64)
			return jsonscan.Once(&seen, 2) && r.integer(e.EventTime)
		case "event_id":
			return jsonscan.Once(&seen, 4) && r.str(&e.EventID)
		case "action_source":
			return jsonscan.Once(&seen, 8) && r.str(&e.ActionSource)
		case "event_source_url":
			return jsonscan.Once(&seen, 16) && r.str(&e.EventSourceURL)
		case "user_data":
			e.UserData = &UserData{}
			return jsonscan.Once(&seen, 32) && r.userData(e.UserData)
		case "custom_data":
			e.CustomData = make(CustomData, 4)
			return jsonscan.Once(&seen, 64) && r.customData(e.CustomData)
		}
		return false
	})
}

func (r *reader) userData(u *UserData) bool {
	var seen uint16
	return r.Object(func(key []byte) bool {
		switch string(key) {
		case "em":
			return jsonscan.Once(&seen, 1) && r.hashes(&u.Email)
		case "ph":
			return jsonscan.Once(&seen, 2) && r.hashes(&u.Phone)
		case "fn":
			return jsonscan.Once(&seen, 4) && r.hashes(&u.FirstName)
		case "ln":
			return jsonscan.Once(&seen, 8) && r.hashes(&u.LastName)
		case "ct":
			return jsonscan.Once(&seen, 16) && r.hashes(&u.City)
		case "zp":
			return jsonscan.Once(&seen, 32) && r.hashes(&u.Zip)
		case "country":
			return jsonscan.Once(&seen, 64) && r.hashes(&u.Country)
		case "external_id":
			return jsonscan.Once(&seen, 128) && r.hashes(&u.ExternalID)
		case "client_ip_address":
			return jsonscan.Once(&seen, 256) && r.str(&u.ClientIPAddress)
		case "client_user_agent":
			return jsonscan.Once(&seen, 512) && r.str(&u.ClientUserAgent)
		case "fbc":
			return jsonscan.Once(&seen, 1024) && r.str(&u.FBC)
		case "fbp":
			return jsonscan.Once(&seen, 2048) && r.str(&u.FBP)
		}
		return false
	})
}

// hashes reads a non-empty array of strings, the form the adapter sends.
func (r *reader) hashes(to *Hashes) bool {
	var h Hashes
	ok := r.Array(func() bool {
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
	return r.Object(func(key []byte) bool {
		var read func() bool
		switch string(key) {
		case "value":
			read = r.number
		case "currency", "order_id":
			read = r.plain
		case "content_ids":
			read = func() bool { return r.Array(r.plain) }
		case "contents":
			read = func() bool { return r.Array(r.content) }
		default:
			return false
		}
		if _, dup := cd[string(key)]; dup {
			return false
		}
		r.SkipSpace()
		start := r.Pos
		if !read() {
			return false
		}
		cd[intern(key)] = r.keep(r.Data[start:r.Pos])
		return true
	})
}

// content checks one element of contents.
func (r *reader) content() bool {
	var seen uint16
	return r.Object(func(key []byte) bool {
		switch string(key) {
		case "id":
			return jsonscan.Once(&seen, 1) && r.plain()
		case "quantity":
			return jsonscan.Once(&seen, 2) && r.number()
		case "item_price":
			return jsonscan.Once(&seen, 4) && r.number()
		}
		return false
	})
}

// reader reads JSON, giving up (false) on anything unexpected.
type reader struct {
	jsonscan.Reader
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

func (r *reader) str(to *string) bool {
	s, ok := r.PlainString()
	if ok {
		*to = intern(s)
	}
	return ok
}

// plain checks a string without keeping it.
func (r *reader) plain() bool {
	_, ok := r.PlainString()
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

// integer reads a JSON integer that fits an int64.
func (r *reader) integer(to *int64) bool {
	lit, ok := r.Integer()
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(string(lit), 10, 64)
	if err != nil {
		return false
	}
	*to = n
	return true
}

// number checks a JSON number.
func (r *reader) number() bool {
	_, ok := r.Number()
	return ok
}
