package hack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPhasesSummary runs hack/phases.sh as .ci/run uses it, with make test
// (another user of it) as one of its phases: one summary at the end, the
// inner run's phases in it under the outer phase's name, the failing phase
// marked, and go test's verdicts listed once, after the timings.
func TestPhasesSummary(t *testing.T) {
	lib := scriptPath(t, "phases.sh")
	dir := t.TempDir()
	inner := filepath.Join(dir, "inner.sh")
	writeFile(t, inner, `set -euo pipefail
source `+lib+`
phases_begin "make test"
phase vet true
verdicts() { printf 'ok  \tm/a\t0.1s\n--- FAIL: TestB (0.00s)\nFAIL\tm/b\t0.2s\n' | tee -a "${PHASES_DIR}/test.log"; return 1; }
phase "go test" verdicts
`, 0o755)
	outer := filepath.Join(dir, "outer.sh")
	writeFile(t, outer, `set -euo pipefail
source `+lib+`
phases_begin .ci/run
phase verify true
phase test bash `+inner+`
phase never-reached true
`, 0o755)

	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PHASES_") { // when make test runs this test
			env = append(env, kv)
		}
	}
	out, code := run(t, os.Geteuid() == 0, env, "bash", outer)
	if code == 0 {
		t.Errorf("the run passed though a phase failed:\n%s", out)
	}
	if n := strings.Count(out, "timings\n"); n != 1 {
		t.Errorf("%d summaries, want 1 (the outer run's):\n%s", n, out)
	}
	summary := out[strings.Index(out, "== .ci/run timings"):]
	for _, want := range []string{
		"   verify ", "   test/vet ", "   test/go test ", "FAILED (exit 1)", "   total ",
		"== go test results\nok  \tm/a\t0.1s\n--- FAIL: TestB (0.00s)\nFAIL\tm/b\t0.2s\n",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	for _, line := range strings.Split(summary, "\n") {
		if strings.HasPrefix(line, "   test/go test") != strings.Contains(line, "FAILED") && strings.HasPrefix(line, "   test/") {
			t.Errorf("only the failing inner phase should read FAILED: %q", line)
		}
	}
	if !strings.Contains(summary, "   test ") || !strings.Contains(summary[strings.Index(summary, "   test "):], "FAILED") {
		t.Errorf("the outer phase running make test is not marked FAILED:\n%s", summary)
	}
	if strings.Contains(out, "never-reached") {
		t.Errorf("a phase after the failure ran:\n%s", out)
	}
	if strings.Index(summary, "timings") > strings.Index(summary, "== go test results") {
		t.Errorf("verdicts before the timings:\n%s", summary)
	}
}
