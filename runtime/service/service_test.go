package service

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/store"
)

// TestServeAnswersRequestsInFlight shuts the server down while a request
// is being handled: the request is answered, then Serve returns nil.
func TestServeAnswersRequestsInFlight(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(context.Background())
	drained := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, ln, h, ServeOptions{Drain: func() { close(drained) }})
	}()
	answer := make(chan string, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			answer <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		answer <- string(b)
	}()
	<-entered
	cancel()
	<-drained
	close(release)
	if a := <-answer; a != "done" {
		t.Errorf("request in flight got %q", a)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}

func TestOpenStoreErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	secret := filepath.Join(dir, "uri")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secret, []byte("postgres://u:s3cret-pw@host:bad-port/db"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		s    config.Storage
		want string
	}{
		{"missing dsn file", config.Storage{Driver: config.DriverPostgres, DSNFile: filepath.Join(dir, "nope")}, "reading the PostgreSQL URI"},
		{"empty dsn file", config.Storage{Driver: config.DriverPostgres, DSNFile: empty}, "is empty"},
		{"bad dsn", config.Storage{Driver: config.DriverPostgres, DSNFile: secret}, "URI from " + secret},
		{"unknown driver", config.Storage{Driver: "mysql"}, `"mysql" is not`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenStore(context.Background(), tc.s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// flakyStore fails Migrate as unavailable a few times.
type flakyStore struct {
	store.Store
	failures int
	calls    int
	err      error
}

func (f *flakyStore) Migrate(context.Context) error {
	f.calls++
	if f.calls <= f.failures {
		return f.err
	}
	return nil
}

func TestMigrateRetriesOnlyWhileUnavailable(t *testing.T) {
	f := &flakyStore{failures: 1, err: store.ErrUnavailable}
	if err := Migrate(context.Background(), f, nil); err != nil || f.calls != 2 {
		t.Errorf("after an outage: %v, %d calls", err, f.calls)
	}
	f = &flakyStore{failures: 5, err: errors.New("syntax error")}
	if err := Migrate(context.Background(), f, nil); err == nil || f.calls != 1 {
		t.Errorf("a broken migration: %v, %d calls (want no retry)", err, f.calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f = &flakyStore{failures: 5, err: store.ErrUnavailable}
	if err := Migrate(ctx, f, nil); err == nil || f.calls != 1 {
		t.Errorf("with ctx done: %v, %d calls", err, f.calls)
	}
}
