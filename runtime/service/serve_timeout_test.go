package service

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// answerEarly answers 401 without reading the body, as an authentication
// failure, a rate limit or a health check does.
var answerEarly = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "no", http.StatusUnauthorized)
})

// sendHeadersOnly opens n connections that each send a request declaring
// a body it never sends, and reads the answer.
func sendHeadersOnly(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
		// The safety net only turns a hang into a failure: the answer is
		// expected at once, since the handler needs no body to give it.
		c.SetReadDeadline(time.Now().Add(time.Minute))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("no answer before the body: %v", err)
		}
		res.Body.Close()
		conns = append(conns, c)
	}
	return conns
}

func serveInBackground(t *testing.T, h http.Handler, o ServeOptions) (addr string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, h, o) }()
	return ln.Addr().String(), func() error { cancel(); return <-served }
}

// TestServeClosesConnectionsWhoseBodyNeverArrives: an answer given before
// the body comes at once and closes the connection, instead of waiting (with
// a goroutine) for a body the client may never send. The read timeout is
// long, so only the early close can pass this.
func TestServeClosesConnectionsWhoseBodyNeverArrives(t *testing.T) {
	addr, stop := serveInBackground(t, answerEarly, ServeOptions{ReadTimeout: time.Hour, ShutdownTimeout: time.Minute})
	for i, c := range sendHeadersOnly(t, addr, 50) {
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Fatalf("connection %d was never closed by the server: %v", i, err)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// TestServeTimesOutBodiesThatStall: a handler that reads part of a body
// waits no longer than the read timeout for the rest.
func TestServeTimesOutBodiesThatStall(t *testing.T) {
	readErr := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
		http.Error(w, "body read failed", http.StatusRequestTimeout)
	})
	addr, stop := serveInBackground(t, h, ServeOptions{ReadTimeout: 200 * time.Millisecond, ShutdownTimeout: time.Minute})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"half\":")
	if err := <-readErr; err == nil {
		t.Fatal("the handler read a body that never completed without error")
	}
	if err := stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// TestServeShutdownIsCleanWithStalledBodies: SIGTERM with 200 clients that
// declared bodies they never send ends cleanly: no request is lost.
func TestServeShutdownIsCleanWithStalledBodies(t *testing.T) {
	addr, stop := serveInBackground(t, answerEarly, ServeOptions{ReadTimeout: time.Hour, ShutdownTimeout: 5 * time.Second})
	sendHeadersOnly(t, addr, 200)
	if err := stop(); err != nil {
		t.Errorf("shutdown with 200 stalled bodies and no request in flight: %v", err)
	}
}

// TestServeShutdownReportsRequestsCutShort: a handler still running at the
// shutdown timeout is an error, so the exit code tells a lost answer.
func TestServeShutdownReportsRequestsCutShort(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})
	addr, stop := serveInBackground(t, h, ServeOptions{ShutdownTimeout: 300 * time.Millisecond})
	go http.Get("http://" + addr + "/") //nolint:errcheck // answered or cut; only the handler matters
	<-entered
	err := stop()
	if err == nil || !strings.Contains(err.Error(), "1 requests still in flight") {
		t.Errorf("shutdown with a handler still running: %v, want an error naming it", err)
	}
}
