package main

import (
	"bufio"
	"strings"
	"testing"
)

// Streams as go test -json writes them (recorded from go 1.26, trimmed of
// the Time and Elapsed fields, which the report ignores).
const (
	passingPackage = `{"Action":"start","Package":"m/a"}
{"Action":"output","Package":"m/a","Output":"what TestMain logged\n"}
{"Action":"run","Package":"m/a","Test":"TestPass"}
{"Action":"output","Package":"m/a","Test":"TestPass","Output":"=== RUN   TestPass\n"}
{"Action":"output","Package":"m/a","Test":"TestPass","Output":"    a_test.go:4: a log line\n"}
{"Action":"output","Package":"m/a","Test":"TestPass","Output":"--- PASS: TestPass (0.00s)\n"}
{"Action":"pass","Package":"m/a","Test":"TestPass"}
{"Action":"output","Package":"m/a","Output":"PASS\n"}
{"Action":"output","Package":"m/a","Output":"ok  \tm/a\t0.009s\n"}
{"Action":"pass","Package":"m/a"}
`
	failingSubtest = `{"Action":"output","Package":"m/b","Output":"what TestMain logged\n"}
{"Action":"run","Package":"m/b","Test":"TestFail"}
{"Action":"output","Package":"m/b","Test":"TestFail","Output":"=== RUN   TestFail\n"}
{"Action":"run","Package":"m/b","Test":"TestFail/ok"}
{"Action":"output","Package":"m/b","Test":"TestFail/ok","Output":"--- PASS: TestFail/ok (0.00s)\n"}
{"Action":"pass","Package":"m/b","Test":"TestFail/ok"}
{"Action":"run","Package":"m/b","Test":"TestFail/bad"}
{"Action":"output","Package":"m/b","Test":"TestFail/bad","Output":"=== RUN   TestFail/bad\n"}
{"Action":"output","Package":"m/b","Test":"TestFail/bad","Output":"    b_test.go:5: got 1, want 2\n"}
{"Action":"output","Package":"m/b","Test":"TestFail/bad","Output":"--- FAIL: TestFail/bad (0.00s)\n"}
{"Action":"fail","Package":"m/b","Test":"TestFail/bad"}
{"Action":"output","Package":"m/b","Test":"TestFail","Output":"--- FAIL: TestFail (0.00s)\n"}
{"Action":"fail","Package":"m/b","Test":"TestFail"}
{"Action":"output","Package":"m/b","Output":"FAIL\n"}
{"Action":"output","Package":"m/b","Output":"FAIL\tm/b\t0.015s\n"}
{"Action":"fail","Package":"m/b"}
`
	brokenBuild = `{"ImportPath":"m/c [m/c.test]","Action":"build-output","Output":"# m/c [m/c.test]\n"}
{"ImportPath":"m/c [m/c.test]","Action":"build-output","Output":"c/c.go:2:12: undefined: x\n"}
{"ImportPath":"m/c [m/c.test]","Action":"build-fail"}
{"Action":"output","Package":"m/c","Output":"FAIL\tm/c [build failed]\n"}
{"Action":"fail","Package":"m/c","FailedBuild":"m/c [m/c.test]"}
`
	// Two tests skip for one reason (from different lines), one for
	// another, after logging something else first.
	skippingPackage = `{"Action":"run","Package":"github.com/trackstack/trackstack/d","Test":"TestPG"}
{"Action":"output","Package":"github.com/trackstack/trackstack/d","Test":"TestPG","Output":"    d_test.go:3: needs PostgreSQL\n"}
{"Action":"output","Package":"github.com/trackstack/trackstack/d","Test":"TestPG","Output":"--- SKIP: TestPG (0.00s)\n"}
{"Action":"skip","Package":"github.com/trackstack/trackstack/d","Test":"TestPG"}
{"Action":"run","Package":"github.com/trackstack/trackstack/d","Test":"TestBrowser"}
{"Action":"output","Package":"github.com/trackstack/trackstack/d","Test":"TestBrowser","Output":"    d_test.go:8: starting\n"}
{"Action":"output","Package":"github.com/trackstack/trackstack/d","Test":"TestBrowser","Output":"    browser.go:40: needs Chromium\n"}
{"Action":"output","Package":"github.com/trackstack/trackstack/d","Test":"TestBrowser","Output":"        (second line of the message)\n"}
{"Action":"skip","Package":"github.com/trackstack/trackstack/d","Test":"TestBrowser"}
{"Action":"run","Package":"github.com/trackstack/trackstack/d","Test":"TestPG2"}
{"Action":"output","Package":"github.com/trackstack/trackstack/d","Test":"TestPG2","Output":"    d_test.go:12: needs PostgreSQL\n"}
{"Action":"skip","Package":"github.com/trackstack/trackstack/d","Test":"TestPG2"}
{"Action":"run","Package":"github.com/trackstack/trackstack/d","Test":"TestGo"}
{"Action":"pass","Package":"github.com/trackstack/trackstack/d","Test":"TestGo"}
{"Action":"output","Package":"github.com/trackstack/trackstack/d","Output":"ok  \tgithub.com/trackstack/trackstack/d\t0.010s\n"}
{"Action":"pass","Package":"github.com/trackstack/trackstack/d"}
`
)

func TestReport(t *testing.T) {
	cases := []struct {
		name, in   string
		wantOut    string
		wantFailed bool
		wantSkips  string // the skip list with allowed skips
	}{
		{name: "passing package prints its verdict only, not what TestMain logged", in: passingPackage,
			wantOut: "ok  \tm/a\t0.009s\n"},
		{name: "failing subtest printed as plain go test prints it", in: failingSubtest, wantFailed: true,
			wantOut: "what TestMain logged\n--- FAIL: TestFail (0.00s)\n    --- FAIL: TestFail/bad (0.00s)\n        b_test.go:5: got 1, want 2\nFAIL\nFAIL\tm/b\t0.015s\n"},
		{name: "build failure", in: brokenBuild, wantFailed: true,
			wantOut: "# m/c [m/c.test]\nc/c.go:2:12: undefined: x\nFAIL\tm/c [build failed]\n"},
		{name: "go command lines pass through", in: "go: downloading example.com/x v1.0.0\n" + passingPackage,
			wantOut: "go: downloading example.com/x v1.0.0\nok  \tm/a\t0.009s\n"},
		{name: "cut off: what a running package printed is shown", in: "{\"Action\":\"output\",\"Package\":\"m/e\",\"Output\":\"panic: test timed out\\n\"}\n",
			wantOut: "panic: test timed out\n"},
		{name: "package without tests", in: "{\"Action\":\"output\",\"Package\":\"m/f\",\"Output\":\"?   \\tm/f\\t[no test files]\\n\"}\n{\"Action\":\"skip\",\"Package\":\"m/f\"}\n",
			wantOut: "?   \tm/f\t[no test files]\n"},
		{name: "skips grouped by reason", in: skippingPackage,
			wantOut: "ok  \tgithub.com/trackstack/trackstack/d\t0.010s\n",
			wantSkips: "== left out by go test -short: 3 of 4 tests (subtests counted)\n" +
				"      2  needs PostgreSQL\n         d.TestPG, d.TestPG2\n" +
				"      1  needs Chromium\n         d.TestBrowser\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			r := newReport(&out)
			if err := r.read(bufio.NewReader(strings.NewReader(tc.in))); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.wantOut {
				t.Errorf("output:\n%s\nwant:\n%s", out.String(), tc.wantOut)
			}
			if r.failed != tc.wantFailed {
				t.Errorf("failed = %v, want %v", r.failed, tc.wantFailed)
			}
			var skips strings.Builder
			if err := r.writeSkips(&skips, true); err != nil {
				t.Fatal(err)
			}
			if skips.String() != tc.wantSkips {
				t.Errorf("skips:\n%s\nwant:\n%s", skips.String(), tc.wantSkips)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	got := wrap([]string{"aaaa", "bbbb", "cccc", "a-very-long-name"}, 12)
	want := []string{"aaaa, bbbb,", "cccc,", "a-very-long-name"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("wrap = %q, want %q", got, want)
	}
}

// Without -allow-skips (a full make test) the list says the skips fail the run.
func TestSkipsNotAllowed(t *testing.T) {
	r := newReport(&strings.Builder{})
	if err := r.read(bufio.NewReader(strings.NewReader(skippingPackage))); err != nil {
		t.Fatal(err)
	}
	var skips strings.Builder
	if err := r.writeSkips(&skips, false); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(skips.String(), "== FAIL: 3 of 4 tests skipped") {
		t.Errorf("skip list without -allow-skips:\n%s", skips.String())
	}
	if r.passed(false) {
		t.Error("a run with skipped tests passed without -allow-skips")
	}
	if !r.passed(true) {
		t.Error("a run whose only problem is skips failed with -allow-skips")
	}
}
