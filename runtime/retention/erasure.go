package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/store"
)

// Request is an erasure request as the API takes it: exactly one key.
type Request struct {
	VisitorID string `json:"visitor_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	Email     string `json:"email,omitempty"`
	OrderID   string `json:"order_id,omitempty"`
	Suppress  bool   `json:"suppress"`
	Immediate bool   `json:"immediate"`
}

// storeRequest turns r into the store's request, hashing an email.
func (r Request) storeRequest(site, by string, now time.Time) (store.ErasureRequest, error) {
	out := store.ErasureRequest{Site: site, RequestedAt: now.UTC(), RequestedBy: by, Suppress: r.Suppress}
	n := 0
	for _, k := range []struct{ kind, v string }{
		{store.KeyVisitorID, r.VisitorID}, {store.KeyUserID, r.UserID}, {store.KeyEmail, r.Email}, {store.KeyOrderID, r.OrderID},
	} {
		if k.v != "" {
			out.KeyKind, out.Key, n = k.kind, k.v, n+1
		}
	}
	if n != 1 {
		return out, fmt.Errorf("name exactly one of visitor_id, user_id, email or order_id (got %d)", n)
	}
	if out.KeyKind == store.KeyEmail {
		var ok bool
		if out.Key, ok = enrich.EmailDigest(r.Email); !ok {
			return out, errors.New("email is not an email address (nor a SHA-256 digest of one)")
		}
	}
	return out, nil
}

// RunsNow reports whether a request is carried out when it is made: when
// asked, or when the site has no RetentionPolicy to run it within a day.
func RunsNow(r Request, hasPolicy bool) bool {
	return r.Immediate || !hasPolicy
}

// Requested is what RequestErasure did.
type Requested struct {
	ID int64 `json:"id"`
	// Completed is true when the request was carried out at once.
	Completed bool                 `json:"completed"`
	Result    *store.ErasureResult `json:"result,omitempty"`
}

// RequestErasure records a request for site by the dashboard user `by`
// and carries it out at once when RunsNow says so. A bad request is
// ErrBadRequest.
func RequestErasure(ctx context.Context, st store.Erasure, site string, hasPolicy bool, r Request, by string, now time.Time) (Requested, error) {
	req, err := r.storeRequest(site, by, now)
	if err != nil {
		return Requested{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	id, err := st.RequestErasure(ctx, req)
	if err != nil {
		return Requested{}, err
	}
	out := Requested{ID: id}
	if !RunsNow(r, hasPolicy) {
		return out, nil
	}
	res, err := st.RunErasure(ctx, req.Site, id, now, false)
	if err != nil {
		return out, fmt.Errorf("erasure %d is recorded and will run with the next retention run, but running it now failed: %w", id, err)
	}
	out.Completed, out.Result = true, &res
	return out, nil
}

// ErrBadRequest means an erasure request does not name one key.
var ErrBadRequest = errors.New("bad erasure request")
