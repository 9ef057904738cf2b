package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ServeOptions tune Serve.
type ServeOptions struct {
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Drain is called as soon as ctx ends, while the server still accepts
	// requests (Collector.Drain makes /readyz fail).
	Drain func()
	// DrainDelay keeps accepting requests that long after Drain, so load
	// balancers see /readyz fail (or the endpoint removed) before the port
	// closes. Zero closes at once.
	DrainDelay time.Duration
	// ShutdownTimeout bounds the wait for requests in flight. Default 25s,
	// inside Kubernetes' default 30s grace period.
	ShutdownTimeout time.Duration
}

// Serve serves h on ln until ctx ends, then shuts down gracefully: Drain,
// DrainDelay, stop accepting, and wait for the requests in flight to be
// answered. Handlers run on their own contexts, so a request in flight is
// not cut short by ctx. It returns nil after a clean shutdown.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, o ServeOptions) error {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	timeout := o.ShutdownTimeout
	if timeout <= 0 {
		timeout = 25 * time.Second
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("while serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining", "drain_delay", o.DrainDelay.String())
	if o.Drain != nil {
		o.Drain()
	}
	if o.DrainDelay > 0 {
		time.Sleep(o.DrainDelay)
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		srv.Close()
		return fmt.Errorf("while waiting for requests in flight: %w", err)
	}
	log.Info("http server stopped")
	return nil
}
