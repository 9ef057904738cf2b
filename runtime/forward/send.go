package forward

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// sendLoop sends due deliveries, round after round.
func (e *Engine) sendLoop(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := e.sendRound(ctx)
		if e.storeFailed(ctx, "sending", err) {
			sleep(ctx, e.o.PollInterval*5)
			continue
		}
		if n == 0 {
			sleep(ctx, e.o.PollInterval)
		}
	}
}

// sendRound sends up to Concurrency full batches: fresh deliveries from
// the feed loop (from memory) first, then due ones from the store
// (retries, and what a previous run left). Batches take the platform's
// size, Concurrency requests at a time. A partial batch of fresh
// deliveries waits until its oldest event is MaxWait old, so quiet sites
// still send promptly and busy ones send full batches. The outcomes of due
// deliveries are recorded; those of fresh ones are settled with their
// pages. It returns how many deliveries it sent.
func (e *Engine) sendRound(ctx context.Context) (int, error) {
	size := e.o.Platform.MaxBatch()
	now := e.o.Now()
	if until := e.authUntil.Load(); until != 0 && now.UnixNano() < until {
		return 0, nil
	}
	limit := size * e.o.Concurrency
	e.takePages(limit)
	round := e.held[:min(len(e.held), limit)]
	var due []store.PendingDelivery
	if len(round) < limit {
		var err error
		if due, err = e.o.Store.Due(ctx, e.o.Site, e.o.Destination, now, limit-len(round)); err != nil {
			return 0, err
		}
	}
	if len(due) == 0 && (len(round) == 0 || len(round) < size && now.Sub(round[0].delivery().Delivery.ReceivedAt) < e.o.MaxWait) {
		// Pages with nothing to send still move the cursor.
		return 0, e.settle(ctx)
	}
	e.held = e.held[len(round):]
	// Pointers: a delivery carries its event, about a kilobyte to copy.
	all := make([]*store.PendingDelivery, 0, len(round)+len(due))
	for _, f := range round {
		all = append(all, f.delivery())
	}
	for i := range due {
		all = append(all, &due[i])
	}
	out := e.sendAll(ctx, all)
	for i, f := range round {
		f.page.records = append(f.page.records, out[i])
		f.page.unsent--
	}
	// A failed settle keeps the pages to settle next round; a failed
	// record leaves the due deliveries pending, to be sent again.
	if err := errors.Join(e.recordDue(ctx, out[len(round):]), e.settle(ctx)); err != nil {
		return 0, err
	}
	return len(out), nil
}

// sendAll sends deliveries in batches of the platform's size, Concurrency
// at a time, and returns their records with the outcomes, in order.
func (e *Engine) sendAll(ctx context.Context, all []*store.PendingDelivery) []store.Delivery {
	size := e.o.Platform.MaxBatch()
	out := make([]store.Delivery, len(all))
	var wg sync.WaitGroup
	sem := make(chan struct{}, e.o.Concurrency)
	for start := 0; start < len(all); start += size {
		end := min(start+size, len(all))
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			copy(out[start:end], e.sendBatch(ctx, all[start:end]))
		}()
	}
	wg.Wait()
	return out
}

// recordDue records the outcomes of due deliveries, even when ctx ended
// mid-round: what the platform confirmed must not be sent again after a
// restart.
func (e *Engine) recordDue(ctx context.Context, records []store.Delivery) error {
	if len(records) == 0 {
		return nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := e.o.Store.Record(rctx, e.o.Site, e.o.Destination, records); err != nil {
		return err
	}
	e.forgetRawIPs(rctx, records)
	return nil
}

// sendBatch sends one batch and returns its records with the outcomes.
func (e *Engine) sendBatch(ctx context.Context, batch []*store.PendingDelivery) []store.Delivery {
	items := make([]Item, len(batch))
	for i := range batch {
		items[i] = e.item(ctx, batch[i])
	}
	start := time.Now()
	outcomes, err := e.o.Platform.Send(ctx, items)
	if e.o.Metrics != nil {
		e.o.Metrics.latency.WithLabelValues(e.o.Site, e.o.Destination).Observe(time.Since(start).Seconds())
	}
	if err == nil && len(outcomes) != len(items) {
		err = fmt.Errorf("platform answered %d outcomes for %d events", len(outcomes), len(items))
	}
	if err != nil {
		return e.batchFailed(batch, AsError(err))
	}
	e.requestResult("ok")
	e.clearAuth()
	records := make([]store.Delivery, len(batch))
	for i := range batch {
		records[i] = e.outcome(batch[i].Delivery, outcomes[i])
	}
	return records
}

// item builds what the platform gets for one delivery: the mapped name,
// the raw IP when sealed for it, and the sale a refund adjusts.
func (e *Engine) item(ctx context.Context, p *store.PendingDelivery) Item {
	it := Item{Event: p.Event, Name: p.Delivery.SendAs}
	if len(p.Event.RawIPSealed) > 0 && e.o.OpenIP != nil {
		ip, err := e.o.OpenIP(p.Event.RawIPSealed)
		if err != nil {
			e.log.Warn("cannot open the sealed IP; sending without it", "event_id", p.Event.EventID, "err", err)
		} else {
			it.Event.RawIP = ip
		}
	}
	it.Event.RawIPSealed = nil
	if adjusts(&p.Event) {
		orig, ok, err := e.o.Store.OrderConversion(ctx, e.o.Site, p.Event.OrderID)
		if err != nil {
			e.log.Warn("cannot look up the sale a refund adjusts", "event_id", p.Event.EventID, "err", err)
		} else if ok {
			it.Original = &orig
		}
	}
	return it
}

// adjusts reports whether e changes an earlier sale.
func adjusts(e *event.Event) bool {
	return (e.Name == "refund" || e.Name == "cancel") && e.OrderID != ""
}

// batchFailed turns a whole-batch failure into a record per delivery.
func (e *Engine) batchFailed(batch []*store.PendingDelivery, fe *Error) []store.Delivery {
	e.requestResult(fe.Kind.String())
	records := make([]store.Delivery, len(batch))
	switch fe.Kind {
	case Auth:
		e.setAuth(fe.Message)
		// Not an attempt that counts towards giving up: the platform never
		// looked at the events, and fixing the Secret should send them.
		// The pause lives in memory, so a forwarder restarted with a new
		// Secret tries at once.
		e.authUntil.Store(e.o.Now().Add(e.o.AuthRetry).UnixNano())
		for i := range batch {
			d := batch[i].Delivery
			d.Reason = "credentials rejected: " + Truncate(fe.Message, 300)
			d.NextAttemptAt = e.o.Now() // due, behind the pause in memory
			records[i] = d
		}
		e.count(store.DeliveryPending, reasonAuth, len(batch))
	case Permanent:
		e.log.Warn("the platform rejected a request", "events", len(batch), "err", fe.Error())
		for i := range batch {
			records[i] = e.outcome(batch[i].Delivery, Outcome{Status: Failed, Reason: fe.Error()})
		}
	default:
		e.log.Warn("request failed; retrying with backoff", "events", len(batch), "err", fe.Error())
		for i := range batch {
			records[i] = e.outcome(batch[i].Delivery, Outcome{Status: Retry, Reason: fe.Error(), RetryAfter: fe.RetryAfter})
		}
	}
	return records
}

// outcome applies one item's outcome to its record.
func (e *Engine) outcome(d store.Delivery, o Outcome) store.Delivery {
	d.Attempts++
	d.Reason = Truncate(o.Reason, 500)
	switch o.Status {
	case Sent:
		d.Status, d.Reason, d.ResponseID = store.DeliverySent, "", o.ResponseID
		e.count(store.DeliverySent, reasonNone, 1)
	case Failed:
		d.Status = store.DeliveryFailed
		e.count(store.DeliveryFailed, reasonRejected, 1)
		e.log.Warn("event rejected", "event_id", d.EventID, "reason", d.Reason)
	default:
		if d.Attempts >= e.o.MaxAttempts {
			d.Status = store.DeliveryFailed
			d.Reason = Truncate(fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, o.Reason), 500)
			e.count(store.DeliveryFailed, reasonGaveUp, 1)
			e.log.Warn("giving up on event", "event_id", d.EventID, "attempts", d.Attempts, "reason", o.Reason)
			break
		}
		d.Status = store.DeliveryPending
		d.NextAttemptAt = e.o.Now().Add(e.backoff(d.Attempts, o.RetryAfter))
		e.count(store.DeliveryPending, reasonRetry, 1)
	}
	return d
}

func (e *Engine) requestResult(result string) {
	if e.o.Metrics != nil {
		e.o.Metrics.requests.WithLabelValues(e.o.Site, e.o.Destination, result).Inc()
	}
}

// setAuth marks the engine unready with the platform's message, logging it
// when it changes (the message is the platform's, never the secret).
func (e *Engine) setAuth(msg string) {
	msg = Truncate(msg, 300)
	if prev := e.authErr.Swap(&msg); prev == nil || *prev != msg {
		e.log.Error("the platform rejects the credentials; fix the credentials Secret", "platform_message", msg)
	}
}

func (e *Engine) clearAuth() {
	if e.authErr.Swap(nil) != nil {
		e.log.Info("the platform accepts the credentials again")
	}
}

// forgetRawIPs drops the sealed IPs of events this round finished.
func (e *Engine) forgetRawIPs(ctx context.Context, records []store.Delivery) {
	if len(e.o.IPDestinations) == 0 {
		return
	}
	var ids []string
	for _, r := range records {
		if r.Status != store.DeliveryPending {
			ids = append(ids, r.EventID)
		}
	}
	if len(ids) == 0 {
		return
	}
	if err := e.o.Store.ForgetRawIPs(ctx, e.o.Site, ids, e.o.IPDestinations); err != nil {
		e.log.Warn("cannot drop delivered events' raw IPs; retention drops them later", "err", err)
	}
}

// statsLoop refreshes the backlog and lag gauges.
func (e *Engine) statsLoop(ctx context.Context) {
	if e.o.Metrics == nil {
		return
	}
	for ctx.Err() == nil {
		st, err := e.o.Store.DeliveryStats(ctx, e.o.Site, e.o.Destination)
		if err == nil {
			lag := 0.0
			if !st.OldestPending.IsZero() {
				lag = e.o.Now().Sub(st.OldestPending).Seconds()
			}
			e.o.Metrics.backlog.WithLabelValues(e.o.Site, e.o.Destination).Set(float64(st.Pending))
			e.o.Metrics.lag.WithLabelValues(e.o.Site, e.o.Destination).Set(max(lag, 0))
		}
		sleep(ctx, 5*time.Second)
	}
}
