package ingest

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// Errors of readBody, each with its own answer.
var (
	errBodyTooLarge = errors.New("body too large")            // 413
	errBodyTimeout  = errors.New("body read timed out")       // 408
	errBadGzip      = errors.New("body is not valid gzip")    // 400
	errEncoding     = errors.New("unsupported body encoding") // 415
)

// gzipReaders pools decompressors: each holds tens of KiB of state.
var gzipReaders sync.Pool // *gzip.Reader

// readBody reads the body into a pooled buffer; release returns the buffer.
// limit bounds the bytes on the wire and, for a gzip body
// (Content-Encoding: gzip, which backends may use for large batches), the
// bytes after decompression too, so a small bomb cannot grow past it.
func (c *Collector) readBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, release func(), err error) {
	// A deadline per request bounds slow-loris bodies; an http.Server's own
	// ReadTimeout would also cut keep-alive connections short.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(c.bodyTimeout)) // ErrNotSupported under tests
	fail := func(err error) ([]byte, func(), error) {
		// The connection may hold an unread or broken body: do not reuse
		// it. The deadline stays, so the server's drain of the rest of the
		// body is bounded too.
		w.Header().Set("Connection", "close")
		return nil, nil, err
	}
	if r.ContentLength > limit {
		return fail(errBodyTooLarge)
	}
	var src io.Reader = http.MaxBytesReader(w, r.Body, limit)
	gzipped := false
	switch r.Header.Get("Content-Encoding") {
	case "", "identity":
	case "gzip":
		gzipped = true
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		if zr == nil {
			zr = new(gzip.Reader)
		}
		defer gzipReaders.Put(zr)
		if err := zr.Reset(src); err != nil {
			return fail(bodyReadError(err, true))
		}
		src = zr
	default:
		return fail(errEncoding)
	}

	bp := bufPool.Get().(*[]byte)
	buf := (*bp)[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, rerr := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			rerr = &http.MaxBytesError{Limit: limit}
		}
		if rerr == io.EOF {
			_ = rc.SetReadDeadline(time.Time{})
			break
		}
		if rerr != nil {
			*bp = buf[:0]
			bufPool.Put(bp)
			return fail(bodyReadError(rerr, gzipped))
		}
	}
	return buf, func() {
		if cap(buf) <= 2*MaxBrowserBody { // do not pin huge server bodies
			*bp = buf[:0]
			bufPool.Put(bp)
		}
	}, nil
}

func bodyReadError(err error, gzipped bool) error {
	var mbe *http.MaxBytesError
	var te interface{ Timeout() bool }
	switch {
	case errors.As(err, &mbe):
		return errBodyTooLarge
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &te) && te.Timeout():
		return errBodyTimeout
	case gzipped && (errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)):
		return errBadGzip
	}
	return fmt.Errorf("reading body: %w", err)
}

// bodyError answers a readBody error.
func (c *Collector) bodyError(w http.ResponseWriter, source string, err error) {
	switch {
	case errors.Is(err, errBodyTooLarge):
		c.fail(w, source, http.StatusRequestEntityTooLarge, "body too large")
	case errors.Is(err, errBodyTimeout):
		c.fail(w, source, http.StatusRequestTimeout, "body read timed out")
	case errors.Is(err, errEncoding):
		c.fail(w, source, http.StatusUnsupportedMediaType, "unsupported Content-Encoding (gzip or none)")
	case errors.Is(err, errBadGzip):
		c.fail(w, source, http.StatusBadRequest, "body is not valid gzip")
	default:
		c.fail(w, source, http.StatusBadRequest, "reading body failed")
	}
}
