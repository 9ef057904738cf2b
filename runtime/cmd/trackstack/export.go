package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/eventfile"
	"github.com/trackstack/trackstack/runtime/store"
)

const exportAbout = `Writes a site's stored events, oldest first, for a backup or a subject access request:
all of them, or one visitor's (--visitor-id) or one signed-in user's (--user-id), within
--from and --to (received time, UTC). NDJSON (one event per line, every stored field;
"trackstack import" restores it) or CSV (a header row, one column per field, nested fields
as JSON text, cells that a spreadsheet would run as formulas prefixed with ').

The store is the runtime configuration's (--config, as in the site's pods) or, with -f,
the SQLite database in standalone's data directory (--data). Progress goes to stderr;
with -o the file is written beside its final name and renamed when complete, mode 0600:
it holds personal data. The sealed raw IPs kept for matching are never exported.

Example: trackstack export -f config/samples/standalone --data .data --site demo -o demo.ndjson`

// exportFlags are the flags of export.
type exportFlags struct {
	source                   storeSource
	site, visitorID, userID  string
	from, to, format, output string
}

func runExport(ctx context.Context, e *env, args []string) int {
	var o exportFlags
	f := newFlagSet(e, "export", "trackstack export --site NAME [flags]", exportAbout)
	storeSourceFlags(f, &o.source)
	f.stringVar(&o.site, "site", "", "", "the site whose events to write; required")
	f.stringVar(&o.visitorID, "visitor-id", "", "", "only the events of this visitor id")
	f.stringVar(&o.userID, "user-id", "", "", "only the events of this user id")
	f.stringVar(&o.from, "from", "", "", "only events received at or after this time (RFC 3339 or YYYY-MM-DD, UTC)")
	f.stringVar(&o.to, "to", "", "", "only events received before this time (RFC 3339 or YYYY-MM-DD, UTC)")
	f.stringVar(&o.format, "format", "", eventfile.FormatNDJSON, "ndjson or csv")
	f.stringVar(&o.output, "o", "", "-", "file to write; - is stdout")
	if code, ok := f.parse(args); !ok {
		return code
	}
	filter, err := o.filter()
	if err != nil {
		code, _ := f.usageError(err.Error())
		return code
	}
	if err := eventfile.CheckFormat(o.format); err != nil {
		code, _ := f.usageError("--format: " + err.Error())
		return code
	}
	storage, err := o.source.storage(o.site)
	if err != nil {
		code, _ := f.usageError(err.Error())
		return code
	}
	st, err := openStorage(ctx, storage, true)
	if err != nil {
		fmt.Fprintf(e.stderr, "trackstack export: cannot open the store: %v\n", err)
		return exitFailure
	}
	defer st.Close()
	x, ok := st.(store.Exporter)
	if !ok {
		fmt.Fprintf(e.stderr, "trackstack export: the %s store cannot export\n", storage.Driver)
		return exitFailure
	}
	if err := o.write(ctx, e, x, filter); err != nil {
		fmt.Fprintf(e.stderr, "trackstack export: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// filter checks the flags that choose the events.
func (o *exportFlags) filter() (store.ExportFilter, error) {
	var f store.ExportFilter
	if o.site == "" {
		return f, errors.New("--site is required")
	}
	if o.visitorID != "" && o.userID != "" {
		return f, errors.New("--visitor-id and --user-id exclude each other: export one person by one id")
	}
	var err error
	if f.From, err = parseTimeFlag("--from", o.from); err != nil {
		return f, err
	}
	if f.To, err = parseTimeFlag("--to", o.to); err != nil {
		return f, err
	}
	f.VisitorID, f.UserID = o.visitorID, o.userID
	return f, f.Validate()
}

// write exports to stdout or to the -o file.
func (o *exportFlags) write(ctx context.Context, e *env, x store.Exporter, filter store.ExportFilter) error {
	if o.output == "-" {
		return o.export(ctx, e, e.stdout, x, filter)
	}
	// A temporary file in the same directory, renamed when complete: a
	// failed export never leaves a file that looks like a backup.
	tmp, err := os.CreateTemp(filepath.Dir(o.output), "."+filepath.Base(o.output)+".*")
	if err != nil {
		return fmt.Errorf("while creating the output file: %w", err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	defer tmp.Close()
	if err := o.export(ctx, e, tmp, x, filter); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("while writing %s: %w", o.output, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("while writing %s: %w", o.output, err)
	}
	if err := os.Rename(tmp.Name(), o.output); err != nil {
		return fmt.Errorf("while renaming the export to %s: %w", o.output, err)
	}
	return nil
}

// export writes the events to w, reporting progress on stderr.
func (o *exportFlags) export(ctx context.Context, e *env, w io.Writer, x store.Exporter, filter store.ExportFilter) error {
	out, err := eventfile.NewWriter(w, o.format)
	if err != nil {
		return err
	}
	p := newProgress(e.stderr, "exported", o.site, time.Now)
	err = x.ExportEvents(ctx, o.site, filter, func(ev event.Event) error {
		p.add(1)
		return out.Write(ev)
	})
	if err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("while writing the export: %w", err)
	}
	p.done("")
	return nil
}

// parseTimeFlag reads a time flag: RFC 3339, or a date meaning its
// midnight UTC. Empty is the zero time.
func parseTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q is not RFC 3339 (2026-11-01T00:00:00Z) or a date (2026-11-01)", name, v)
}
