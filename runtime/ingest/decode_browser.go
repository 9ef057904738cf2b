package ingest

import (
	"math"
	"strconv"
	"time"

	"github.com/valyala/fastjson"

	"github.com/trackstack/trackstack/runtime/event"
)

// decodeEnvelope parses {"site": ..., "events": [...]} and returns the event
// values. The values live in p until its next parse.
func (d *decoder) decodeEnvelope(body []byte, maxEvents int) (site string, events []*fastjson.Value, err error) {
	root, perr := d.parser.ParseBytes(body)
	if perr != nil {
		return "", nil, &fieldError{msg: "body is not valid JSON: " + perr.Error()}
	}
	if root.Type() != fastjson.TypeObject {
		return "", nil, &fieldError{msg: "body: expected object, got " + typeName(root)}
	}
	top := path{index: -1}
	site, err = str(top.sub("site"), root.Get("site"))
	if err != nil {
		return "", nil, err
	}
	if site == "" {
		return "", nil, &fieldError{path: "site", msg: "required"}
	}
	ev := root.Get("events")
	if isNull(ev) {
		return "", nil, &fieldError{path: "events", msg: "required"}
	}
	if ev.Type() != fastjson.TypeArray {
		return "", nil, typeError(top.sub("events"), "array", ev)
	}
	events, _ = ev.Array()
	switch {
	case len(events) == 0:
		return "", nil, &fieldError{path: "events", msg: "empty"}
	case len(events) > maxEvents:
		return "", nil, &fieldError{path: "events", msg: "more than " + strconv.Itoa(maxEvents) + " events in one batch"}
	}
	for i, v := range events {
		if v.Type() != fastjson.TypeObject {
			return "", nil, typeError(path{index: i}, "object", v)
		}
	}
	return site, events, nil
}

// decodeBrowser decodes a browser batch (docs/tracker-protocol.md). A value
// of the wrong JSON type fails the whole body with its field path; values
// of the right type that fail validation reject their event only (later, in
// validate).
func (d *decoder) decodeBrowser(body []byte) (*batch, error) {
	return d.decodeBatch(body, MaxBrowserEvents, d.decodeBrowserEvent)
}

// decodeBatch decodes a batch envelope and each of its events with
// decodeEvent; the browser and server batches differ only in their events.
func (d *decoder) decodeBatch(body []byte, max int, decodeEvent func(path, *fastjson.Value, *event.Event, *meta) error) (*batch, error) {
	d.reset()
	site, values, err := d.decodeEnvelope(body, max)
	if err != nil {
		return nil, err
	}
	b := &batch{site: site, events: make([]event.Event, len(values)), metas: make([]meta, len(values))}
	for i, v := range values {
		if err := decodeEvent(path{index: i}, v, &b.events[i], &b.metas[i]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (d *decoder) decodeBrowserEvent(p path, v *fastjson.Value, ev *event.Event, m *meta) error {
	return visitFields(v, func(key []byte, fv *fastjson.Value) error {
		return d.decodeBrowserField(p, key, fv, ev, m)
	})
}

// visitFields calls field for each key of a JSON object, stopping at the first error.
func visitFields(v *fastjson.Value, field func(key []byte, fv *fastjson.Value) error) error {
	o, _ := v.Object()
	var err error
	o.Visit(func(key []byte, fv *fastjson.Value) {
		if err == nil {
			err = field(key, fv)
		}
	})
	return err
}

// decodeCommonField decodes the fields browser and server events share;
// other keys are ignored.
func (d *decoder) decodeCommonField(p path, key []byte, v *fastjson.Value, ev *event.Event, m *meta) error {
	var err error
	switch string(key) {
	case "event_id":
		ev.EventID, err = str(p.sub("event_id"), v)
	case "type":
		err = decodeType(p, v, ev, m)
	case "name":
		var b []byte
		if b, err = stringBytes(p.sub("name"), v); err == nil && len(b) > 0 {
			ev.Name = eventName(b)
		}
	case "url":
		ev.URL, err = d.istr(p.sub("url"), v)
		ev.URL = truncate(ev.URL, maxURLLen)
	case "referrer":
		ev.Referrer, err = d.istr(p.sub("referrer"), v)
		ev.Referrer = truncate(ev.Referrer, maxURLLen)
	case "utm":
		err = d.decodeUTM(p.sub("utm"), v, &ev.UTM)
	case "click_ids":
		ev.ClickIDs, err = d.decodeClickIDs(p.sub("click_ids"), v)
	case "consent":
		err = decodeConsent(p.sub("consent"), v, &ev.Consent)
	case "value":
		err = decodeValue(p.sub("value"), v, ev)
	case "currency":
		ev.Currency, err = d.istr(p.sub("currency"), v)
	case "order_id":
		ev.OrderID, err = str(p.sub("order_id"), v)
	case "user_id":
		ev.UserID, err = d.istr(p.sub("user_id"), v)
	}
	return err
}

func (d *decoder) decodeBrowserField(p path, key []byte, v *fastjson.Value, ev *event.Event, m *meta) error {
	var err error
	switch string(key) {
	case "ts":
		var f float64
		var ok bool
		if f, ok, err = number(p.sub("ts"), v); ok {
			if math.Abs(f) > 1e15 {
				m.reject(ReasonInvalid, "ts: not a Unix time in milliseconds")
			} else {
				ev.Timestamp, m.hasTime = time.UnixMilli(int64(f)).UTC(), true
			}
		}
	case "title":
		// Not stored (the event model has no title); checked for shape only.
		_, err = stringBytes(p.sub("title"), v)
	case "screen":
		ev.Screen, err = d.istr(p.sub("screen"), v)
		ev.Screen = truncate(ev.Screen, maxShortLen)
	case "lang":
		ev.Language, err = d.istr(p.sub("lang"), v)
		ev.Language = truncate(ev.Language, maxShortLen)
	case "cookies":
		err = visitStrings(p.sub("cookies"), v, func(key, val []byte) {
			s := truncate(d.intern(val), maxCookieLen)
			switch string(key) {
			case "fbp":
				ev.FBP = s
			case "fbc":
				ev.FBC = s
			case "ga":
				ev.GAClientID = gaClientID(s)
			}
		})
	case "props":
		err = decodeProps(p.sub("props"), v, ev, m, maxBrowserProps)
	case "user":
		err = visitStrings(p.sub("user"), v, func(key, val []byte) {
			s := d.intern(val)
			switch string(key) {
			case "em":
				m.user.Email = s
			case "ph":
				m.user.Phone = s
			case "fn":
				m.user.FirstName = s
			case "ln":
				m.user.LastName = s
			case "ct":
				m.user.City = s
			case "zp":
				m.user.Zip = s
			case "em_google":
				m.user.EmailGoogle = s
			case "ph_e164":
				m.user.PhoneE164 = s
			case "country":
				m.user.Country = s
			}
		})
	case "scripted":
		switch v.Type() {
		case fastjson.TypeTrue:
			m.scripted = true
		case fastjson.TypeFalse, fastjson.TypeNull:
		default:
			err = typeError(p.sub("scripted"), "boolean", v)
		}
	default:
		err = d.decodeCommonField(p, key, v, ev, m)
	}
	return err
}

func decodeType(p path, v *fastjson.Value, ev *event.Event, m *meta) error {
	b, err := stringBytes(p.sub("type"), v)
	if err != nil || len(b) == 0 {
		return err
	}
	t, ok := eventType(b)
	if !ok {
		m.reject(ReasonInvalid, "type: unknown event type (one of pageview, click, form_submit, conversion, custom, identify)")
		return nil
	}
	ev.Type = t
	return nil
}

func decodeValue(p path, v *fastjson.Value, ev *event.Event) error {
	f, ok, err := number(p, v)
	if ok {
		ev.Value = &f
	}
	return err
}

func decodeProps(p path, v *fastjson.Value, ev *event.Event, m *meta, limit int) error {
	if isNull(v) {
		return nil
	}
	if v.Type() != fastjson.TypeObject {
		return typeError(p, "object", v)
	}
	raw := appendJSON(make([]byte, 0, 64), v)
	if len(raw) > limit {
		m.reject(ReasonInvalid, p.field+": larger than "+strconv.Itoa(limit>>10)+" KiB")
		return nil
	}
	if len(raw) > 2 {
		ev.Properties = raw
	}
	return nil
}
