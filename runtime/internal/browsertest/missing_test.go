package browsertest

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how a test ended.
type recorder struct {
	testing.TB
	how, msg string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.how, r.msg = "skip", fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.how, r.msg = "fatal", fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestMissingChromium checks that without Chromium a browser test fails,
// saying how to install it, whoever runs it (the CI variable makes no
// difference); only go test -short skips it, saying why.
func TestMissingChromium(t *testing.T) {
	want, wantMsg := "fatal", "sudo hack/install-test-deps.sh"
	if testing.Short() {
		want, wantMsg = "skip", "left out by go test -short"
	}
	for _, ci := range []string{"true", ""} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			r := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				requireChromium(r, filepath.Join(t.TempDir(), "chromium"))
			}()
			<-done
			if r.how != want {
				t.Errorf("test ended by %q, want %q (go test -short: %v)", r.how, want, testing.Short())
			}
			if !strings.Contains(r.msg, wantMsg) {
				t.Errorf("message %q does not contain %q", r.msg, wantMsg)
			}
		})
	}
}
