package meta

import (
	"encoding/json"
	"math"
	"strconv"
)

// encode appends the request body field by field: the bytes json.Marshal
// writes for r (TestEncodeMatchesMarshal, FuzzEncode), without reflection
// over up to 1,000 events per request. ok is false when a value or price
// is not a finite number; json.Marshal then gives the error it always
// gave.
func (r *request) encode() (b []byte, ok bool) {
	b = make([]byte, 0, 128+len(r.Data)*900)
	b = append(b, `{"data":`...)
	if r.Data == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Data {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = r.Data[i].appendJSON(b); !ok {
				return nil, false
			}
		}
		b = append(b, ']')
	}
	if r.TestEventCode != "" {
		b = appendString(append(b, `,"test_event_code":`...), r.TestEventCode)
	}
	b = appendString(append(b, `,"access_token":`...), r.AccessToken)
	return append(b, '}'), true
}

func (e *serverEvent) appendJSON(b []byte) ([]byte, bool) {
	b = appendString(append(b, `{"event_name":`...), e.EventName)
	b = strconv.AppendInt(append(b, `,"event_time":`...), e.EventTime, 10)
	b = appendString(append(b, `,"event_id":`...), e.EventID)
	b = appendString(append(b, `,"action_source":`...), e.ActionSource)
	b = appendString(append(b, `,"event_source_url":`...), e.EventSourceURL)
	b = e.UserData.appendJSON(append(b, `,"user_data":`...))
	if cd := e.CustomData; cd != nil {
		var ok bool
		if b, ok = cd.appendJSON(append(b, `,"custom_data":`...)); !ok {
			return nil, false
		}
	}
	return append(b, '}'), true
}

func (u *userData) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = appendList(b, "em", u.Email)
	b = appendList(b, "ph", u.Phone)
	b = appendList(b, "fn", u.FirstName)
	b = appendList(b, "ln", u.LastName)
	b = appendList(b, "ct", u.City)
	b = appendList(b, "zp", u.Zip)
	b = appendList(b, "country", u.Country)
	b = appendList(b, "external_id", u.ExternalID)
	b = appendField(b, "client_ip_address", u.ClientIPAddress)
	b = appendString(appendKey(b, "client_user_agent"), u.ClientUserAgent)
	b = append(b, ',')
	b = appendField(b, "fbc", u.FBC)
	b = appendField(b, "fbp", u.FBP)
	return closeObject(b)
}

func (cd *customData) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, '{')
	if cd.Value != nil {
		if !finite(*cd.Value) {
			return nil, false
		}
		b = append(appendFloat(appendKey(b, "value"), *cd.Value), ',')
	}
	b = appendField(b, "currency", cd.Currency)
	b = appendField(b, "order_id", cd.OrderID)
	b = appendList(b, "content_ids", cd.ContentIDs)
	if len(cd.Contents) > 0 {
		b = append(appendKey(b, "contents"), '[')
		for i, c := range cd.Contents {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(append(b, `{"id":`...), c.ID)
			if c.Quantity != 0 {
				b = strconv.AppendInt(append(b, `,"quantity":`...), c.Quantity, 10)
			}
			if c.ItemPrice != nil {
				if !finite(*c.ItemPrice) {
					return nil, false
				}
				b = appendFloat(append(b, `,"item_price":`...), *c.ItemPrice)
			}
			b = append(b, '}')
		}
		b = append(b, "],"...)
	}
	return closeObject(b), true
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// appendField appends "name":"value", for a value that is not empty
// (omitempty).
func appendField(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	return append(appendString(appendKey(b, name), value), ',')
}

// appendList appends "name":[...], for a list that is not empty
// (omitempty).
func appendList(b []byte, name string, values []string) []byte {
	if len(values) == 0 {
		return b
	}
	b = append(appendKey(b, name), '[')
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, "],"...)
}

// appendKey appends "name": for a name that needs no escaping.
func appendKey(b []byte, name string) []byte {
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// closeObject ends an object whose fields each end with a comma.
func closeObject(b []byte) []byte {
	if b[len(b)-1] == ',' {
		b[len(b)-1] = '}'
		return b
	}
	return append(b, '}')
}

// appendString appends s quoted. Printable ASCII other than the
// characters encoding/json escapes ("\<>&) is copied; any other string
// is left to encoding/json, so the escaping is its own.
func appendString(b []byte, s string) []byte {
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

// appendFloat writes a finite float64 as encoding/json does: the
// shortest decimal, in exponent form below 1e-6 and from 1e21, with a
// two-digit negative exponent shortened (1e-07 → 1e-7).
func appendFloat(b []byte, f float64) []byte {
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
