package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// EventRef locates one stored event for retention and erasure, with what
// a step needs to know of it.
type EventRef struct {
	ReceivedAt time.Time
	Seq        int64
	EventID    string
	// IP is the stored address and Sealed whether a sealed raw IP is kept
	// (read for RefsIP; SetIPs writes IP).
	IP     string
	Sealed bool
}

// ReceivedTimes lists the refs' received_at: the hours a change to those
// events makes the rollups refresh.
func ReceivedTimes(refs []EventRef) []time.Time {
	out := make([]time.Time, len(refs))
	for i, r := range refs {
		out[i] = r.ReceivedAt
	}
	return out
}

// Which events RetentionOps.Refs returns.
const (
	// RefsAll returns every event in the range.
	RefsAll = iota
	// RefsIP returns the events with an IP or a sealed IP, with both read.
	RefsIP
	// RefsPII returns the events with matching data to clear.
	RefsPII
)

// RefsFilter is the condition on events of Refs' which (RefsAll, RefsIP,
// RefsPII), starting with AND, or "".
func RefsFilter(which int) string {
	switch which {
	case RefsIP:
		return ` AND (ip IS NOT NULL OR ip_sealed IS NOT NULL)`
	case RefsPII:
		return ` AND (` + PIIColumnsSet + `)`
	}
	return ""
}

// PIIColumnsSet is true for an event with matching data to clear.
const PIIColumnsSet = `user_data IS NOT NULL OR user_id IS NOT NULL OR fbp IS NOT NULL OR fbc IS NOT NULL OR ga_client_id IS NOT NULL OR ip_sealed IS NOT NULL`

// ClearPIIColumns is the SET list that clears an event's matching data.
const ClearPIIColumns = `user_data = NULL, user_id = NULL, fbp = NULL, fbc = NULL, ga_client_id = NULL, ip_sealed = NULL`

// RetentionOps are the statements of a SQL store that differ between
// databases; SQLRetention builds retention and erasure on them.
type RetentionOps interface {
	// Refs returns up to limit of the site's events received in [from, to)
	// that come after `after` in (received_at, seq) order, in that order,
	// filtered by which (RefsAll, RefsIP, RefsPII).
	Refs(ctx context.Context, site string, from, to time.Time, after EventRef, which, limit int) ([]EventRef, error)
	// DeleteEvents deletes the events with their dedup keys and delivery
	// records, in one transaction, and adds the events deleted to the
	// erasure request erasureID when it is not 0.
	DeleteEvents(ctx context.Context, site string, refs []EventRef, erasureID int64) (ErasureResult, error)
	// SetIPs stores each event's IP and drops its sealed IP.
	SetIPs(ctx context.Context, site string, refs []EventRef) error
	// ClearPII clears the events' matching data (RetentionPlan.ClearPIIBefore).
	ClearPII(ctx context.Context, site string, refs []EventRef) error
	// CountExpired counts what deleting the events received before t would
	// delete: events, dedup keys, delivery records and whole partitions.
	CountExpired(ctx context.Context, site string, before time.Time) (RetentionCounts, error)
	// DropPartitions drops the partitions that hold only events of the
	// site received before t, deleting their dedup keys and delivery
	// records first. Stores without partitions do nothing.
	DropPartitions(ctx context.Context, site string, before time.Time, batch int, progress func(RetentionCounts)) (RetentionCounts, error)
	// Mark returns where a step has got to for the site; ok is false
	// before its first run.
	Mark(ctx context.Context, site, step string) (t time.Time, ok bool, err error)
	// SetMark records where a step has got to.
	SetMark(ctx context.Context, site, step string, t time.Time) error
	// PersonRefs returns every event of the person the key names, and the
	// visitor ids and user ids the person had.
	PersonRefs(ctx context.Context, site string, key JourneyKey) (refs []EventRef, visitors, users []string, err error)
	// Rollups refreshes the rollups of hours whose events went otherwise
	// than by DeleteEvents (which refreshes them itself): dropped
	// partitions.
	Rollups
}

// markMargin is how far before its mark a step starts again: an event
// superseded by a late server event is stored anew with its old
// received_at, possibly just behind the mark.
const markMargin = 24 * time.Hour

// ApplyRetention runs a retention plan on ops; see Retention.
func ApplyRetention(ctx context.Context, ops RetentionOps, plan RetentionPlan) (RetentionCounts, error) {
	if plan.Site == "" {
		return RetentionCounts{}, ErrNoSite
	}
	if plan.BatchSize <= 0 {
		plan.BatchSize = DefaultRetentionBatch
	}
	if !plan.AnonymizeIPBefore.IsZero() && plan.AnonymizeIP == nil {
		return RetentionCounts{}, errors.New("retention plan anonymizes IPs without an AnonymizeIP function")
	}
	var total RetentionCounts
	if !plan.DeleteBefore.IsZero() {
		c, err := expire(ctx, ops, plan)
		total.Add(c)
		if err != nil {
			return total, fmt.Errorf("while deleting events of site %q received before %s: %w", plan.Site, plan.DeleteBefore.Format(time.RFC3339), err)
		}
	}
	if !plan.AnonymizeIPBefore.IsZero() {
		n, err := walkStep(ctx, ops, plan, StepAnonymizeIPs, plan.AnonymizeIPBefore, RefsIP, anonymizeIPs(plan.AnonymizeIP), ops.SetIPs)
		total.IPsAnonymized = n
		if err != nil {
			return total, fmt.Errorf("while anonymizing IPs of site %q: %w", plan.Site, err)
		}
	}
	if !plan.ClearPIIBefore.IsZero() {
		n, err := walkStep(ctx, ops, plan, StepClearPII, plan.ClearPIIBefore, RefsPII, keepAll, ops.ClearPII)
		total.PIICleared = n
		if err != nil {
			return total, fmt.Errorf("while clearing matching data of site %q: %w", plan.Site, err)
		}
	}
	return total, nil
}

// expire deletes the site's events received before plan.DeleteBefore:
// whole partitions first, then the rest in batches, oldest first.
func expire(ctx context.Context, ops RetentionOps, plan RetentionPlan) (RetentionCounts, error) {
	if plan.DryRun {
		return ops.CountExpired(ctx, plan.Site, plan.DeleteBefore)
	}
	report := func(c RetentionCounts) {
		if plan.Progress != nil {
			// Keys go with their events, batch by batch, also where
			// the events go with their partition at its end.
			plan.Progress(StepDeleteEvents, c.KeysDeleted)
		}
	}
	total, err := ops.DropPartitions(ctx, plan.Site, plan.DeleteBefore, plan.BatchSize, report)
	if err != nil {
		return total, err
	}
	for {
		start := time.Now()
		refs, err := ops.Refs(ctx, plan.Site, time.Time{}, plan.DeleteBefore, EventRef{}, RefsAll, plan.BatchSize)
		if err != nil {
			return total, err
		}
		if len(refs) == 0 {
			// Dropped partitions leave rollup rows behind; every run
			// clears what is left before the cut-off, so a run killed
			// after a drop is made good by the next.
			return total, ops.RefreshRollups(ctx, plan.Site, time.Unix(0, 0).UTC(), plan.DeleteBefore)
		}
		r, err := ops.DeleteEvents(ctx, plan.Site, refs, 0)
		if err == nil {
			err = plan.rest(ctx, time.Since(start))
		}
		total.EventsDeleted += r.EventsDeleted
		total.KeysDeleted += r.KeysDeleted
		total.DeliveriesDeleted += r.DeliveriesDeleted
		if err != nil {
			return total, err
		}
		report(total)
	}
}

// anonymizeIPs keeps the events whose IP anonymize changes, or that still
// have a sealed IP, with their new IP.
func anonymizeIPs(anonymize func(string) string) func([]EventRef) []EventRef {
	return func(refs []EventRef) []EventRef {
		out := refs[:0]
		for _, r := range refs {
			ip := anonymize(r.IP)
			if ip != r.IP || r.Sealed {
				r.IP = ip
				out = append(out, r)
			}
		}
		return out
	}
}

func keepAll(refs []EventRef) []EventRef { return refs }

// walkStep runs an update step over the site's events received before
// cutoff, from where its last run got to, in (received_at, seq) order.
// choose picks the events of a batch to change and apply changes them.
// It returns how many events it changed (or would change).
func walkStep(ctx context.Context, ops RetentionOps, plan RetentionPlan, step string, cutoff time.Time, which int,
	choose func([]EventRef) []EventRef, apply func(context.Context, string, []EventRef) error) (int64, error) {
	mark := stepMark{ops: ops, plan: plan, step: step}
	var err error
	if mark.at, mark.set, err = ops.Mark(ctx, plan.Site, step); err != nil {
		return 0, err
	}
	from := mark.at
	if mark.set {
		from = from.Add(-markMargin)
	}
	// Events before DeleteBefore are gone (or, in a dry run, would be).
	if from.Before(plan.DeleteBefore) {
		from = plan.DeleteBefore
	}
	var n int64
	after := EventRef{ReceivedAt: from, Seq: -1 << 62}
	for {
		start := time.Now()
		refs, err := ops.Refs(ctx, plan.Site, from, cutoff, after, which, plan.BatchSize)
		if err != nil {
			return n, err
		}
		if len(refs) == 0 {
			break
		}
		after = refs[len(refs)-1]
		change := choose(refs)
		if len(change) > 0 && !plan.DryRun {
			if err := apply(ctx, plan.Site, change); err != nil {
				return n, err
			}
			if err := plan.rest(ctx, time.Since(start)); err != nil {
				return n, err
			}
		}
		n += int64(len(change))
		// Every event before this batch's last is done: a run killed
		// later resumes here.
		if err := mark.advance(ctx, after.ReceivedAt); err != nil {
			return n, err
		}
		if plan.Progress != nil {
			plan.Progress(step, n)
		}
	}
	return n, mark.advance(ctx, cutoff)
}

// stepMark is where a step has got to for a site, as read at the start
// of its walk and moved as the walk goes.
type stepMark struct {
	ops  RetentionOps
	plan RetentionPlan
	step string
	at   time.Time
	set  bool
}

// advance moves the mark forward to t (never back, so a policy that now
// keeps longer does not redo what an earlier one did); a dry run moves
// nothing.
func (m *stepMark) advance(ctx context.Context, t time.Time) error {
	if m.plan.DryRun || (m.set && !m.at.Before(t)) {
		return nil
	}
	if err := m.ops.SetMark(ctx, m.plan.Site, m.step, t); err != nil {
		return err
	}
	m.at, m.set = t, true
	return nil
}

// ErasureOps are the statements of a SQL store's erasure bookkeeping;
// RunErasureOn builds Erasure.RunErasure on them.
type ErasureOps interface {
	RetentionOps
	// ErasureRequest reads one request, with its key; ok is false when the
	// site has no request with the id.
	ErasureRequest(ctx context.Context, site string, id int64) (req ErasureRequest, ok bool, err error)
	// Suppress adds suppression entries and returns how many were new.
	Suppress(ctx context.Context, site string, list []Suppression) (int, error)
	// CompleteErasure marks a request completed at now and drops its key.
	CompleteErasure(ctx context.Context, site string, id int64, now time.Time) error
}

// RunErasureOn carries out the site's erasure request id through ops; see
// Erasure.RunErasure.
func RunErasureOn(ctx context.Context, ops ErasureOps, site string, id int64, now time.Time, dryRun bool) (ErasureResult, error) {
	req, ok, err := ops.ErasureRequest(ctx, site, id)
	if err != nil {
		return ErasureResult{}, fmt.Errorf("while reading erasure %d of site %q: %w", id, site, err)
	}
	if !ok {
		return ErasureResult{}, fmt.Errorf("erasure %d of site %q: %w", id, site, ErrErasureNotFound)
	}
	if !req.CompletedAt.IsZero() {
		return ErasureResult{}, nil
	}
	res, err := erase(ctx, ops, req, dryRun)
	if err != nil || dryRun {
		return res, err
	}
	if err := ops.CompleteErasure(ctx, site, id, now); err != nil {
		return res, fmt.Errorf("while completing erasure %d of site %q: %w", id, site, err)
	}
	return res, nil
}

// erase deletes the events of the person req names, suppressing them
// first when asked.
func erase(ctx context.Context, ops ErasureOps, req ErasureRequest, dryRun bool) (ErasureResult, error) {
	key, err := req.JourneyKey()
	if err != nil {
		return ErasureResult{}, err
	}
	refs, visitors, users, err := ops.PersonRefs(ctx, req.Site, key)
	if err != nil {
		return ErasureResult{}, fmt.Errorf("while finding the events of erasure %d: %w", req.ID, err)
	}
	res := ErasureResult{Visitors: len(visitors), Users: len(users)}
	if dryRun {
		res.EventsDeleted = int64(len(refs))
		return res, nil
	}
	// Suppress first, so nothing the person does meanwhile outlives the
	// erasure once ingest has reloaded the list.
	if req.Suppress {
		if res.Suppressed, err = ops.Suppress(ctx, req.Site, suppressionsOf(req, visitors, users)); err != nil {
			return res, fmt.Errorf("while suppressing the person of erasure %d: %w", req.ID, err)
		}
	}
	for len(refs) > 0 {
		n := min(DefaultRetentionBatch, len(refs))
		r, err := ops.DeleteEvents(ctx, req.Site, refs[:n], req.ID)
		res.EventsDeleted += r.EventsDeleted
		res.KeysDeleted += r.KeysDeleted
		res.DeliveriesDeleted += r.DeliveriesDeleted
		if err != nil {
			return res, fmt.Errorf("while deleting the events of erasure %d: %w", req.ID, err)
		}
		refs = refs[n:]
	}
	return res, nil
}

// suppressionsOf lists what suppressing the person of a request blocks:
// every visitor id and user id they had, and the email they were named by.
func suppressionsOf(req ErasureRequest, visitors, users []string) []Suppression {
	var out []Suppression
	for _, v := range visitors {
		out = append(out, Suppression{Kind: KeyVisitorID, KeyHash: SuppressionHash(v)})
	}
	for _, u := range users {
		out = append(out, Suppression{Kind: KeyUserID, KeyHash: SuppressionHash(u)})
	}
	switch req.KeyKind {
	case KeyEmail:
		out = append(out, Suppression{Kind: KeyEmail, KeyHash: req.Key})
	case KeyVisitorID, KeyUserID:
		out = append(out, Suppression{Kind: req.KeyKind, KeyHash: SuppressionHash(req.Key)})
	}
	return out
}

// rest waits after a batch that took d, as the plan's Duty asks.
func (plan RetentionPlan) rest(ctx context.Context, d time.Duration) error {
	if plan.Duty <= 0 || plan.Duty >= 1 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(float64(d) * (1 - plan.Duty) / plan.Duty)):
		return nil
	}
}
