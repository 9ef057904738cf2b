package googleadsfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// decodeStrict decodes body into v rejecting any field v's types do not
// declare, at every depth, by their exact JSON names.
//
// json.Decoder.DisallowUnknownFields alone is not enough: the library's
// Event, CartData and Item have UnmarshalJSON methods (for float fields)
// that call json.Unmarshal, which silently drops unknown fields beneath
// them. So the body is also walked against the struct types' JSON tags.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the JSON object")
	}
	var raw any
	if err := json.Unmarshal(body, &raw); err != nil {
		return err
	}
	return checkFields(raw, reflect.TypeOf(v), "")
}

// checkFields reports the first object key in raw that t has no field for.
func checkFields(raw any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := raw.(map[string]any)
		if !ok {
			return nil // a type mismatch the decoder already reported
		}
		fields := jsonFields(t)
		for k, val := range obj {
			ft, ok := fields[k]
			if !ok {
				return fmt.Errorf("unknown field %q", join(path, k))
			}
			if err := checkFields(val, ft, join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		list, _ := raw.([]any)
		for i, val := range list {
			if err := checkFields(val, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		obj, _ := raw.(map[string]any)
		for k, val := range obj {
			if err := checkFields(val, t.Elem(), join(path, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonFields maps the JSON names of t's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	return m
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
