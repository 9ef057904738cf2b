package main

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
)

func TestServeDebugServesTheProfilerOnItsOwnAddress(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := freeAddr(t)
	if err := serveDebug(ctx, slog.New(slog.DiscardHandler), addr); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("profiler: %d", res.StatusCode)
	}
	if err := serveDebug(ctx, slog.New(slog.DiscardHandler), addr); err == nil {
		t.Error("a second profiler on a taken address did not fail")
	}
}
