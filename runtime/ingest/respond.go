package ingest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
)

// rejection is one rejected event in a response.
type rejection struct {
	Index   int    `json:"index"`
	EventID string `json:"event_id"`
	Reason  string `json:"reason"`
	// Detail says which field failed and why; not part of the v1 contract,
	// for the people reading responses.
	Detail string `json:"detail,omitempty"`
}

type result struct {
	Accepted   int         `json:"accepted"`
	Duplicates int         `json:"duplicates"`
	Rejected   []rejection `json:"rejected"`
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// writeResult answers 200 with the batch result. The common case (nothing
// rejected) is formatted by hand: no reflection on the hot path.
func writeResult(w http.ResponseWriter, r result) {
	var body []byte
	if len(r.Rejected) == 0 {
		bp := bufPool.Get().(*[]byte)
		defer bufPool.Put(bp)
		b := append((*bp)[:0], `{"accepted":`...)
		b = strconv.AppendInt(b, int64(r.Accepted), 10)
		b = append(b, `,"duplicates":`...)
		b = strconv.AppendInt(b, int64(r.Duplicates), 10)
		b = append(b, `,"rejected":[]}`...)
		body, *bp = b, b
	} else {
		var err error
		if body, err = json.Marshal(r); err != nil {
			http.Error(w, "encoding response", http.StatusInternalServerError)
			return
		}
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	w.WriteHeader(http.StatusOK)
	w.Write(body) //nolint:errcheck // the client is gone; nothing to do
}

var (
	jsonContentType = []string{"application/json"}
	noStore         = []string{"no-store"}
)

type errorBody struct {
	Error string `json:"error"`
}

// writeError answers status with {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	body, _ := json.Marshal(errorBody{Error: msg})
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	h.Del("Set-Cookie")
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // the client is gone; nothing to do
}

// writeRetry answers 429 or 503 with Retry-After in seconds.
func writeRetry(w http.ResponseWriter, status, seconds int, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(seconds))
	writeError(w, status, msg)
}

// pixelGIF is a transparent 1×1 GIF (43 bytes).
var pixelGIF = []byte{
	'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff,
	'!', 0xf9, 4, 1, 0, 0, 0, 0, ',', 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 'D', 1, 0, ';',
}

func writePixel(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = []string{"image/gif"}
	h["Cache-Control"] = []string{"no-store, max-age=0"}
	h["Content-Length"] = []string{strconv.Itoa(len(pixelGIF))}
	w.WriteHeader(http.StatusOK)
	w.Write(pixelGIF) //nolint:errcheck // the client is gone; nothing to do
}
