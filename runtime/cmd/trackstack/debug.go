package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/trackstack/trackstack/runtime/service"
)

// serveDebug serves Go's profiler on its own listener until ctx ends, apart
// from the public endpoints, so an SRE can profile a collector under load
// without publishing it.
func serveDebug(ctx context.Context, log *slog.Logger, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		// A CPU profile takes as long as it is asked to: no write timeout
		// shorter than a useful profile.
		err := service.Serve(ctx, ln, mux, service.ServeOptions{Logger: log.With("listener", "debug"), WriteTimeout: 5 * time.Minute})
		if err != nil {
			log.Warn("profiler server", "err", err)
		}
	}()
	return nil
}
