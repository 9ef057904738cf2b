package googleadsfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	datamanager "google.golang.org/api/datamanager/v1"
)

// decodeRequest decodes an ingest body into the published structs,
// rejecting any field they do not declare, at every depth, by its exact
// JSON name, and anything after the request.
//
// The library's Event, CartData and Item have UnmarshalJSON methods (for
// float fields) that call json.Unmarshal, which silently drops unknown
// fields beneath them and decodes each event a second time. So the body
// is decoded into mirrors of those three types without the methods
// (below), and checkNames, not the decoder, finds unknown fields: it
// holds every key to its exact name, where encoding/json's
// DisallowUnknownFields ignores case. The adapter's own requests take
// fastDecode first, which gives way to this path for anything else.
func decodeRequest(body []byte) (*datamanager.IngestEventsRequest, error) {
	if req, ok := fastDecode(body); ok {
		return req, nil
	}
	var s strictRequest
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, err
	}
	if err := checkNames(body, requestType); err != nil {
		return nil, err
	}
	return s.request(), nil
}

// strictRequest is IngestEventsRequest with events decoded as
// strictEvents: encoding/json takes the shallower "events" field.
type strictRequest struct {
	requestFields
	Events []*strictEvent `json:"events"`
}

type requestFields datamanager.IngestEventsRequest

func (s *strictRequest) request() *datamanager.IngestEventsRequest {
	req := (*datamanager.IngestEventsRequest)(&s.requestFields)
	req.Events = nil
	if s.Events != nil {
		req.Events = make([]*datamanager.Event, len(s.Events))
		for i, e := range s.Events {
			req.Events[i] = e.event()
		}
	}
	return req
}

// strictEvent is datamanager.Event without its UnmarshalJSON: the fields
// that method treats specially are declared here, shadowing the embedded
// ones, with the same decoding.
type strictEvent struct {
	eventFields
	CartData        *strictCartData `json:"cartData"`
	ConversionCount protoFloat      `json:"conversionCount"`
	ConversionValue protoFloat      `json:"conversionValue"`
}

type eventFields datamanager.Event

func (s *strictEvent) event() *datamanager.Event {
	if s == nil {
		return nil
	}
	e := (*datamanager.Event)(&s.eventFields)
	e.CartData = s.CartData.cartData()
	e.ConversionCount = float64(s.ConversionCount)
	e.ConversionValue = float64(s.ConversionValue)
	return e
}

// strictCartData is datamanager.CartData without its UnmarshalJSON.
type strictCartData struct {
	cartDataFields
	Items               []*strictItem `json:"items"`
	TransactionDiscount protoFloat    `json:"transactionDiscount"`
}

type cartDataFields datamanager.CartData

func (s *strictCartData) cartData() *datamanager.CartData {
	if s == nil {
		return nil
	}
	c := (*datamanager.CartData)(&s.cartDataFields)
	c.TransactionDiscount = float64(s.TransactionDiscount)
	c.Items = nil
	if s.Items != nil {
		c.Items = make([]*datamanager.Item, len(s.Items))
		for i, it := range s.Items {
			c.Items[i] = it.item()
		}
	}
	return c
}

// strictItem is datamanager.Item without its UnmarshalJSON.
type strictItem struct {
	itemFields
	ConversionValue protoFloat `json:"conversionValue"`
	UnitPrice       protoFloat `json:"unitPrice"`
}

type itemFields datamanager.Item

func (s *strictItem) item() *datamanager.Item {
	if s == nil {
		return nil
	}
	it := (*datamanager.Item)(&s.itemFields)
	it.ConversionValue = float64(s.ConversionValue)
	it.UnitPrice = float64(s.UnitPrice)
	return it
}

// protoFloat decodes a float field as the library's generated methods do:
// a JSON number, or the strings "NaN", "Infinity" and "-Infinity" of
// protobuf's JSON mapping.
type protoFloat float64

// UnmarshalJSON reads one JSON value the decoder has already checked, so
// a number literal parses as encoding/json would parse it into a float64.
func (f *protoFloat) UnmarshalJSON(data []byte) error {
	switch {
	case string(data) == "null":
		*f = 0
		return nil
	case data[0] == '-' || data[0] >= '0' && data[0] <= '9':
		n, err := strconv.ParseFloat(string(data), 64)
		if err != nil {
			return fmt.Errorf("float field: %w", err)
		}
		*f = protoFloat(n)
		return nil
	case data[0] != '"':
		return errors.New("a float field takes a number or a string")
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	switch s {
	case "NaN":
		*f = protoFloat(math.NaN())
	case "Infinity":
		*f = protoFloat(math.Inf(1))
	case "-Infinity":
		*f = protoFloat(math.Inf(-1))
	default:
		return fmt.Errorf("bad float string %q", s)
	}
	return nil
}
