package eventfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// MaxLine bounds one line of an NDJSON export. Stored events are far
// smaller (the collector takes request bodies of a few hundred KiB at
// most); a larger line is not an export, and the bound keeps a wrong file
// from taking the memory.
const MaxLine = 4 << 20

// LineError is a line of an NDJSON file that is not an event of the
// export: it names the line, counted from 1.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }

// Reader reads the events of an NDJSON export, one per line, checking
// each as an import must take it. Blank lines are skipped.
type Reader struct {
	sc   *bufio.Scanner
	site string
	line int
}

// NewReader returns a Reader of r for site: an event of another site is
// an error, so that a file meant for one site never lands in another.
func NewReader(r io.Reader, site string) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	return &Reader{sc: sc, site: site}
}

// Site is the site whose events the reader takes.
func (r *Reader) Site() string { return r.site }

// Line is the number of the line of the event Next returned last.
func (r *Reader) Line() int { return r.line }

// Next returns the next event, io.EOF after the last, or a *LineError
// for a line that is no event of the site: not one JSON object, a field
// event.Event does not have (a typo, or a file of another kind), an
// unknown type or source, or what the store would refuse
// (store.Normalize). The event is returned as the file has it; the store
// normalizes it when it inserts it.
func (r *Reader) Next() (event.Event, error) {
	for r.sc.Scan() {
		r.line++
		b := bytes.TrimSpace(r.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		e, err := r.parse(b)
		if err != nil {
			return event.Event{}, &LineError{Line: r.line, Err: err}
		}
		return e, nil
	}
	if err := r.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return event.Event{}, &LineError{Line: r.line + 1, Err: fmt.Errorf("longer than %d bytes", MaxLine)}
		}
		return event.Event{}, fmt.Errorf("while reading line %d: %w", r.line+1, err)
	}
	return event.Event{}, io.EOF
}

func (r *Reader) parse(b []byte) (event.Event, error) {
	if b[0] != '{' {
		return event.Event{}, errors.New("not a JSON object (an NDJSON export has one event per line)")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var e event.Event
	if err := dec.Decode(&e); err != nil {
		return event.Event{}, fmt.Errorf("not an event: %w", err)
	}
	if dec.InputOffset() != int64(len(b)) {
		return event.Event{}, errors.New("text after the event on the same line")
	}
	if e.Site != r.site {
		return event.Event{}, fmt.Errorf("event %q is of site %q, not %q: import takes one site's events only", e.EventID, e.Site, r.site)
	}
	if !e.Type.Valid() {
		return event.Event{}, fmt.Errorf("event %q has unknown type %q", e.EventID, e.Type)
	}
	if e.Source != event.SourceBrowser && e.Source != event.SourceServer {
		return event.Event{}, fmt.Errorf("event %q has source %q, not %s or %s", e.EventID, e.Source, event.SourceBrowser, event.SourceServer)
	}
	if _, err := store.Normalize(e); err != nil {
		return event.Event{}, err
	}
	return e, nil
}
