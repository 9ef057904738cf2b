package googleadsfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	datamanager "google.golang.org/api/datamanager/v1"
)

// TestMirrorsCoverEveryCustomDecoder guards decodeRequest's premise: the
// only types beneath IngestEventsRequest with their own UnmarshalJSON
// (which would hide unknown fields from the decoder) are the three that
// strictEvent, strictCartData and strictItem stand in for. A new version
// of the library that adds one must add a mirror too.
func TestMirrorsCoverEveryCustomDecoder(t *testing.T) {
	mirrored := map[reflect.Type]bool{
		reflect.TypeFor[datamanager.Event]():    true,
		reflect.TypeFor[datamanager.CartData](): true,
		reflect.TypeFor[datamanager.Item]():     true,
	}
	unmarshaler := reflect.TypeFor[json.Unmarshaler]()
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		if reflect.PointerTo(typ).Implements(unmarshaler) && !mirrored[typ] {
			t.Errorf("%v has its own UnmarshalJSON and no mirror in strict.go", typ)
		}
		for _, ft := range jsonFields(typ) {
			walk(ft)
		}
	}
	walk(requestType)
	for typ := range mirrored {
		if !seen[typ] {
			t.Errorf("%v is mirrored but no longer in a request", typ)
		}
	}
}

// referenceDecode is how the fake decoded before decodeRequest: the
// published structs with their own methods, then a walk of the body
// decoded as untyped JSON. decodeRequest must accept and produce
// exactly what it did.
func referenceDecode(body []byte) (*datamanager.IngestEventsRequest, error) {
	var req datamanager.IngestEventsRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON object")
	}
	var raw any
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, err
	}
	return &req, referenceFields(raw, requestType, "")
}

func referenceFields(raw any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, _ := raw.(map[string]any)
		fields := jsonFields(t)
		for k, val := range obj {
			ft, ok := fields[k]
			if !ok {
				return fmt.Errorf("unknown field %q", path+"."+k)
			}
			if err := referenceFields(val, ft, path+"."+k); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		list, _ := raw.([]any)
		for i, val := range list {
			if err := referenceFields(val, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		obj, _ := raw.(map[string]any)
		for k, val := range obj {
			if err := referenceFields(val, t.Elem(), path+"."+k); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeSeeds are bodies at the edges of what the decoder takes.
var decodeSeeds = []string{
	validBody,
	adapterBody,
	`{"events":[{"conversionValue":-0,"currency":"EUR"}],"encoding":"HEX","encoding":"BASE64"}`,
	`{"events":[{"conversionValue":01}]}`,
	`{"events":[{"conversionValue":1.}]}`,
	`{"events":[{"conversionValue":-}]}`,
	`{"events":[{"conversionValue":1E-7 , "currency" : "EUR" }] , "validateOnly" : false }`,
	`{"validateOnly":truex}`,
	`{"events":[{"transactionId":"café"}]}`,
	`{"events":[{"transactionId":"café"}]}`,
	`{"events":[{"adIdentifiers":{"gclid":"a","gclid":"b"}}]}`,
	`{"events":[{"adIdentifiers":{}}],"destinations":[]}`,
	`{"destinations":[{"operatingAccount":null}]}`,
	`{"events":[null],"destinations":[null]}`,
	`{"events":[{"cartData":{"items":[{"unitPrice":"NaN","conversionValue":2,"quantity":"3"}],"transactionDiscount":"-Infinity"}}]}`,
	`{"events":[{"cartData":{"items":[{"unitPrice":1,"sku":"x"}]}}]}`,
	`{"events":[{"cartData":{"items":[null],"transactionDiscount":null}}]}`,
	`{"events":[{"conversionValue":"10"}]}`,
	`{"events":[{"conversionValue":true}]}`,
	`{"events":[{"conversionValue":1e400}]}`,
	`{"events":[{"conversionValue":5,"conversionValue":null}]}`,
	`{"events":[{"conversionValue":5,"conversionValue":7}]}`,
	`{"events":[{"ConversionValue":5}]}`,
	`{"events":[{"eventtimestamp":"x"}]}`,
	`{"Events":[]}`,
	`{"events":[{"\u0074ransactionId":"o1"}]}`,
	`{"events":[{"\u006frderId":"o1"}]}`,
	`{"events":[{"userData":{"userIdentifiers":[{"address":{"postalCode":"1","street":"x"}}]}}]}`,
	`{"events":[{"customVariables":[{"variable":"v","value":"1","extra":1}]}]}`,
	`{"events":[{"eventDeviceInfo":{"userAgent":"u","ipAddress":"1.2.3.4"}}]}`,
	`{"events":[{"additionalEventParameters":[{"parameterName":"a","value":"b"}]}]}`,
	`{"events":{"transactionId":"o1"}}`,
	`{"events":[{"adIdentifiers":["gclid"]}]}`,
	`{"encoding":"HEX"}}`,
	`{"encoding":"HEX"} {}`,
	`{"encoding":"HEX"}` + "\n\t ",
	`{"encoding":"HEX"}` + "\u00a0",
	`[]`,
	`null`,
	`{"validateOnly":"true"}`,
	`{"events":[{"transactionId":"o1",}]}`,
	`{"events":[{"transactionId":"o1"}]`,
}

// adapterBody has every field the googleads adapter writes.
const adapterBody = `{"destinations":[{"loginAccount":{"accountId":"9876543210","accountType":"GOOGLE_ADS"},` +
	`"operatingAccount":{"accountId":"1234567890","accountType":"GOOGLE_ADS"},"productDestinationId":"555"}],"encoding":"HEX",` +
	`"events":[{"adIdentifiers":{"gclid":"Cj0KCQ-a"},"consent":{"adPersonalization":"CONSENT_DENIED","adUserData":"CONSENT_GRANTED"},` +
	`"conversionValue":49.9,"currency":"EUR","eventSource":"WEB","eventTimestamp":"2026-11-20T15:04:05.123456+01:00","transactionId":"order-a",` +
	`"userData":{"userIdentifiers":[{"emailAddress":"62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"},` +
	`{"phoneNumber":"e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"}]}},` +
	`{"adIdentifiers":{"wbraid":"W1"},"conversionValue":0,"currency":"EUR","eventSource":"WEB","eventTimestamp":"2026-11-20T15:04:05+01:00","transactionId":"b"},` +
	`{"conversionValue":1e+21,"eventSource":"WEB","eventTimestamp":"2026-11-20T15:04:05Z","transactionId":"c","userData":{"userIdentifiers":[{"phoneNumber":"e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"}]}}],` +
	`"validateOnly":true}`

// TestFastPathTakesAdapterRequests keeps the benchmark honest about
// which decoder it measures: what the adapter sends takes the fast path.
func TestFastPathTakesAdapterRequests(t *testing.T) {
	for _, body := range []string{adapterBody, validBody} {
		if _, ok := fastDecode([]byte(body)); !ok {
			t.Errorf("fast path refused %s", body)
		}
	}
}

func TestDecodeMatchesReference(t *testing.T) {
	for _, body := range decodeSeeds {
		t.Run(body[:min(len(body), 60)], func(t *testing.T) { compareDecoders(t, []byte(body)) })
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, body := range decodeSeeds {
		f.Add([]byte(body))
	}
	f.Fuzz(compareDecoders)
}

func compareDecoders(t *testing.T, body []byte) {
	got, gotErr := decodeRequest(body)
	want, wantErr := referenceDecode(body)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("decodeRequest error %v, the reference's %v", gotErr, wantErr)
	}
	if gotErr != nil {
		// Which error comes first may differ, not whether there is one;
		// an unknown name in valid JSON must be named as such.
		if json.Valid(body) && strings.Contains(wantErr.Error(), "unknown field") && !strings.Contains(gotErr.Error(), "unknown field") {
			t.Errorf("decodeRequest error %v, the reference's %v", gotErr, wantErr)
		}
		return
	}
	if !sameRequest(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("decodeRequest read\n%s\nthe reference\n%s", g, w)
	}
}

// sameRequest compares decoded requests, NaN equal to NaN.
func sameRequest(a, b *datamanager.IngestEventsRequest) bool {
	return sameValue(reflect.ValueOf(a), reflect.ValueOf(b))
}

func sameValue(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Float64:
		x, y := a.Float(), b.Float()
		return x == y || math.IsNaN(x) && math.IsNaN(y)
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameValue(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

const validBody = `{
 "destinations":[{"operatingAccount":{"accountType":"GOOGLE_ADS","accountId":"1234567890"},"productDestinationId":"555"}],
 "encoding":"HEX","validateOnly":false,
 "events":[{"adIdentifiers":{"gclid":"G1"},"eventTimestamp":"2026-11-20T15:04:05+01:00","transactionId":"o1",
   "conversionValue":10.5,"currency":"EUR","eventSource":"WEB",
   "userData":{"userIdentifiers":[{"emailAddress":"62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"}]},
   "consent":{"adUserData":"CONSENT_GRANTED"}}]
}`
