package store

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/trackstack/trackstack/runtime/event"
)

// decodeBoth decodes click ids and user data through DecodeJSONColumns
// and through encoding/json alone, and fails when they differ.
func decodeBoth(t *testing.T, clickIDs, user []byte) {
	t.Helper()
	var got, want event.Event
	gotErr := DecodeJSONColumns(&got, clickIDs, user, nil)
	errIDs := json.Unmarshal(clickIDs, &want.ClickIDs)
	errUser := json.Unmarshal(user, &want.User)
	if (gotErr == nil) != (errIDs == nil && errUser == nil) {
		t.Fatalf("DecodeJSONColumns(%q, %q) error %v; encoding/json: %v, %v", clickIDs, user, gotErr, errIDs, errUser)
	}
	if gotErr == nil && (!reflect.DeepEqual(got.ClickIDs, want.ClickIDs) || got.User != want.User) {
		t.Fatalf("DecodeJSONColumns(%q, %q) = %v %+v, encoding/json gives %v %+v", clickIDs, user, got.ClickIDs, got.User, want.ClickIDs, want.User)
	}
}

func TestDecodeJSONColumnsAsEncodingJSON(t *testing.T) {
	digest := "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
	tests := []struct {
		name           string
		clickIDs, user string
	}{
		{"as PostgreSQL prints jsonb", `{"gclid": "Cj0KCQjw-1", "fbclid": "IwAR-1"}`, `{"em": "` + digest + `", "ph_e164": "` + digest + `"}`},
		{"as encoding/json writes it", `{"gclid":"Cj0KCQjw-1"}`, `{"em":"` + digest + `","country":"` + digest + `"}`},
		{"every user field", `{}`, `{"em":"a","ph":"b","fn":"c","ln":"d","ct":"e","zp":"f","country":"g","em_google":"h","ph_e164":"i"}`},
		{"whitespace everywhere", " {\n\t\"gclid\" :\r\"x\" , \"wbraid\":\"y\" }\n", ` { } `},
		{"repeated key: the last wins", `{"gclid":"a","gclid":"b"}`, `{"em":"a","em":"b"}`},
		{"escapes", `{"gclid":"a\"b\\c\u00e9"}`, `{"em":"\u0041"}`},
		{"non-ASCII", `{"gclid":"é"}`, `{"ct":"zürich"}`},
		{"invalid UTF-8", "{\"gclid\":\"\xff\"}", "{\"em\":\"\xfe\"}"},
		{"key case differs", `{"GCLID":"a"}`, `{"EM":"a","Ph":"b"}`},
		{"unknown user key", `{}`, `{"em":"a","zz":"b"}`},
		{"other value types", `{"gclid":1}`, `{"em":null}`},
		{"null objects", `null`, `null`},
		{"nested", `{"gclid":{"a":"b"}}`, `{"em":["a"]}`},
		{"control character", "{\"gclid\":\"a\tb\"}", "{\"em\":\"a\x01\"}"},
		{"truncated", `{"gclid":"a"`, `{"em":"a",`},
		{"trailing garbage", `{"gclid":"a"}x`, `{"em":"a"} {}`},
		{"missing colon", `{"gclid" "a"}`, `{"em"}`},
		{"missing comma", `{"gclid":"a" "fbclid":"b"}`, `{"em":"a",}`},
		{"not an object", `"gclid"`, `[]`},
		{"empty", ``, ` `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { decodeBoth(t, []byte(tt.clickIDs), []byte(tt.user)) })
	}
}

// TestFlatObjectFastPath makes sure the common shape does not fall back
// to encoding/json, which is the point of reading it by hand.
func TestFlatObjectFastPath(t *testing.T) {
	if ids, ok := decodeClickIDs([]byte(`{"gclid": "Cj0KCQjw-1", "fbclid": "IwAR-1"}`)); !ok || ids["gclid"] != "Cj0KCQjw-1" || ids["fbclid"] != "IwAR-1" {
		t.Errorf("click ids as PostgreSQL prints them: %v, %v", ids, ok)
	}
	if u, ok := decodeUser([]byte(`{"em": "a", "ph_e164": "b"}`)); !ok || u.EmailSHA256 != "a" || u.PhoneE164SHA256 != "b" {
		t.Errorf("user data as PostgreSQL prints it: %+v, %v", u, ok)
	}
}

func FuzzDecodeJSONColumns(f *testing.F) {
	f.Add([]byte(`{"gclid": "Cj0KCQjw-1", "fbclid": "IwAR-1"}`), []byte(`{"em": "ab", "ph_e164": "cd"}`))
	f.Add([]byte(`{"gclid":"a\"b"}`), []byte(`{"EM":"a"}`))
	f.Add([]byte(`null`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, clickIDs, user []byte) { decodeBoth(t, clickIDs, user) })
}
