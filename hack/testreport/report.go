package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// test is what one test printed, kept until it ends: a failing top-level
// test is printed with its failing subtests, as plain go test prints it.
type test struct {
	result   string // the "--- FAIL: name (1.00s)" line
	lines    []string
	children []*test
	failed   bool
}

// skip is one skipped test and the reason it gave.
type skip struct {
	pkg, test, reason string
}

// report renders a go test -json stream and collects its skips.
type report struct {
	out    io.Writer
	tests  map[string]*test         // by package + "\x00" + test name, while running
	held   map[string]*bytes.Buffer // a running package's output, until its verdict
	skips  []skip
	ran    int // tests that ended: passed, failed or skipped
	failed bool
}

func newReport(out io.Writer) *report {
	return &report{out: out, tests: map[string]*test{}, held: map[string]*bytes.Buffer{}}
}

func (r *report) read(in *bufio.Reader) error {
	for {
		line, err := in.ReadString('\n')
		if line != "" {
			r.line(line)
		}
		if err == io.EOF {
			r.flushAll() // go test was cut off: show what it printed
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// line handles one input line. Lines that are not JSON (the go command's
// own messages, e.g. "go: downloading ...") are printed as they are.
func (r *report) line(line string) {
	var e event
	if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &e) != nil {
		r.print(line)
		return
	}
	switch {
	case e.Action == "build-output":
		r.print(e.Output)
	case e.Action == "build-fail":
		r.failed = true
	case e.Test == "":
		r.packageEvent(e)
	default:
		r.testEvent(e)
	}
}

// packageEvent holds a package's output until its verdict: plain go test
// shows all of it for a failing package, and only the "ok" line for a
// passing one (not, say, what TestMain logged).
func (r *report) packageEvent(e event) {
	switch e.Action {
	case "output":
		r.hold(e.Package).WriteString(e.Output)
	case "pass":
		for _, l := range strings.SplitAfter(r.release(e.Package), "\n") {
			if strings.HasPrefix(l, "ok ") {
				r.print(l)
			}
		}
	case "fail":
		r.failed = true
		r.print(r.release(e.Package))
	case "skip": // no test files
		r.print(r.release(e.Package))
	}
}

func (r *report) hold(pkg string) *bytes.Buffer {
	b := r.held[pkg]
	if b == nil {
		b = &bytes.Buffer{}
		r.held[pkg] = b
	}
	return b
}

func (r *report) release(pkg string) string {
	b := r.held[pkg]
	delete(r.held, pkg)
	if b == nil {
		return ""
	}
	return b.String()
}

func (r *report) flushAll() {
	pkgs := make([]string, 0, len(r.held))
	for p := range r.held {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		r.print(r.release(p))
	}
}

func (r *report) testEvent(e event) {
	key := e.Package + "\x00" + e.Test
	switch e.Action {
	case "run":
		t := &test{}
		r.tests[key] = t
		if parent := r.parent(e.Package, e.Test); parent != nil {
			parent.children = append(parent.children, t)
		}
	case "output":
		t := r.tests[key]
		if t == nil { // output of a test that never reported "run"
			t = &test{}
			r.tests[key] = t
		}
		t.add(e.Output)
	case "pass", "fail", "skip":
		r.ran++
		t := r.tests[key]
		delete(r.tests, key)
		if t == nil {
			t = &test{}
		}
		if e.Action == "skip" {
			r.skips = append(r.skips, skip{pkg: e.Package, test: e.Test, reason: t.skipReason()})
		}
		if e.Action == "fail" {
			t.failed = true
			r.failed = true
			if !strings.Contains(e.Test, "/") {
				t.write(r.hold(e.Package), 0)
			}
		}
	}
}

// parent finds the running test that name is a subtest of.
func (r *report) parent(pkg, name string) *test {
	for i := strings.LastIndexByte(name, '/'); i > 0; i = strings.LastIndexByte(name[:i], '/') {
		if t := r.tests[pkg+"\x00"+name[:i]]; t != nil {
			return t
		}
	}
	return nil
}

func (r *report) print(s string) { io.WriteString(r.out, s) } //nolint:errcheck // stdout

func (t *test) add(line string) {
	trimmed := strings.TrimLeft(line, " ")
	switch {
	case strings.HasPrefix(trimmed, "=== "):
		// RUN, PAUSE, CONT, NAME: progress lines of -v, not output.
	case strings.HasPrefix(trimmed, "--- "):
		t.result = trimmed
	default:
		t.lines = append(t.lines, line)
	}
}

// write prints a failed test as plain go test does: its result line, what it
// logged, then its failed subtests, each level indented four more spaces.
func (t *test) write(w io.Writer, depth int) {
	indent := strings.Repeat("    ", depth)
	fmt.Fprint(w, indent+t.result)
	for _, l := range t.lines {
		fmt.Fprint(w, indent+l)
	}
	for _, c := range t.children {
		if c.failed {
			c.write(w, depth+1)
		}
	}
}

// logPrefix is how testing starts each logged message: "    file_test.go:12: ".
var logPrefix = regexp.MustCompile(`^\s*[^\s:]+\.go:\d+: `)

// skipReason is the last message the test logged, the one t.Skip printed;
// the file:line prefix is dropped so that skips with one cause group.
func (t *test) skipReason() string {
	for i := len(t.lines) - 1; i >= 0; i-- {
		if loc := logPrefix.FindStringIndex(t.lines[i]); loc != nil {
			return strings.TrimSpace(t.lines[i][loc[1]:])
		}
	}
	return "(no reason given)"
}

// passed reports whether the run passed: nothing failed and, unless skips
// are allowed, nothing was skipped.
func (r *report) passed(allowSkips bool) bool {
	return !r.failed && (allowSkips || len(r.skips) == 0)
}

func (r *report) writeSkips(w io.Writer, allowed bool) error {
	if len(r.skips) == 0 {
		return nil
	}
	b := bufio.NewWriter(w)
	if allowed {
		fmt.Fprintf(b, "== left out by go test -short: %d of %d tests (subtests counted)\n", len(r.skips), r.ran)
	} else {
		fmt.Fprintf(b, "== FAIL: %d of %d tests skipped; make test installs every dependency first, so each is a test that did not run\n", len(r.skips), r.ran)
	}
	for _, g := range groupByReason(r.skips) {
		fmt.Fprintf(b, "   %4d  %s\n", len(g.tests), g.reason)
		for _, l := range wrap(g.tests, 100) {
			fmt.Fprintf(b, "         %s\n", l)
		}
	}
	return b.Flush()
}

// wrap joins words with ", " into lines of at most width bytes (a longer
// word gets a line of its own).
func wrap(words []string, width int) []string {
	var lines []string
	line := ""
	for i, w := range words {
		if i < len(words)-1 {
			w += ","
		}
		switch {
		case line == "":
			line = w
		case len(line)+1+len(w) > width:
			lines = append(lines, line)
			line = w
		default:
			line += " " + w
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

type skipGroup struct {
	reason string
	tests  []string // "package.TestName", in the order they were skipped
}

// groupByReason groups skips by reason, the largest group first.
func groupByReason(skips []skip) []skipGroup {
	index := map[string]int{}
	var groups []skipGroup
	for _, s := range skips {
		i, ok := index[s.reason]
		if !ok {
			i = len(groups)
			index[s.reason] = i
			groups = append(groups, skipGroup{reason: s.reason})
		}
		groups[i].tests = append(groups[i].tests, shortPackage(s.pkg)+"."+s.test)
	}
	sort.SliceStable(groups, func(i, j int) bool { return len(groups[i].tests) > len(groups[j].tests) })
	return groups
}

// shortPackage drops the module path, which every package shares.
func shortPackage(pkg string) string {
	return strings.TrimPrefix(pkg, "github.com/trackstack/trackstack/")
}
