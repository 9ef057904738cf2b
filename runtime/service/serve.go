package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// ServeOptions tune Serve.
type ServeOptions struct {
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Drain is called as soon as ctx ends, while the server still accepts
	// requests (e.g. to make /readyz fail).
	Drain func()
	// DrainDelay keeps accepting requests that long after Drain, so load
	// balancers see /readyz fail (or the endpoint removed) before the port
	// closes. Zero closes at once.
	DrainDelay time.Duration
	// ShutdownTimeout bounds the wait for requests in flight. Default 25s,
	// inside Kubernetes' default 30s grace period.
	ShutdownTimeout time.Duration
	// ReadHeaderTimeout bounds reading a request's headers. Default 10s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included, also when
	// the handler answered without reading the body (the server then
	// discards the rest): a client that declares a body and never sends it
	// holds its connection no longer than this. A handler may set a shorter
	// deadline of its own. Default 15s.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the end
	// of its answer, so a client that never reads cannot hold a handler.
	// Default 30s.
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle this long. Default 2m.
	IdleTimeout time.Duration
}

func (o *ServeOptions) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	setDefault(&o.ShutdownTimeout, 25*time.Second)
	setDefault(&o.ReadHeaderTimeout, 10*time.Second)
	setDefault(&o.ReadTimeout, 15*time.Second)
	setDefault(&o.WriteTimeout, 30*time.Second)
	setDefault(&o.IdleTimeout, 2*time.Minute)
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// Serve serves h on ln until ctx ends, then shuts down gracefully: Drain,
// DrainDelay, stop accepting, and wait for the requests in flight to be
// answered. Handlers run on their own contexts, so a request in flight is
// not cut short by ctx. It returns nil after a clean shutdown: every request
// that reached a handler was answered. Connections that hold no running
// handler (a client still owing the body of a request already answered)
// are closed at the shutdown timeout without making it an error.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, o ServeOptions) error {
	o.defaults()
	log := o.Logger
	var running atomic.Int64
	guarded := closeUnreadBodies(h)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			running.Add(1)
			defer running.Add(-1)
			guarded.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
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
	sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) && running.Load() == 0 {
		log.Info("closing connections that hold no request in flight")
		err = nil
	}
	if err != nil {
		err = fmt.Errorf("%d requests still in flight: %w", running.Load(), err)
	}
	srv.Close()
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("while waiting for requests in flight: %w", err)
	}
	log.Info("http server stopped")
	return nil
}
