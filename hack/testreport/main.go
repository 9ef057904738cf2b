// Command testreport reads `go test -json` on stdin and prints what plain
// `go test` prints (each package's verdict, and the output of failing tests),
// and lists the tests that were skipped, grouped by the reason they gave.
// hack/test.sh (`make test`) runs go test through it.
//
//	go test -json ./... | go run ./hack/testreport -skipped FILE [-allow-skips]
//
// It exits 1 when a package or test failed, when a build failed, or, unless
// -allow-skips is given, when a test was skipped: `make test` installs every
// dependency first, so a skip there means a test that did not run.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	skippedPath := flag.String("skipped", "", "write the list of skipped tests to this file (none: to stderr)")
	allowSkips := flag.Bool("allow-skips", false, "skipped tests do not fail the run (go test -short leaves tests out on purpose)")
	flag.Parse()

	r := newReport(os.Stdout)
	if err := r.read(bufio.NewReader(os.Stdin)); err != nil {
		fmt.Fprintf(os.Stderr, "testreport: while reading go test -json: %v\n", err)
		os.Exit(1)
	}
	if err := writeSkipped(*skippedPath, r, *allowSkips); err != nil {
		fmt.Fprintf(os.Stderr, "testreport: %v\n", err)
		os.Exit(1)
	}
	if !r.passed(*allowSkips) {
		os.Exit(1)
	}
}

func writeSkipped(path string, r *report, allowSkips bool) error {
	var w io.Writer = os.Stderr
	if path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("while opening %s: %w", path, err)
		}
		defer f.Close()
		w = f
	}
	if err := r.writeSkips(w, allowSkips); err != nil {
		return fmt.Errorf("while writing the skipped tests: %w", err)
	}
	return nil
}
