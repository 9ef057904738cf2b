package meta

import (
	"math"
	"strconv"

	"github.com/trackstack/trackstack/runtime/forward/internal/jsonwire"
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
		b = jsonwire.AppendString(append(b, `,"test_event_code":`...), r.TestEventCode)
	}
	b = jsonwire.AppendString(append(b, `,"access_token":`...), r.AccessToken)
	return append(b, '}'), true
}

func (e *serverEvent) appendJSON(b []byte) ([]byte, bool) {
	b = jsonwire.AppendString(append(b, `{"event_name":`...), e.EventName)
	b = strconv.AppendInt(append(b, `,"event_time":`...), e.EventTime, 10)
	b = jsonwire.AppendString(append(b, `,"event_id":`...), e.EventID)
	b = jsonwire.AppendString(append(b, `,"action_source":`...), e.ActionSource)
	b = jsonwire.AppendString(append(b, `,"event_source_url":`...), e.EventSourceURL)
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
	b = jsonwire.AppendString(jsonwire.AppendKey(b, "client_user_agent"), u.ClientUserAgent)
	b = append(b, ',')
	b = appendField(b, "fbc", u.FBC)
	b = appendField(b, "fbp", u.FBP)
	return jsonwire.CloseObject(b)
}

func (cd *customData) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, '{')
	if cd.Value != nil {
		if !finite(*cd.Value) {
			return nil, false
		}
		b = append(jsonwire.AppendFloat(jsonwire.AppendKey(b, "value"), *cd.Value), ',')
	}
	b = appendField(b, "currency", cd.Currency)
	b = appendField(b, "order_id", cd.OrderID)
	b = appendList(b, "content_ids", cd.ContentIDs)
	if len(cd.Contents) > 0 {
		b = append(jsonwire.AppendKey(b, "contents"), '[')
		for i, c := range cd.Contents {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonwire.AppendString(append(b, `{"id":`...), c.ID)
			if c.Quantity != 0 {
				b = strconv.AppendInt(append(b, `,"quantity":`...), c.Quantity, 10)
			}
			if c.ItemPrice != nil {
				if !finite(*c.ItemPrice) {
					return nil, false
				}
				b = jsonwire.AppendFloat(append(b, `,"item_price":`...), *c.ItemPrice)
			}
			b = append(b, '}')
		}
		b = append(b, "],"...)
	}
	return jsonwire.CloseObject(b), true
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// appendField appends "name":"value", for a value that is not empty
// (omitempty).
func appendField(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	return append(jsonwire.AppendString(jsonwire.AppendKey(b, name), value), ',')
}

// appendList appends "name":[...], for a list that is not empty
// (omitempty).
func appendList(b []byte, name string, values []string) []byte {
	if len(values) == 0 {
		return b
	}
	b = append(jsonwire.AppendKey(b, name), '[')
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonwire.AppendString(b, v)
	}
	return append(b, "],"...)
}
