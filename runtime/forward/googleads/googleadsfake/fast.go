package googleadsfake

import (
	"strconv"

	datamanager "google.golang.org/api/datamanager/v1"

	"github.com/trackstack/trackstack/runtime/forward/internal/jsonscan"
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
	r := fastReader{Reader: jsonscan.Reader{Data: body}}
	req = &datamanager.IngestEventsRequest{}
	var seen uint8
	ok = r.Object(func(key []byte) bool {
		switch string(key) {
		case "destinations":
			return jsonscan.Once(&seen, 1) && r.Array(func() bool {
				d := &datamanager.Destination{}
				req.Destinations = append(req.Destinations, d)
				return r.destination(d)
			})
		case "encoding":
			return jsonscan.Once(&seen, 2) && r.str(&req.Encoding)
		case "events":
			return jsonscan.Once(&seen, 4) && r.Array(func() bool {
				e := &datamanager.Event{}
				req.Events = append(req.Events, e)
				return r.event(e)
			})
		case "validateOnly":
			return jsonscan.Once(&seen, 8) && r.Boolean(&req.ValidateOnly)
		}
		return false
	})
	if !ok || !r.End() {
		return nil, false
	}
	return req, true
}

func (r *fastReader) destination(d *datamanager.Destination) bool {
	var seen uint8
	return r.Object(func(key []byte) bool {
		switch string(key) {
		case "loginAccount":
			d.LoginAccount = &datamanager.ProductAccount{}
			return jsonscan.Once(&seen, 1) && r.account(d.LoginAccount)
		case "operatingAccount":
			d.OperatingAccount = &datamanager.ProductAccount{}
			return jsonscan.Once(&seen, 2) && r.account(d.OperatingAccount)
		case "productDestinationId":
			return jsonscan.Once(&seen, 4) && r.str(&d.ProductDestinationId)
		}
		return false
	})
}

func (r *fastReader) account(a *datamanager.ProductAccount) bool {
	return r.strings([]namedString{{"accountId", &a.AccountId}, {"accountType", &a.AccountType}})
}

func (r *fastReader) event(e *datamanager.Event) bool {
	var seen uint8
	return r.Object(func(key []byte) bool {
		switch string(key) {
		case "adIdentifiers":
			e.AdIdentifiers = &datamanager.AdIdentifiers{}
			a := e.AdIdentifiers
			return jsonscan.Once(&seen, 1) && r.strings([]namedString{{"gbraid", &a.Gbraid}, {"gclid", &a.Gclid}, {"wbraid", &a.Wbraid}})
		case "consent":
			e.Consent = &datamanager.Consent{}
			return jsonscan.Once(&seen, 2) && r.strings([]namedString{{"adPersonalization", &e.Consent.AdPersonalization}, {"adUserData", &e.Consent.AdUserData}})
		case "conversionValue":
			return jsonscan.Once(&seen, 4) && r.number(&e.ConversionValue)
		case "currency":
			return jsonscan.Once(&seen, 8) && r.str(&e.Currency)
		case "eventSource":
			return jsonscan.Once(&seen, 16) && r.str(&e.EventSource)
		case "eventTimestamp":
			return jsonscan.Once(&seen, 32) && r.str(&e.EventTimestamp)
		case "transactionId":
			return jsonscan.Once(&seen, 64) && r.str(&e.TransactionId)
		case "userData":
			e.UserData = &datamanager.UserData{}
			return jsonscan.Once(&seen, 128) && r.userData(e.UserData)
		}
		return false
	})
}

func (r *fastReader) userData(u *datamanager.UserData) bool {
	var seen uint8
	return r.Object(func(key []byte) bool {
		if string(key) != "userIdentifiers" || !jsonscan.Once(&seen, 1) {
			return false
		}
		return r.Array(func() bool {
			id := &datamanager.UserIdentifier{}
			u.UserIdentifiers = append(u.UserIdentifiers, id)
			return r.strings([]namedString{{"emailAddress", &id.EmailAddress}, {"phoneNumber", &id.PhoneNumber}})
		})
	})
}

type namedString struct {
	name string
	to   *string
}

// fastReader reads JSON, giving up (false) on anything unexpected.
type fastReader struct {
	jsonscan.Reader
}

// strings reads an object of string fields, each at most once.
func (r *fastReader) strings(fields []namedString) bool {
	var seen uint8
	return r.Object(func(key []byte) bool {
		for i, f := range fields {
			if f.name == string(key) {
				return jsonscan.Once(&seen, 1<<i) && r.str(f.to)
			}
		}
		return false
	})
}

func (r *fastReader) str(to *string) bool {
	s, ok := r.PlainString()
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

// number reads a JSON number.
func (r *fastReader) number(to *float64) bool {
	lit, ok := r.Number()
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return false
	}
	*to = f
	return true
}
