package tracker

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzRequestHeaders feeds arbitrary Accept-Encoding and If-None-Match
// headers, the outside input the handler parses: it must answer 200 or 304
// with a body only on 200, and gzip only when gzip was listed or implied.
func FuzzRequestHeaders(f *testing.F) {
	_, etag := Script(realistic)
	for _, seed := range [][2]string{
		{"gzip, deflate, br", ""},
		{"gzip;q=0", etag},
		{"*;q=0.5, gzip;q=0.000", `W/"x", ` + etag},
		{"identity", "*"},
		{";;,,q=", `"`},
		{"GZIP; Q=1", `"unterminated`},
	} {
		f.Add(seed[0], seed[1])
	}
	h := NewHandler(realistic)
	f.Fuzz(func(t *testing.T, accept, inm string) {
		r := httptest.NewRequest(http.MethodGet, "/_ts/t.js", nil)
		r.Header.Set("Accept-Encoding", accept)
		r.Header.Set("If-None-Match", inm)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK:
			if w.Body.Len() == 0 {
				t.Error("200 without a body")
			}
			if w.Header().Get("Content-Encoding") == "gzip" && !acceptsGzip(accept) {
				t.Error("gzip sent though not accepted")
			}
		case http.StatusNotModified:
			if w.Body.Len() != 0 {
				t.Error("304 with a body")
			}
		default:
			t.Errorf("status %d", w.Code)
		}
	})
}
