package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCollectorStalledBodiesHoldNothing: 200 clients that declare a body
// and never send it get their answer at once (no key: 401; health: 200),
// and SIGTERM still ends the real collector with exit code 0.
func TestCollectorStalledBodiesHoldNothing(t *testing.T) {
	bin := trackstackBin.get(t)
	dsn := pg.NewDatabase(t)
	site := sampleSite(t)
	p, _ := startCollect(t, bin, site, dsn)
	waitUntil(t, "the collector never became ready", func() bool { return readyz(p.url) == http.StatusOK })
	addr := strings.TrimPrefix(p.url, "http://")

	for i := range 200 {
		path, want := "/v1/events", http.StatusUnauthorized
		if i%4 == 0 {
			path, want = "/healthz", http.StatusOK
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", path)
		// Only a safety net: the answer needs no body and comes at once.
		c.SetReadDeadline(time.Now().Add(time.Minute))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("connection %d: no answer before the body: %v", i, err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("connection %d to %s: %d, want %d", i, path, res.StatusCode, want)
		}
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-p.exited:
		p.exited <- err // for the cleanup
	case <-time.After(2 * time.Minute):
		t.Fatal("the collector did not exit within 2 minutes of SIGTERM")
	}
	if err != nil {
		t.Fatalf("after SIGTERM with 200 stalled bodies the collector ended with %v, want exit code 0\n%s", err, p.stderr)
	}
}
