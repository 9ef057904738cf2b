package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/eventfile"
	"github.com/trackstack/trackstack/runtime/store"
)

const importAbout = `Restores an NDJSON export ("trackstack export") of one site into its store, empty or
not: events already stored (the same event_id) are skipped, so importing a file twice adds
nothing the second time, and an interrupted import can simply be run again. A server event
in the file supersedes a browser event of the store that has its event_id, as at ingest.
Events of people erased on request who asked not to be tracked again (the store's
suppression list) are left out, so an older backup does not bring them back.

Every line must be an event of --site: a line that is not (another site, a field no event
has, an unknown type, no event_id or received_at) stops the import with an error naming
the line; the batches before it are stored. Progress goes to stderr, and a JSON summary
(read, inserted, skipped, suppressed) to stdout.

Imported events are new to the forwarders: a Destination whose start (its creation time,
or --backfill-since) is before an event's received time sends it, as it would a collected
one; the platforms deduplicate on event_id.

The store is the runtime configuration's (--config) or, with -f, the SQLite database in
standalone's data directory (--data); the migrations are applied first.

Example: trackstack import -f config/samples/standalone --data .data --site demo -i demo.ndjson`

// importBatch is how many events go to the store per Insert: the size of
// a collector's larger batches.
const importBatch = 500

// importFlags are the flags of import.
type importFlags struct {
	source         storeSource
	site, input    string
	skipMigrations bool
}

// importSummary is what import prints on stdout.
type importSummary struct {
	Site     string `json:"site"`
	Read     int    `json:"read"`
	Inserted int    `json:"inserted"`
	// Skipped counts the events the store had already.
	Skipped int `json:"skipped"`
	// Suppressed counts the events of people erased on request who asked
	// not to be tracked again: a backup taken before the erasure must not
	// bring them back.
	Suppressed int `json:"suppressed"`
}

func runImport(ctx context.Context, e *env, args []string) int {
	var o importFlags
	f := newFlagSet(e, "import", "trackstack import --site NAME [-i FILE] [flags]", importAbout)
	storeSourceFlags(f, &o.source)
	f.stringVar(&o.site, "site", "", "", "the site the events are of; required")
	f.stringVar(&o.input, "i", "", "-", "NDJSON file to read; - is stdin")
	skipMigrationsFlag(f, &o.skipMigrations)
	if code, ok := f.parse(args); !ok {
		return code
	}
	if o.site == "" {
		code, _ := f.usageError("--site is required")
		return code
	}
	storage, err := o.source.storage(o.site)
	if err != nil {
		code, _ := f.usageError(err.Error())
		return code
	}
	in, err := o.open(e)
	if err != nil {
		code, _ := f.usageError(err.Error())
		return code
	}
	defer in.Close()
	return importInto(ctx, e, o, storage, in)
}

// importInto migrates the store and imports in into it.
func importInto(ctx context.Context, e *env, o importFlags, storage config.Storage, in io.Reader) int {
	st, err := openStorage(ctx, storage, false)
	if err != nil {
		fmt.Fprintf(e.stderr, "trackstack import: cannot open the store: %v\n", err)
		return exitFailure
	}
	defer st.Close()
	if !o.skipMigrations {
		// Once, without the services' retries: a person is waiting.
		if err := st.Migrate(ctx); err != nil {
			fmt.Fprintf(e.stderr, "trackstack import: cannot migrate the store: %v\n", err)
			return exitFailure
		}
	}
	suppressed, err := suppressedSet(ctx, st, o.site)
	if err != nil {
		fmt.Fprintf(e.stderr, "trackstack import: %v\n", err)
		return exitFailure
	}
	sum, err := importEvents(ctx, e, st, suppressed, eventfile.NewReader(in, o.site))
	out, _ := json.Marshal(sum)
	fmt.Fprintln(e.stdout, string(out))
	if err != nil {
		fmt.Fprintf(e.stderr, "trackstack import: %v\n", err)
		if errors.As(err, new(*eventfile.LineError)) {
			return exitUsage
		}
		return exitFailure
	}
	return exitOK
}

// open opens -i, or stdin for -.
func (o *importFlags) open(e *env) (io.ReadCloser, error) {
	if o.input == "-" {
		if e.stdin == nil {
			return nil, errors.New("-i - reads stdin, and there is none")
		}
		return io.NopCloser(e.stdin), nil
	}
	f, err := os.Open(o.input)
	if err != nil {
		return nil, fmt.Errorf("-i: %w", err)
	}
	return f, nil
}

// suppressedSet returns the site's suppressions, or an empty set for a
// store that keeps none.
func suppressedSet(ctx context.Context, st store.Store, site string) (*store.SuppressedSet, error) {
	er, ok := st.(store.Erasure)
	if !ok {
		return store.NewSuppressedSet(nil), nil
	}
	list, err := er.Suppressions(ctx, site)
	if err != nil {
		return nil, fmt.Errorf("while reading the suppressed people of site %q: %w", site, err)
	}
	return store.NewSuppressedSet(list), nil
}

// importEvents inserts the reader's events in batches, leaving out those
// of suppressed people. On error, the summary counts what the batches
// before it stored.
func importEvents(ctx context.Context, e *env, st store.Store, suppressed *store.SuppressedSet, r *eventfile.Reader) (importSummary, error) {
	sum := importSummary{Site: r.Site()}
	p := newProgress(e.stderr, "imported", r.Site(), time.Now)
	batch := make([]event.Event, 0, importBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := st.Insert(ctx, batch)
		if err != nil {
			return fmt.Errorf("while storing the events of lines up to %d (the events before them are stored; run the import again to finish): %w", r.Line(), err)
		}
		sum.Inserted += n
		sum.Skipped += len(batch) - n
		p.add(len(batch))
		batch = batch[:0]
		return nil
	}
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ferr := flush(); ferr != nil {
				return sum, ferr
			}
			return sum, fmt.Errorf("%w (the events before it are stored; fix it and import again)", err)
		}
		sum.Read++
		if suppressed.Suppressed(&ev) {
			sum.Suppressed++
			continue
		}
		batch = append(batch, ev)
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return sum, err
			}
		}
	}
	if err := flush(); err != nil {
		return sum, err
	}
	p.done(fmt.Sprintf(": %d new, %d already stored, %d of suppressed people left out", sum.Inserted, sum.Skipped, sum.Suppressed))
	return sum, nil
}
