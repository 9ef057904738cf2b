package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/eventfile"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/sqlite"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

const podConfig = "/etc/trackstack/config/config.yaml"

// siteRoot returns a --root with site shop's configuration on SQLite, its
// database holding events (none when events is nil).
func siteRoot(t *testing.T, events []event.Event) string {
	t.Helper()
	root := t.TempDir()
	writeFile(t, filepath.Join(root, podConfig), sqliteConfig("shop"))
	if events == nil {
		return root
	}
	ctx := context.Background()
	if err := os.MkdirAll(filepath.Join(root, "var/lib/trackstack"), 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(root, "var/lib/trackstack/events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Insert(ctx, events); err != nil {
		t.Fatal(err)
	}
	return root
}

// exportFixture is a site's history: three visitors, one of them signed
// in, a superseded sale, a refund, a formula in a name, another site.
func exportFixture() []event.Event {
	at := time.Date(2026, 10, 30, 22, 59, 59, 123456000, time.UTC)
	var evs []event.Event
	for i := range 1500 {
		e := storetest.Realistic("shop", i, at.Add(time.Duration(i%40)*time.Minute))
		e.VisitorID = []string{"v-alice", "v-bob", "v-carol"}[i%3]
		evs = append(evs, e)
	}
	signedIn := storetest.Full("shop", "alice-buys", at.Add(time.Hour))
	signedIn.VisitorID, signedIn.UserID = "v-alice", "u-alice"
	refund := storetest.Full("shop", "bob-refund", at.Add(2*time.Hour))
	refund.VisitorID, refund.UserID, refund.Name = "v-bob", "", "=HYPERLINK(\"http://evil\")"
	v := -40.0
	refund.Value = &v
	browser := storetest.Full("shop", "sale-1", at.Add(3*time.Hour))
	browser.Source, browser.VisitorID, browser.UserID = event.SourceBrowser, "v-carol", ""
	server := event.Event{Site: "shop", EventID: "sale-1", Type: event.TypeConversion, Name: "purchase", Source: event.SourceServer,
		Timestamp: at.Add(4 * time.Hour), ReceivedAt: at.Add(4 * time.Hour), OrderID: "o-77"}
	return append(evs, signedIn, refund, browser, server, storetest.Full("other", "not-shop", at))
}

// TestExportImportRoundTrip: an export imported into an empty store
// exports byte for byte the same file; importing it again stores nothing.
func TestExportImportRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := siteRoot(t, exportFixture())
	dir := t.TempDir()
	backup := filepath.Join(dir, "shop.ndjson")
	code, out, errOut := runCmd(ctx, nil, "export", "--config", podConfig, "--root", src, "--site", "shop", "-o", backup)
	if code != exitOK || out != "" {
		t.Fatalf("export: exit %d, stdout %.100q\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "exported 1503 events") {
		t.Errorf("stderr lacks the final count of 1503 (1500 + 3, the sale superseded in place):\n%s", errOut)
	}
	if info, err := os.Stat(backup); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v; want mode 0600", info, err)
	}
	lines := readLines(t, backup)
	if len(lines) != 1503 {
		t.Fatalf("backup has %d lines, want 1503", len(lines))
	}
	assertOldestFirst(t, lines)

	dst := siteRoot(t, nil)
	imp := []string{"import", "--config", podConfig, "--root", dst, "--site", "shop", "-i", backup}
	code, out, errOut = runCmd(ctx, nil, imp...)
	if code != exitOK || strings.TrimSpace(out) != `{"site":"shop","read":1503,"inserted":1503,"skipped":0,"suppressed":0}` {
		t.Fatalf("import into an empty store: exit %d, stdout %q\n%s", code, out, errOut)
	}
	again := filepath.Join(dir, "again.ndjson")
	if code, _, errOut := runCmd(ctx, nil, "export", "--config", podConfig, "--root", dst, "--site", "shop", "-o", again); code != exitOK {
		t.Fatalf("export of the restored store: exit %d\n%s", code, errOut)
	}
	a, b := mustRead(t, backup), mustRead(t, again)
	if !bytes.Equal(a, b) {
		t.Errorf("the restored store exports another file (%d bytes, want %d)", len(b), len(a))
	}

	code, out, errOut = runCmd(ctx, nil, imp...)
	if code != exitOK || strings.TrimSpace(out) != `{"site":"shop","read":1503,"inserted":0,"skipped":1503,"suppressed":0}` {
		t.Fatalf("second import: exit %d, stdout %q\n%s", code, out, errOut)
	}
}

// TestExportOnePerson: a subject access request's export holds that
// person's events and no one else's.
func TestExportOnePerson(t *testing.T) {
	src := siteRoot(t, exportFixture())
	for _, tc := range []struct {
		name string
		args []string
		want int
		keep func(event.Event) bool
	}{
		{"visitor", []string{"--visitor-id", "v-bob"}, 501, func(e event.Event) bool { return e.VisitorID == "v-bob" }},
		{"user", []string{"--user-id", "u-alice"}, 1, func(e event.Event) bool { return e.UserID == "u-alice" }},
		{"visitor in a range", []string{"--visitor-id", "v-alice", "--from", "2026-10-30T23:30:00Z", "--to", "2026-10-31"}, 0,
			func(e event.Event) bool {
				return e.VisitorID == "v-alice" && !e.ReceivedAt.Before(time.Date(2026, 10, 30, 23, 30, 0, 0, time.UTC)) &&
					e.ReceivedAt.Before(time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"export", "--config", podConfig, "--root", src, "--site", "shop"}, tc.args...)
			code, out, errOut := runCmd(context.Background(), nil, args...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s", code, errOut)
			}
			evs := decodeLines(t, strings.Split(strings.TrimSpace(out), "\n"))
			want := 0
			for _, e := range exportFixture() {
				if e.Site == "shop" && tc.keep(e) {
					want++
				}
			}
			if tc.want != 0 && want != tc.want {
				t.Fatalf("fixture has %d such events, test expects %d", want, tc.want)
			}
			if len(evs) != want || want == 0 {
				t.Fatalf("export has %d events, want %d (and more than none)", len(evs), want)
			}
			for _, e := range evs {
				if !tc.keep(e) {
					t.Errorf("export holds %s of visitor %q user %q at %v", e.EventID, e.VisitorID, e.UserID, e.ReceivedAt)
				}
			}
		})
	}
}

// TestExportCSV: a header naming every field, a row per event, nested
// fields as JSON, formulas defused, negative values left numbers.
func TestExportCSV(t *testing.T) {
	src := siteRoot(t, exportFixture())
	code, out, errOut := runCmd(context.Background(), nil, "export", "--config", podConfig, "--root", src, "--site", "shop", "--visitor-id", "v-bob", "--format", "csv")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 502 || strings.Join(rows[0], ",") != strings.Join(eventfile.CSVHeader, ",") {
		t.Fatalf("%d rows, header %v: want 502 and %v", len(rows), rows[0], eventfile.CSVHeader)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var refund []string
	for _, r := range rows[1:] {
		if r[col["event_id"]] == "bob-refund" {
			refund = r
		}
	}
	if refund == nil {
		t.Fatal("no row for bob-refund")
	}
	if got := refund[col["name"]]; got != `'=HYPERLINK("http://evil")` {
		t.Errorf("name %q: want the formula defused", got)
	}
	if got := refund[col["value"]]; got != "-40" {
		t.Errorf("value %q, want -40", got)
	}
	var user event.User
	if err := json.Unmarshal([]byte(refund[col["user"]]), &user); err != nil || user.EmailSHA256 == "" {
		t.Errorf("user cell %q (%v): want the hashed matching data as JSON", refund[col["user"]], err)
	}
}

// TestImportRefuses: a bad line stops the import with its line number and
// exit 2, after storing the lines before it; another site's event is such
// a line.
func TestImportRefuses(t *testing.T) {
	good := func(id string) string {
		b, _ := json.Marshal(storetest.Full("shop", id, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)))
		return string(b)
	}
	other, _ := json.Marshal(storetest.Full("other", "x", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)))
	for _, tc := range []struct {
		name, file string
		want       []string
		summary    string
	}{
		{"another site", good("a") + "\n" + string(other) + "\n" + good("b") + "\n",
			[]string{"line 2:", `event "x" is of site "other", not "shop"`, "the events before it are stored"},
			`{"site":"shop","read":1,"inserted":1,"skipped":0,"suppressed":0}`},
		{"not an event", good("a") + "\n" + good("b") + "\n\n" + "id,name\n",
			[]string{"line 4:", "not a JSON object"}, `{"site":"shop","read":2,"inserted":2,"skipped":0,"suppressed":0}`},
		{"a misspelt field", strings.Replace(good("a"), `"visitor_id"`, `"visitorid"`, 1) + "\n",
			[]string{"line 1:", `unknown field "visitorid"`}, `{"site":"shop","read":0,"inserted":0,"skipped":0,"suppressed":0}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := siteRoot(t, nil)
			file := writeFile(t, filepath.Join(t.TempDir(), "in.ndjson"), tc.file)
			code, out, errOut := runCmd(context.Background(), nil, "import", "--config", podConfig, "--root", root, "--site", "shop", "-i", file)
			if code != exitUsage || strings.TrimSpace(out) != tc.summary {
				t.Fatalf("exit %d, stdout %q; want %d and %s\n%s", code, out, exitUsage, tc.summary, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

// TestExportImportUsage: wrong flags are exit 2 with a reason, before any
// store is touched; an export never creates a database.
func TestExportImportUsage(t *testing.T) {
	root := siteRoot(t, nil)
	base := []string{"--config", podConfig, "--root", root}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"export without site", []string{"export"}, "--site is required"},
		{"import without site", []string{"import"}, "--site is required"},
		{"two people", []string{"export", "--site", "shop", "--visitor-id", "a", "--user-id", "b"}, "exclude each other"},
		{"bad format", []string{"export", "--site", "shop", "--format", "xlsx"}, `format "xlsx" is not ndjson or csv`},
		{"bad from", []string{"export", "--site", "shop", "--from", "last week"}, `--from "last week" is not RFC 3339`},
		{"range backwards", []string{"export", "--site", "shop", "--from", "2026-11-02", "--to", "2026-11-01"}, "ends"},
		{"another site", []string{"export", "--site", "blog"}, `--site "blog" is not the site of`},
		{"import of a missing file", []string{"import", "--site", "shop", "-i", filepath.Join(root, "nope.ndjson")}, "no such file"},
		{"import without stdin", []string{"import", "--site", "shop"}, "there is none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{tc.args[0]}, append(base, tc.args[1:]...)...)
			code, out, errOut := runCmd(context.Background(), nil, args...)
			if code != exitUsage || out != "" || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", code, out, errOut, exitUsage, tc.want)
			}
		})
	}
	code, _, errOut := runCmd(context.Background(), nil, "export", "--config", podConfig, "--root", root, "--site", "shop")
	if code != exitFailure || !strings.Contains(errOut, "no database at") {
		t.Errorf("export of a store that does not exist: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/trackstack/events.db")); !os.IsNotExist(err) {
		t.Errorf("export created a database: %v", err)
	}
}

// TestImportStdinIntoStandalone: standalone's files and data directory
// name the store, and - reads stdin.
func TestImportStdinIntoStandalone(t *testing.T) {
	dir := t.TempDir()
	site := writeFile(t, filepath.Join(dir, "config", "site.yaml"),
		"apiVersion: trackstack.dev/v1alpha1\nkind: TrackingSite\nmetadata: {name: shop}\nspec: {domains: [shop.example.com]}\n")
	data := filepath.Join(dir, "data")
	var in bytes.Buffer
	var want []string
	for _, e := range exportFixture() {
		if e.Site == "shop" && e.VisitorID == "v-carol" {
			b, _ := json.Marshal(e)
			in.Write(append(b, '\n'))
			want = append(want, e.EventID)
		}
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"import", "-f", site, "--data", data, "--site", "shop"},
		&env{stdin: &in, stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }})
	if code != exitOK || !strings.Contains(out.String(), fmt.Sprintf(`"inserted":%d`, len(want))) {
		t.Fatalf("import: exit %d, stdout %q\n%s", code, out.String(), errOut.String())
	}
	code, got, errText := runCmd(context.Background(), nil, "export", "-f", filepath.Dir(site), "--data", data, "--site", "shop")
	if code != exitOK || strings.Count(got, "\n") != len(want) {
		t.Fatalf("export: exit %d, %d lines, want %d\n%s", code, strings.Count(got, "\n"), len(want), errText)
	}
	code, _, errText = runCmd(context.Background(), nil, "export", "-f", site, "--data", data, "--site", "blog")
	if code != exitUsage || !strings.Contains(errText, `--site "blog" is not a TrackingSite of the files (they have: [shop])`) {
		t.Errorf("export of a site not in the files: exit %d, %q", code, errText)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(mustRead(t, path)))
	sc.Buffer(nil, eventfile.MaxLine)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func decodeLines(t *testing.T, lines []string) []event.Event {
	t.Helper()
	var out []event.Event
	for i, l := range lines {
		if l == "" {
			continue
		}
		var e event.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		out = append(out, e)
	}
	return out
}

func assertOldestFirst(t *testing.T, lines []string) {
	t.Helper()
	evs := decodeLines(t, lines)
	for i := 1; i < len(evs); i++ {
		if evs[i].ReceivedAt.Before(evs[i-1].ReceivedAt) {
			t.Fatalf("line %d (%v) is older than line %d (%v)", i+1, evs[i].ReceivedAt, i, evs[i-1].ReceivedAt)
		}
		if evs[i].Site != "shop" {
			t.Fatalf("line %d is of site %q", i+1, evs[i].Site)
		}
	}
}

// TestImportLeavesOutSuppressedPeople: a person erased on request who
// asked not to be tracked again stays erased when an older backup is
// imported; everyone else is restored.
func TestImportLeavesOutSuppressedPeople(t *testing.T) {
	ctx := context.Background()
	src := siteRoot(t, exportFixture())
	backup := filepath.Join(t.TempDir(), "shop.ndjson")
	if code, _, errOut := runCmd(ctx, nil, "export", "--config", podConfig, "--root", src, "--site", "shop", "-o", backup); code != exitOK {
		t.Fatalf("export: exit %d\n%s", code, errOut)
	}
	dst := siteRoot(t, []event.Event{})
	st, err := sqlite.Open(ctx, filepath.Join(dst, "var/lib/trackstack/events.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	id, err := st.RequestErasure(ctx, store.ErasureRequest{Site: "shop", RequestedAt: now, RequestedBy: "admin", KeyKind: store.KeyVisitorID, Key: "v-bob", Suppress: true})
	if err == nil {
		_, err = st.RunErasure(ctx, "shop", id, now, false)
	}
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(ctx, nil, "import", "--config", podConfig, "--root", dst, "--site", "shop", "-i", backup)
	if code != exitOK || strings.TrimSpace(out) != `{"site":"shop","read":1503,"inserted":1002,"skipped":0,"suppressed":501}` {
		t.Fatalf("import: exit %d, stdout %q\n%s", code, out, errOut)
	}
	code, out, _ = runCmd(ctx, nil, "export", "--config", podConfig, "--root", dst, "--site", "shop", "--visitor-id", "v-bob")
	if code != exitOK || out != "" {
		t.Errorf("the suppressed visitor's export: exit %d, %d bytes; want none", code, len(out))
	}
}
