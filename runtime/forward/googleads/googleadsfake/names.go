package googleadsfake

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"

	datamanager "google.golang.org/api/datamanager/v1"
)

// requestType is the type names in an ingest body are checked against.
var requestType = reflect.TypeFor[datamanager.IngestEventsRequest]()

// checkNames reports the first object key in the JSON value body that
// t's types do not declare by that exact name, with its path
// ("events[0].orderId"). body must be JSON the decoder accepted; the walk
// reads it once and allocates only for an error or an escaped key.
func checkNames(body []byte, t reflect.Type) error {
	w := nameWalker{data: body}
	return w.value(t)
}

// unknownFieldError names an undeclared field by its path, built from the
// inside out as the walk returns.
type unknownFieldError struct{ path string }

func (e *unknownFieldError) Error() string { return "unknown field " + strconv.Quote(e.path) }

func (e *unknownFieldError) under(parent string) error {
	if strings.HasPrefix(e.path, "[") {
		e.path = parent + e.path
	} else {
		e.path = parent + "." + e.path
	}
	return e
}

var errTruncated = errors.New("JSON ends early")

type nameWalker struct {
	data []byte
	pos  int
}

// value walks one value; t is the Go type it decodes into, or nil for a
// value whose names are not checked (beneath an interface, or a JSON type
// the Go type does not take, which the decoder has reported).
func (w *nameWalker) value(t reflect.Type) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	c, err := w.next()
	if err != nil {
		return err
	}
	switch c {
	case '{':
		return w.object(t)
	case '[':
		if t == nil || t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return w.array(nil)
		}
		return w.array(t.Elem())
	case '"':
		_, _, err := w.str()
		return err
	}
	return w.literal()
}

// object walks an object whose '{' is next.
func (w *nameWalker) object(t reflect.Type) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	switch {
	case t == nil:
	case t.Kind() == reflect.Struct:
		fields = jsonFields(t)
	case t.Kind() == reflect.Map:
		elem = t.Elem()
	}
	w.pos++ // '{'
	if c, err := w.next(); err != nil {
		return err
	} else if c == '}' {
		w.pos++
		return nil
	}
	for {
		if _, err := w.next(); err != nil {
			return err
		}
		raw, escaped, err := w.str()
		if err != nil {
			return err
		}
		ft := elem
		if fields != nil {
			var ok bool
			if ft, ok = fields[string(raw)]; !ok && escaped {
				ft, ok = fields[unescape(raw)]
			}
			if !ok {
				return &unknownFieldError{path: unescape(raw)}
			}
		}
		if err := w.expect(':'); err != nil {
			return err
		}
		if err := w.value(ft); err != nil {
			var unknown *unknownFieldError
			if errors.As(err, &unknown) {
				return unknown.under(unescape(raw))
			}
			return err
		}
		c, err := w.next()
		if err != nil {
			return err
		}
		w.pos++
		if c == '}' {
			return nil
		}
		if c != ',' {
			return errors.New("JSON object not closed")
		}
	}
}

// array walks an array whose '[' is next; elem is its elements' type.
func (w *nameWalker) array(elem reflect.Type) error {
	w.pos++ // '['
	if c, err := w.next(); err != nil {
		return err
	} else if c == ']' {
		w.pos++
		return nil
	}
	for i := 0; ; i++ {
		if err := w.value(elem); err != nil {
			var unknown *unknownFieldError
			if errors.As(err, &unknown) {
				return unknown.under("[" + strconv.Itoa(i) + "]")
			}
			return err
		}
		c, err := w.next()
		if err != nil {
			return err
		}
		w.pos++
		if c == ']' {
			return nil
		}
		if c != ',' {
			return errors.New("JSON array not closed")
		}
	}
}

// next skips white space and returns the byte there, without taking it.
func (w *nameWalker) next() (byte, error) {
	for w.pos < len(w.data) {
		switch c := w.data[w.pos]; c {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return c, nil
		}
	}
	return 0, errTruncated
}

func (w *nameWalker) expect(c byte) error {
	got, err := w.next()
	if err != nil {
		return err
	}
	if got != c {
		return errors.New("JSON: expected " + strconv.QuoteRune(rune(c)))
	}
	w.pos++
	return nil
}

// str takes a string whose '"' is next and returns its raw content and
// whether it holds escapes.
func (w *nameWalker) str() (raw []byte, escaped bool, err error) {
	if w.data[w.pos] != '"' {
		return nil, false, errors.New("JSON: expected a string")
	}
	start := w.pos + 1
	for i := start; i < len(w.data); i++ {
		switch w.data[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			w.pos = i + 1
			return w.data[start:i], escaped, nil
		}
	}
	return nil, false, errTruncated
}

// literal takes a number, true, false or null.
func (w *nameWalker) literal() error {
	start := w.pos
	for w.pos < len(w.data) {
		switch w.data[w.pos] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if w.pos == start {
				return errors.New("JSON: expected a value")
			}
			return nil
		}
		w.pos++
	}
	if w.pos == start {
		return errTruncated
	}
	return nil
}

// unescape is the text of a string's raw content, as the decoder reads it.
func unescape(raw []byte) string {
	var s string
	if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s); err != nil {
		return string(raw)
	}
	return s
}

// fieldTables caches jsonFields per struct type.
var fieldTables sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields maps the exact JSON names of t's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldTables.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
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
	fieldTables.Store(t, m)
	return m
}
