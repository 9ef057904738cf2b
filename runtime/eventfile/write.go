// Package eventfile is the file format of event exports: NDJSON, one
// event.Event as JSON per line, which an import reads back field for field,
// and CSV for spreadsheets, one column per field of the JSON with nested
// fields as JSON text. Neither holds the sealed raw IP (it is never
// serialized): it only exists until the destinations that match on it have
// delivered the event.
package eventfile

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/trackstack/trackstack/runtime/csvsafe"
	"github.com/trackstack/trackstack/runtime/event"
)

// Writer writes events in one of the formats.
type Writer interface {
	// Write writes one event.
	Write(e event.Event) error
	// Flush writes what is buffered; call it once at the end.
	Flush() error
}

// Formats are the names NewWriter takes.
const (
	FormatNDJSON = "ndjson"
	FormatCSV    = "csv"
)

// CheckFormat reports a format NewWriter does not know.
func CheckFormat(format string) error {
	if format != FormatNDJSON && format != FormatCSV {
		return fmt.Errorf("format %q is not %s or %s", format, FormatNDJSON, FormatCSV)
	}
	return nil
}

// NewWriter returns a writer of format on w.
func NewWriter(w io.Writer, format string) (Writer, error) {
	if err := CheckFormat(format); err != nil {
		return nil, err
	}
	if format == FormatCSV {
		return newCSVWriter(w)
	}
	return newNDJSONWriter(w), nil
}

type ndjsonWriter struct {
	buf *bufio.Writer
	enc *json.Encoder
}

func newNDJSONWriter(w io.Writer) *ndjsonWriter {
	buf := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(buf)
	// URLs and properties keep their & < > readable; the file is not HTML.
	enc.SetEscapeHTML(false)
	return &ndjsonWriter{buf: buf, enc: enc}
}

// Write writes e as one line (Encode ends it with a newline).
func (w *ndjsonWriter) Write(e event.Event) error {
	if err := w.enc.Encode(e); err != nil {
		return fmt.Errorf("while writing event %q: %w", e.EventID, err)
	}
	return nil
}

func (w *ndjsonWriter) Flush() error { return w.buf.Flush() }

// CSVHeader is the header row of a CSV export: the JSON names of
// event.Event's fields, in its order.
var CSVHeader = []string{
	"site", "event_id", "type", "name", "source", "timestamp", "received_at",
	"visitor_id", "session_id", "user_id", "url", "referrer", "utm", "click_ids", "channel",
	"value", "currency", "order_id", "consent", "device", "ip", "user_agent", "screen", "language",
	"fbp", "fbc", "ga_client_id", "user", "properties",
}

type csvWriter struct {
	buf *bufio.Writer
	w   *csvsafe.Writer
	row []string
}

func newCSVWriter(w io.Writer) (*csvWriter, error) {
	buf := bufio.NewWriterSize(w, 64<<10)
	cw := &csvWriter{buf: buf, w: csvsafe.NewWriter(buf)}
	if err := cw.w.Write(CSVHeader); err != nil {
		return nil, fmt.Errorf("while writing the CSV header: %w", err)
	}
	return cw, nil
}

// Write writes e as one row of CSVHeader's columns.
func (w *csvWriter) Write(e event.Event) error {
	row, err := csvRow(w.row[:0], e)
	if err != nil {
		return err
	}
	w.row = row
	if err := w.w.Write(row); err != nil {
		return fmt.Errorf("while writing event %q: %w", e.EventID, err)
	}
	return nil
}

func (w *csvWriter) Flush() error {
	if err := w.w.Flush(); err != nil {
		return err
	}
	return w.buf.Flush()
}

// csvRow appends e's cells to row, in CSVHeader's order. Times are RFC
// 3339 in UTC with their microseconds; an empty nested field is an empty
// cell rather than {}.
func csvRow(row []string, e event.Event) ([]string, error) {
	nested := func(v any, empty bool) (string, error) {
		if empty {
			return "", nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("while encoding a field of event %q: %w", e.EventID, err)
		}
		return string(b), nil
	}
	value := ""
	if e.Value != nil {
		value = strconv.FormatFloat(*e.Value, 'f', -1, 64)
	}
	utm, err1 := nested(e.UTM, e.UTM == event.UTM{})
	clickIDs, err2 := nested(e.ClickIDs, len(e.ClickIDs) == 0)
	consent, err3 := nested(e.Consent, e.Consent == event.Consent{})
	device, err4 := nested(e.Device, e.Device == event.Device{})
	user, err5 := nested(e.User, e.User.Empty())
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			return nil, err
		}
	}
	return append(row,
		e.Site, e.EventID, string(e.Type), e.Name, string(e.Source), csvTime(e.Timestamp), csvTime(e.ReceivedAt),
		e.VisitorID, e.SessionID, e.UserID, e.URL, e.Referrer, utm, clickIDs, e.Channel,
		value, e.Currency, e.OrderID, consent, device, e.IP, e.UserAgent, e.Screen, e.Language,
		e.FBP, e.FBC, e.GAClientID, user, string(e.Properties),
	), nil
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
