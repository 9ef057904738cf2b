package service

import (
	"io"
	"net/http"
	"time"
)

// closeUnreadBodies wraps h so that an answer written before the request's
// body was read closes the connection at once. Otherwise net/http, to reuse
// the connection, first waits to discard the rest of the body, before the
// answer (a 401, a 429, a health check) and again after it, and a client
// that declared a body and never sends it holds the answer back and the
// connection's goroutine until the read timeout.
func closeUnreadBodies(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		g := &bodyGuard{ResponseWriter: w, body: r.Body, want: r.ContentLength}
		r.Body = g
		h.ServeHTTP(g, r)
		if g.closing {
			// The server's discard of the rest must not wait for it.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now())
		}
	})
}

// bodyGuard is both the request body (counting what the handler reads) and
// the response writer (adding Connection: close to an answer that comes
// before the whole body was read).
type bodyGuard struct {
	http.ResponseWriter
	body    io.ReadCloser
	want    int64 // Content-Length, or -1 when chunked
	read    int64
	eof     bool
	decided bool
	closing bool // answered before the whole body was read
}

func (g *bodyGuard) Read(p []byte) (int, error) {
	n, err := g.body.Read(p)
	g.read += int64(n)
	if err == io.EOF {
		g.eof = true
	}
	return n, err
}

func (g *bodyGuard) Close() error { return g.body.Close() }

func (g *bodyGuard) WriteHeader(status int) {
	g.beforeAnswer()
	g.ResponseWriter.WriteHeader(status)
}

func (g *bodyGuard) Write(b []byte) (int, error) {
	g.beforeAnswer()
	return g.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (read deadlines).
func (g *bodyGuard) Unwrap() http.ResponseWriter { return g.ResponseWriter }

func (g *bodyGuard) beforeAnswer() {
	if g.decided {
		return
	}
	g.decided = true
	if !g.eof && (g.want < 0 || g.read < g.want) {
		g.closing = true
		g.Header().Set("Connection", "close")
	}
}
