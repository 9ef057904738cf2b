package forward

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// A page is one read of the feed on its way to the store: the deliveries
// to send from memory, the records of what was decided or answered, and
// the cursor move past it. Nothing of a page is written before every one
// of its deliveries has an outcome; then its records and the cursor move
// are settled in one transaction. So a record never says sent before the
// platform answered, and an event fed but not settled when the forwarder
// dies is fed again, because the cursor has not moved past it. Writing
// each record once, with its outcome, halves what forwarding writes.
type page struct {
	// gen is the Engine.gen it was fed at.
	gen  uint64
	move store.CursorMove
	// send are the deliveries to send, unsent how many of them have no
	// outcome yet.
	send   []store.PendingDelivery
	unsent int
	// records are the outcomes so far, and the skipped ones.
	records []store.Delivery
}

// freshDelivery is a delivery of a page the send loop holds.
type freshDelivery struct {
	page *page
	i    int // in page.send
}

func (f freshDelivery) delivery() *store.PendingDelivery { return &f.page.send[f.i] }

// feedOnce reads the page after the one it read last (after the cursor
// at first, and after a backfill moved it) and hands it to the send loop.
// It waits while the send loop is behind, so memory stays bounded. It
// returns how many events it read.
func (e *Engine) feedOnce(ctx context.Context) (int, error) {
	if gen := e.gen.Load(); e.next == nil || e.nextGen != gen {
		_, pos, err := e.o.Store.Feed(ctx, e.o.Site, e.o.Destination, 0)
		if err != nil {
			return 0, err
		}
		e.next, e.nextGen = &pos, gen
	}
	evs, pos, err := e.o.Store.FeedFrom(ctx, e.o.Site, e.o.Destination, *e.next, e.o.FeedLimit)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	p, err := e.newPage(ctx, evs, store.CursorMove{From: *e.next, To: pos})
	if err != nil {
		return 0, err
	}
	// Once handed over, the page is the send loop's.
	toSend, skipped := len(p.send), len(p.records)
	select {
	case e.pages <- p:
		*e.next = pos
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	e.count(store.DeliverySkipped, reasonConsent, skipped)
	e.log.Debug("fed events", "read", len(evs), "to_send", toSend, "skipped", skipped)
	return len(evs), nil
}

// newPage decides what to do with the events fed: send those the mapping
// takes, unless they lack consent (skipped) or already have a record. An
// event with a record is fed again after a backfill, and then is not sent
// again, unless it is a server event superseding the browser event the
// record was made for.
func (e *Engine) newPage(ctx context.Context, evs []event.Event, move store.CursorMove) (*page, error) {
	names := make([]string, len(evs))
	var ids []string
	for i := range evs {
		if name, ok := e.o.Mapping.SendAs(&evs[i]); ok {
			names[i] = name
			ids = append(ids, evs[i].EventID)
		}
	}
	recorded, err := e.o.Store.Recorded(ctx, e.o.Site, e.o.Destination, ids)
	if err != nil {
		return nil, err
	}
	p := &page{gen: e.nextGen, move: move, send: make([]store.PendingDelivery, 0, len(ids))}
	for i := range evs {
		ev := &evs[i]
		if names[i] == "" {
			continue
		}
		if src, ok := recorded[ev.EventID]; ok && (src != event.SourceBrowser || ev.Source != event.SourceServer) {
			continue
		}
		rec := store.Delivery{EventID: ev.EventID, SendAs: names[i], Status: store.DeliveryPending,
			ReceivedAt: ev.ReceivedAt, Source: ev.Source}
		if why := e.o.Mapping.ConsentMissing(ev); why != "" {
			rec.Status, rec.Reason = store.DeliverySkipped, why
			p.records = append(p.records, rec)
			continue
		}
		p.send = append(p.send, store.PendingDelivery{Delivery: rec, Event: *ev})
	}
	p.unsent = len(p.send)
	p.records = slices.Grow(p.records, p.unsent)
	return p, nil
}

// takePages moves pages the feed loop handed over into the queue and
// their deliveries into held, until held has limit deliveries or no page
// waits. Pages fed before the cursor moved under the send loop are
// dropped.
func (e *Engine) takePages(limit int) {
	for len(e.held) < limit {
		select {
		case p := <-e.pages:
			if p.gen != e.gen.Load() {
				continue
			}
			e.queue = append(e.queue, p)
			for i := range p.send {
				e.held = append(e.held, freshDelivery{page: p, i: i})
			}
		default:
			return
		}
	}
}

// settle stores the records of the leading pages whose deliveries all
// have an outcome, and moves the cursor past them, in one transaction.
// It does so even when ctx ended: what the platform confirmed must not be
// sent again after a restart.
func (e *Engine) settle(ctx context.Context) error {
	done := 0
	var records []store.Delivery
	for done < len(e.queue) && e.queue[done].unsent == 0 {
		records = append(records, e.queue[done].records...)
		done++
	}
	if done == 0 {
		return nil
	}
	move := store.CursorMove{From: e.queue[0].move.From, To: e.queue[done-1].move.To}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := e.o.Store.Settle(rctx, e.o.Site, e.o.Destination, records, &move)
	switch {
	case errors.Is(err, store.ErrCursorMoved):
		e.log.Info("the cursor was moved (a backfill); reading the feed again from there")
		e.resync()
	case err != nil:
		return err
	default:
		clear(e.queue[:done])
		e.queue = e.queue[done:]
	}
	e.forgetRawIPs(rctx, records)
	return nil
}

// resync drops the pages the send loop holds and makes the feed loop read
// on from the cursor.
func (e *Engine) resync() {
	e.gen.Add(1)
	e.queue, e.held = nil, nil
}
