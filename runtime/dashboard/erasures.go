package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/trackstack/trackstack/runtime/dashboard/auth"
	"github.com/trackstack/trackstack/runtime/retention"
	"github.com/trackstack/trackstack/runtime/store"
)

var errNoErasure = errors.New("this dashboard's store cannot erase")

func (a *API) erasure() (store.Erasure, error) {
	e, ok := a.Store.(store.Erasure)
	if !ok {
		return nil, errNoErasure
	}
	return e, nil
}

// ErasureList is the erasures report: the site's requests, newest first,
// without the keys they named.
type ErasureList struct {
	Erasures []ErasureRecord `json:"erasures"`
}

// ErasureRecord is one request's audit record.
type ErasureRecord struct {
	ID          int64      `json:"id"`
	RequestedAt time.Time  `json:"requested_at"`
	RequestedBy string     `json:"requested_by"`
	KeyKind     string     `json:"key_kind"`
	Suppress    bool       `json:"suppress"`
	CompletedAt *time.Time `json:"completed_at"`
	RowsRemoved int64      `json:"rows_removed"`
}

func (a *API) erasures(ctx context.Context, p params) (any, [][]string, error) {
	st, err := a.erasure()
	if err != nil {
		return nil, nil, err
	}
	list, err := st.ListErasures(ctx, p.q.Site, p.limit)
	if err != nil {
		return nil, nil, err
	}
	rep := ErasureList{Erasures: []ErasureRecord{}}
	table := [][]string{{"id", "requested_at", "requested_by", "key_kind", "suppress", "completed_at", "rows_removed"}}
	for _, e := range list {
		rec := ErasureRecord{ID: e.ID, RequestedAt: e.RequestedAt, RequestedBy: e.RequestedBy, KeyKind: e.KeyKind,
			Suppress: e.Suppress, RowsRemoved: e.RowsRemoved}
		done := "pending"
		if !e.CompletedAt.IsZero() {
			rec.CompletedAt, done = &e.CompletedAt, e.CompletedAt.Format(time.RFC3339)
		}
		rep.Erasures = append(rep.Erasures, rec)
		table = append(table, []string{strconv.FormatInt(e.ID, 10), e.RequestedAt.Format(time.RFC3339), e.RequestedBy, e.KeyKind,
			strconv.FormatBool(e.Suppress), done, strconv.FormatInt(e.RowsRemoved, 10)})
	}
	return rep, table, nil
}

// serveErasure records an erasure request: a JSON body (scripts) or the
// erasures page's form, which must carry confirm=yes. It runs at once
// when asked or when the site has no RetentionPolicy, else with the next
// retention run; either way it is audited, without the key. The guard in
// front checks the session's CSRF token.
func (a *API) serveErasure(w http.ResponseWriter, r *http.Request) {
	site := r.PathValue("site")
	if _, ok := a.Goals[site]; !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown site %q", site))
		return
	}
	st, err := a.erasure()
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8192)
	req, fromPage, err := readErasureRequest(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	got, err := retention.RequestErasure(r.Context(), st, site, a.Retention[site], req, actorOf(r), a.now())
	if errors.Is(err, retention.ErrBadRequest) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if got.ID != 0 {
		a.auditErasure(r, site, got)
	}
	if err != nil {
		a.log().Error("erasure failed", "site", site, "id", got.ID, "err", err)
		writeError(w, http.StatusInternalServerError, "the erasure failed; the dashboard's log says why")
		return
	}
	if fromPage {
		http.Redirect(w, r, "/sites/"+site+"/erasures?requested="+strconv.FormatInt(got.ID, 10), http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(map[bool]int{true: http.StatusOK, false: http.StatusAccepted}[got.Completed])
	json.NewEncoder(w).Encode(got) //nolint:errcheck // the client went away
}

// readErasureRequest reads a JSON request, or the page's form (key kind,
// key, the options, and the confirmation).
func readErasureRequest(r *http.Request) (req retention.Request, fromPage bool, err error) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" {
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return req, false, fmt.Errorf("reading the erasure request: %w", err)
		}
		return req, false, nil
	}
	if r.PostFormValue("confirm") != "yes" {
		return req, true, errors.New("an erasure deletes the person's data for good: confirm with confirm=yes")
	}
	req.Suppress, req.Immediate = r.PostFormValue("suppress") == "yes", r.PostFormValue("immediate") == "yes"
	key := r.PostFormValue("key")
	switch r.PostFormValue("key_kind") {
	case store.KeyVisitorID:
		req.VisitorID = key
	case store.KeyUserID:
		req.UserID = key
	case store.KeyEmail:
		req.Email = key
	case store.KeyOrderID:
		req.OrderID = key
	default:
		return req, true, errors.New("key_kind must be visitor_id, user_id, email or order_id")
	}
	return req, true, nil
}

// actorOf is the dashboard user a request was made by.
func actorOf(r *http.Request) string {
	if s, ok := auth.SessionFrom(r.Context()); ok && s.Actor != "" {
		return s.Actor
	}
	return auth.AdminUser
}

// auditErasure records an erasure request: its id, the kind of key and
// what happened, never the key.
func (a *API) auditErasure(r *http.Request, site string, got retention.Requested) {
	detail := fmt.Sprintf("erasure %d: pending until the next retention run", got.ID)
	if got.Completed {
		detail = fmt.Sprintf("erasure %d: %d events deleted", got.ID, got.Result.EventsDeleted)
	}
	a.record(r, site, "erasure", detail)
}

// record adds an admin action to the audit log; an audit failure is
// logged, the action stands.
func (a *API) record(r *http.Request, site, action, detail string) {
	if a.Audit == nil {
		return
	}
	e := store.AuditEntry{Site: site, At: a.now(), Actor: actorOf(r), Action: action, Detail: detail}
	if err := a.Audit.RecordAudit(context.WithoutCancel(r.Context()), e); err != nil {
		a.log().Error("cannot audit an action", "site", site, "action", action, "err", err)
	}
}
