package ingest

import (
	"time"

	"github.com/valyala/fastjson"

	"github.com/trackstack/trackstack/runtime/event"
)

// decodeServer decodes a /v1/events batch: like the
// browser batch, but with RFC 3339 timestamps, raw or hashed matching data
// under user, the end user's ip and user_agent, and an explicit visitor_id.
func (d *decoder) decodeServer(body []byte) (*batch, error) {
	return d.decodeBatch(body, MaxServerEvents, d.decodeServerEvent)
}

func (d *decoder) decodeServerEvent(p path, v *fastjson.Value, ev *event.Event, m *meta) error {
	err := visitFields(v, func(key []byte, fv *fastjson.Value) error {
		return d.decodeServerField(p, key, fv, ev, m)
	})
	if err == nil && !m.hasTime {
		m.reject(ReasonInvalid, "timestamp: required (RFC 3339)")
		// validate must not default the time of a server event to now.
		m.hasTime = true
	}
	return err
}

func (d *decoder) decodeServerField(p path, key []byte, v *fastjson.Value, ev *event.Event, m *meta) error {
	var err error
	switch string(key) {
	case "timestamp":
		var b []byte
		if b, err = stringBytes(p.sub("timestamp"), v); err == nil && len(b) > 0 {
			t, perr := time.Parse(time.RFC3339Nano, string(b))
			if perr != nil {
				m.reject(ReasonInvalid, "timestamp: not an RFC 3339 time such as 2026-11-23T10:00:00Z")
			} else {
				ev.Timestamp, m.hasTime = t.UTC(), true
			}
		}
	case "visitor_id":
		ev.VisitorID, err = d.istr(p.sub("visitor_id"), v)
	case "properties":
		err = decodeProps(p.sub("properties"), v, ev, m, maxServerProps)
	case "fbp":
		ev.FBP, err = d.istr(p.sub("fbp"), v)
		ev.FBP = truncate(ev.FBP, maxCookieLen)
	case "fbc":
		ev.FBC, err = d.istr(p.sub("fbc"), v)
		ev.FBC = truncate(ev.FBC, maxCookieLen)
	case "ga_client_id":
		ev.GAClientID, err = d.istr(p.sub("ga_client_id"), v)
		ev.GAClientID = gaClientID(truncate(ev.GAClientID, maxCookieLen))
	case "user":
		err = visitStrings(p.sub("user"), v, func(key, val []byte) {
			s := d.intern(val)
			switch string(key) {
			case "email":
				m.user.Email = s
			case "phone":
				m.user.Phone = s
			case "first_name":
				m.user.FirstName = s
			case "last_name":
				m.user.LastName = s
			case "city":
				m.user.City = s
			case "zip":
				m.user.Zip = s
			case "em_google":
				m.user.EmailGoogle = s
			case "ph_e164":
				m.user.PhoneE164 = s
			case "country":
				m.user.Country = s
			case "ip":
				m.ip = s
			case "user_agent":
				m.ua = truncate(s, maxUALen)
			}
		})
	default:
		err = d.decodeCommonField(p, key, v, ev, m)
	}
	return err
}
