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

// TestMissingBinaries checks the message and the CI rule: without the
// server binaries a test fails under CI=true and is skipped elsewhere.
func TestMissingBinaries(t *testing.T) {
	for _, tt := range []struct{ ci, want string }{{"true", "fatal"}, {"", "skip"}} {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			s := &Server{binGlob: filepath.Join(t.TempDir(), "*", "bin")}
			r := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				s.NewDatabase(r)
			}()
			<-done
			if r.how != tt.want {
				t.Errorf("test ended by %q, want %q", r.how, tt.want)
			}
			if !strings.Contains(r.msg, "apt-get install postgresql") {
				t.Errorf("message %q does not say what to install", r.msg)
			}
		})
	}
}
