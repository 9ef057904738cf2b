package ingest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackstack/trackstack/runtime/event"
)

// nopWriter accepts everything instantly: the benchmarks measure the
// collector, not a store.
type nopWriter struct{}

func (nopWriter) Write(_ context.Context, evs []event.Event) (int, error) { return len(evs), nil }

// discardWriter is a ResponseWriter that keeps nothing but the header map.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

func benchCollector(b *testing.B, now time.Time) *Collector {
	b.Helper()
	l := unlimited()
	c, err := New(Options{
		Sites:    []Site{testSite("shop")},
		Writer:   nopWriter{},
		Now:      func() time.Time { return now },
		Registry: prometheus.NewRegistry(),
		Limits:   &l,
	})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// realisticBatch is n events as the tracker sends them (~450 bytes each).
func realisticBatch(n int, now time.Time) []byte {
	evs := make([]map[string]any, n)
	for i := range evs {
		evs[i] = browserEvent(fmt.Sprintf("4f0c1a3e-58b1-4c2a-9d6e-%012d", i), now)
		evs[i]["title"] = "Winter boots – Shop"
		evs[i]["cookies"] = map[string]any{"fbp": "fb.1.1700000000000.1234567890", "ga": "GA1.1.123456789.1700000000"}
	}
	return batchBody("shop", evs...)
}

func BenchmarkBrowserHandler(b *testing.B) {
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			now := testNow
			c := benchCollector(b, now)
			body := realisticBatch(n, now)
			// A returning visitor: the cookie is verified, not minted.
			site := c.sites.Load().byName["shop"]
			cookie := &http.Cookie{Name: CookieName, Value: site.cookieValue("0123456789abcdef0123456789abcdef")}
			r := httptest.NewRequest(http.MethodPost, "/_ts/e", nil)
			r.RemoteAddr = testRemote
			r.Host = "shop.example.com"
			r.Header.Set("Origin", testOrigin)
			r.Header.Set("User-Agent", testUA)
			r.Header.Set("Content-Type", "text/plain")
			r.AddCookie(cookie)
			rd := bytes.NewReader(body)
			w := &discardWriter{h: http.Header{}}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(body)
				r.Body = io.NopCloser(rd)
				r.ContentLength = int64(len(body))
				clear(w.h)
				c.ServeHTTP(w, r)
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
			}
			perEvent := float64(b.Elapsed().Nanoseconds()) / float64(b.N*n)
			b.ReportMetric(1e9/perEvent, "events/s")
			b.ReportMetric(perEvent, "ns/event")
		})
	}
}

func BenchmarkServerHandler(b *testing.B) {
	for _, n := range []int{1, 20, 500} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			now := testNow
			c := benchCollector(b, now)
			evs := make([]map[string]any, n)
			for i := range evs {
				evs[i] = serverEvent(fmt.Sprintf("order-%06d", i), now)
				evs[i]["user"] = map[string]any{"email": "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f", "ip": "198.51.100.4", "user_agent": testUA}
			}
			body := batchBody("shop", evs...)
			r := httptest.NewRequest(http.MethodPost, "/v1/events", nil)
			r.Header.Set("Authorization", "Bearer "+testIngestKey)
			rd := bytes.NewReader(body)
			w := &discardWriter{h: http.Header{}}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(body)
				r.Body = io.NopCloser(rd)
				r.ContentLength = int64(len(body))
				clear(w.h)
				c.ServeHTTP(w, r)
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
			}
			perEvent := float64(b.Elapsed().Nanoseconds()) / float64(b.N*n)
			b.ReportMetric(1e9/perEvent, "events/s")
		})
	}
}

// BenchmarkHTTPLoopback runs the collector behind a real net/http server on
// loopback with concurrent keep-alive clients. Client and server share the
// machine's cores, so this understates what a collector alone sustains.
func BenchmarkHTTPLoopback(b *testing.B) {
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			now := testNow
			c := benchCollector(b, now)
			srv := httptest.NewServer(c)
			defer srv.Close()
			body := realisticBatch(n, now)
			tr := &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			url := srv.URL + "/_ts/e"
			b.SetParallelism(16) // 32 concurrent clients on 2 cores
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
					req.Header.Set("Origin", testOrigin)
					req.Header.Set("User-Agent", testUA)
					req.Header.Set("Content-Type", "text/plain")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			perReq := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(1e9/perReq, "req/s")
			b.ReportMetric(1e9/perReq*float64(n), "events/s")
		})
	}
}

// BenchmarkRawLoopback is BenchmarkHTTPLoopback with a minimal client: each
// of 32 goroutines keeps one TCP connection and writes prebuilt requests, so
// nearly all CPU goes to the server side (net/http plus the collector).
func BenchmarkRawLoopback(b *testing.B) {
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			now := testNow
			c := benchCollector(b, now)
			srv := httptest.NewServer(c)
			defer srv.Close()
			body := realisticBatch(n, now)
			req := []byte(fmt.Sprintf("POST /_ts/e HTTP/1.1\r\nHost: shop.example.com\r\nOrigin: %s\r\n"+
				"User-Agent: %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
				testOrigin, testUA, len(body), body))
			addr := srv.Listener.Addr().String()
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					b.Error(err)
					return
				}
				defer conn.Close()
				br := bufio.NewReader(conn)
				for pb.Next() {
					if _, err := conn.Write(req); err != nil {
						b.Error(err)
						return
					}
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			perReq := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(1e9/perReq, "req/s")
			b.ReportMetric(1e9/perReq*float64(n), "events/s")
		})
	}
}
