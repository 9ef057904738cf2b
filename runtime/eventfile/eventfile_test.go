package eventfile

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

var at = time.Date(2026, 11, 3, 14, 5, 6, 789012000, time.UTC)

// TestCSVHeaderCoversEvent: a field added to event.Event fails here until
// the CSV export has a column for it.
func TestCSVHeaderCoversEvent(t *testing.T) {
	var names []string
	typ := reflect.TypeFor[event.Event]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name != "-" {
			names = append(names, name)
		}
	}
	if !reflect.DeepEqual(names, CSVHeader) {
		t.Errorf("CSVHeader = %v,\nevent.Event's JSON fields are %v", CSVHeader, names)
	}
	row, err := csvRow(nil, storetest.Full("shop", "x", at))
	if err != nil || len(row) != len(CSVHeader) {
		t.Errorf("csvRow: %d cells, %v; want %d", len(row), err, len(CSVHeader))
	}
}

func TestNDJSONRoundTrip(t *testing.T) {
	zero := 0.0
	full, minimal, zeroValue := storetest.Full("shop", "full", at), event.Event{Site: "shop", EventID: "min", Type: event.TypePageview,
		Source: event.SourceBrowser, Timestamp: at, ReceivedAt: at}, storetest.Full("shop", "zero", at)
	zeroValue.Value = &zero
	full.URL = "https://shop.example.com/?a=1&b=<2>"
	in := []event.Event{full, minimal, zeroValue}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, FormatNDJSON)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range in {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != len(in) {
		t.Fatalf("%d lines for %d events:\n%s", n, len(in), buf.String())
	}
	if !strings.Contains(buf.String(), "&b=<2>") {
		t.Errorf("the URL was HTML-escaped: %s", buf.String())
	}
	got := readAll(t, NewReader(&buf, "shop"))
	if !reflect.DeepEqual(got, in) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, in)
	}
}

func readAll(t *testing.T, r *Reader) []event.Event {
	t.Helper()
	var out []event.Event
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
}

func TestReaderRejects(t *testing.T) {
	good := line(t, storetest.Full("shop", "good", at))
	tests := []struct {
		name, bad, want string
	}{
		{"not JSON", `{"site":`, "not an event"},
		{"an array", `[1,2]`, "not a JSON object"},
		{"a typo in a field", strings.Replace(good, `"event_id"`, `"eventid"`, 1), `unknown field "eventid"`},
		{"another site", strings.Replace(good, `"site":"shop"`, `"site":"other"`, 1), `is of site "other", not "shop"`},
		{"an unknown type", strings.Replace(good, `"type":"conversion"`, `"type":"sale"`, 1), `unknown type "sale"`},
		{"an unknown source", strings.Replace(good, `"source":"server"`, `"source":"pixel"`, 1), `source "pixel"`},
		{"no event id", strings.Replace(good, `"event_id":"good"`, `"event_id":""`, 1), "event_id is empty"},
		{"no received_at", strings.Replace(good, `"received_at":"2026-11-03T14:05:06.789012Z"`, `"received_at":"0001-01-01T00:00:00Z"`, 1), "received_at is not set"},
		{"two events on a line", good + " " + good, "text after the event"},
		{"a stray value in the object", strings.Replace(good, `"properties":{`, `"properties":"x",{`, 1), "not an event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(good+"\n\n"+tt.bad+"\n"+good+"\n"), "shop")
			if _, err := r.Next(); err != nil {
				t.Fatalf("first line: %v", err)
			}
			_, err := r.Next()
			var le *LineError
			if !errors.As(err, &le) || le.Line != 3 || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Next = %v, want a LineError of line 3 containing %q", err, tt.want)
			}
		})
	}
}

func TestReaderLongLine(t *testing.T) {
	r := NewReader(strings.NewReader(line(t, storetest.Full("shop", "a", at))+"\n"+strings.Repeat(" ", MaxLine+1)+"\n"), "shop")
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err := r.Next()
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 {
		t.Fatalf("Next = %v, want a LineError of line 2", err)
	}
}

func line(t *testing.T, e event.Event) string {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCSV(t *testing.T) {
	e := storetest.Full("shop", "c1", at)
	e.Name = "=HYPERLINK(\"http://evil\")"
	refund := -12.5
	minimal := event.Event{Site: "shop", EventID: "c2", Type: event.TypeConversion, Source: event.SourceServer, Timestamp: at, ReceivedAt: at, Value: &refund}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []event.Event{e, minimal} {
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || !reflect.DeepEqual(rows[0], CSVHeader) {
		t.Fatalf("rows %q: want the header and two events", rows)
	}
	cell := func(row []string, col string) string {
		for i, h := range CSVHeader {
			if h == col {
				return row[i]
			}
		}
		t.Fatalf("no column %q", col)
		return ""
	}
	full, min := rows[1], rows[2]
	checks := []struct{ got, want string }{
		{cell(full, "name"), `'=HYPERLINK("http://evil")`},
		{cell(full, "received_at"), "2026-11-03T14:05:06.789012Z"},
		{cell(full, "value"), "1234.5678"},
		{cell(min, "value"), "-12.5"},
		{cell(min, "utm"), ""},
		{cell(min, "user"), ""},
		{cell(min, "properties"), ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("cell %q, want %q", c.got, c.want)
		}
	}
	var user event.User
	if err := json.Unmarshal([]byte(cell(full, "user")), &user); err != nil || user != e.User {
		t.Errorf("user cell %q (%v): want the hashed user data as JSON", cell(full, "user"), err)
	}
	var clicks map[string]string
	if err := json.Unmarshal([]byte(cell(full, "click_ids")), &clicks); err != nil || !reflect.DeepEqual(clicks, e.ClickIDs) {
		t.Errorf("click_ids cell %q (%v)", cell(full, "click_ids"), err)
	}
	if _, err := NewWriter(&buf, "xml"); err == nil {
		t.Error("NewWriter took format xml")
	}
}

// FuzzReader: no input makes the reader panic, and what it accepts is an
// event of the site that the store takes and that reads back the same
// after another write.
func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"site":"shop","event_id":"a","type":"pageview","source":"browser","timestamp":"2026-11-03T14:05:06Z","received_at":"2026-11-03T14:05:06Z","utm":{},"click_ids":null,"consent":{},"device":{},"user":{}}`))
	f.Add([]byte("\n\n{\"site\":\"shop\"}\n[1]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), "shop")
		for {
			e, err := r.Next()
			if err != nil {
				return
			}
			if e.Site != "shop" || e.EventID == "" || e.ReceivedAt.IsZero() {
				t.Fatalf("accepted %+v", e)
			}
			var buf bytes.Buffer
			w, _ := NewWriter(&buf, FormatNDJSON)
			if err := w.Write(e); err != nil {
				t.Fatalf("cannot write back %+v: %v", e, err)
			}
			w.Flush()
			if _, err := NewReader(&buf, "shop").Next(); err != nil {
				t.Fatalf("written back, it does not read: %v\n%s", err, buf.String())
			}
		}
	})
}
