package googleadsfake

import (
	"strconv"

	datamanager "google.golang.org/api/datamanager/v1"
)

// fastDecode reads the requests the googleads adapter sends, and only
// those, without reflection: the fields it writes, each at most once,
// strings without escapes or non-ASCII bytes, numbers in JSON's grammar.
// Anything else (another field, a null, an escape, a duplicate key,
// malformed JSON) returns ok false, and decodeRequest's general path
// decides, so the fake accepts and rejects exactly as that path does
// (TestDecodeMatchesReference and FuzzDecodeRequest compare them). A full
// batch is 2,000 events; reflection was most of the fake's cost.
func fastDecode(body []byte) (req *datamanager.IngestEventsRequest, ok bool) {
	r := fastReader{data: body}
	req = &datamanager.IngestEventsRequest{}
	var seen uint8
	ok = r.object(func(key []byte) bool {
		switch string(key) {
		case "destinations":
			return once(&seen, 1) && r.array(func() bool {
				d := &datamanager.Destination{}
				req.Destinations = append(req.Destinations, d)
				return r.destination(d)
			})
		case "encoding":
			return once(&seen, 2) && r.str(&req.Encoding)
		case "events":
			return once(&seen, 4) && r.array(func() bool {
				e := &datamanager.Event{}
				req.Events = append(req.Events, e)
				return r.event(e)
			})
		case "validateOnly":
			return once(&seen, 8) && r.boolean(&req.ValidateOnly)
		}
		return false
	})
	if !ok || !r.end() {
		return nil, false
	}
	return req, true
}

func (r *fastReader) destination(d *datamanager.Destination) bool {
	var seen uint8
	return r.object(func(key []byte) bool {
		switch string(key) {
		case "loginAccount":
			d.LoginAccount = &datamanager.ProductAccount{}
			return once(&seen, 1) && r.account(d.LoginAccount)
		case "operatingAccount":
			d.OperatingAccount = &datamanager.ProductAccount{}
			return once(&seen, 2) && r.account(d.OperatingAccount)
		case "productDestinationId":
			return once(&seen, 4) && r.str(&d.ProductDestinationId)
		}
		return false
	})
}

func (r *fastReader) account(a *datamanager.ProductAccount) bool {
	return r.strings([]namedString{{"accountId", &a.AccountId}, {"accountType", &a.AccountType}})
}

func (r *fastReader) event(e *datamanager.Event) bool {
	var seen uint8
	return r.object(func(key []byte) bool {
		switch string(key) {
		case "adIdentifiers":
			e.AdIdentifiers = &datamanager.AdIdentifiers{}
			a := e.AdIdentifiers
			return once(&seen, 1) && r.strings([]namedString{{"gbraid", &a.Gbraid}, {"gclid", &a.Gclid}, {"wbraid", &a.Wbraid}})
		case "consent":
			e.Consent = &datamanager.Consent{}
			return once(&seen, 2) && r.strings([]namedString{{"adPersonalization", &e.Consent.AdPersonalization}, {"adUserData", &e.Consent.AdUserData}})
		case "conversionValue":
			return once(&seen, 4) && r.number(&e.ConversionValue)
		case "currency":
			return once(&seen, 8) && r.str(&e.Currency)
		case "eventSource":
			return once(&seen, 16) && r.str(&e.EventSource)
		case "eventTimestamp":
			return once(&seen, 32) && r.str(&e.EventTimestamp)
		case "transactionId":
			return once(&seen, 64) && r.str(&e.TransactionId)
		case "userData":
			e.UserData = &datamanager.UserData{}
			return once(&seen, 128) && r.userData(e.UserData)
		}
		return false
	})
}

func (r *fastReader) userData(u *datamanager.UserData) bool {
	var seen uint8
	return r.object(func(key []byte) bool {
		if string(key) != "userIdentifiers" || !once(&seen, 1) {
			return false
		}
		return r.array(func() bool {
			id := &datamanager.UserIdentifier{}
			u.UserIdentifiers = append(u.UserIdentifiers, id)
			return r.strings([]namedString{{"emailAddress", &id.EmailAddress}, {"phoneNumber", &id.PhoneNumber}})
		})
	})
}

// once marks bit in seen and reports whether it was clear: a duplicate
// key goes to the general path.
func once(seen *uint8, bit uint8) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

type namedString struct {
	name string
	to   *string
}

// fastReader reads JSON, giving up (false) on anything unexpected.
type fastReader struct {
	data []byte
	pos  int
}

func (r *fastReader) skipSpace() {
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
func (r *fastReader) take(c byte) bool {
	r.skipSpace()
	if r.pos < len(r.data) && r.data[r.pos] == c {
		r.pos++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (r *fastReader) end() bool {
	r.skipSpace()
	return r.pos == len(r.data)
}

// object reads a non-empty object, handing each key to field, which reads
// the value.
func (r *fastReader) object(field func(key []byte) bool) bool {
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
func (r *fastReader) array(element func() bool) bool {
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

// strings reads an object of string fields, each at most once.
func (r *fastReader) strings(fields []namedString) bool {
	var seen uint8
	return r.object(func(key []byte) bool {
		for i, f := range fields {
			if f.name == string(key) {
				return once(&seen, 1<<i) && r.str(f.to)
			}
		}
		return false
	})
}

func (r *fastReader) str(to *string) bool {
	s, ok := r.plainString()
	if ok {
		*to = intern(s)
	}
	return ok
}

// intern spares an allocation for the values most events repeat.
func intern(s []byte) string {
	switch string(s) {
	case "WEB":
		return "WEB"
	case "GOOGLE_ADS":
		return "GOOGLE_ADS"
	case "CONSENT_GRANTED":
		return "CONSENT_GRANTED"
	case "CONSENT_DENIED":
		return "CONSENT_DENIED"
	case "EUR":
		return "EUR"
	case "USD":
		return "USD"
	}
	return string(s)
}

// plainString reads a string of printable ASCII without escapes, which
// reads the same in every decoder.
func (r *fastReader) plainString() ([]byte, bool) {
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

func (r *fastReader) boolean(to *bool) bool {
	r.skipSpace()
	rest := r.data[r.pos:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		*to = true
		r.pos += 4
	case len(rest) >= 5 && string(rest[:5]) == "false":
		*to = false
		r.pos += 5
	default:
		return false
	}
	return r.delimited()
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *fastReader) number(to *float64) bool {
	r.skipSpace()
	start := r.pos
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
	f, err := strconv.ParseFloat(string(r.data[start:r.pos]), 64)
	if err != nil || !r.delimited() {
		return false
	}
	*to = f
	return true
}

func (r *fastReader) skip(c byte) bool {
	if r.pos < len(r.data) && r.data[r.pos] == c {
		r.pos++
		return true
	}
	return false
}

func (r *fastReader) digits() int {
	start := r.pos
	for r.pos < len(r.data) && '0' <= r.data[r.pos] && r.data[r.pos] <= '9' {
		r.pos++
	}
	return r.pos - start
}

// delimited reports whether a literal ends here, as JSON requires.
func (r *fastReader) delimited() bool {
	if r.pos == len(r.data) {
		return true
	}
	switch r.data[r.pos] {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}
