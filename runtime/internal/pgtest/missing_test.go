package pgtest

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

// TestMissingBinaries checks that without the server binaries a test fails,
// saying how to install them, whoever runs it (the CI variable makes no
// difference); only go test -short skips it, saying why.
func TestMissingBinaries(t *testing.T) {
	want, wantMsg := "fatal", "sudo hack/install-test-deps.sh"
	if testing.Short() {
		want, wantMsg = "skip", "left out by go test -short"
	}
	for _, ci := range []string{"true", ""} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			s := &Server{binGlob: filepath.Join(t.TempDir(), "*", "bin")}
			r := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				s.NewDatabase(r)
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
