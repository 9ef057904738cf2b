package store

import (
	"context"
	"errors"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
)

// Delivery statuses. A delivery record is the fate of one event at one
// destination; pending is the only one a forwarder still acts on.
const (
	DeliveryPending = "pending"
	DeliverySent    = "sent"
	DeliverySkipped = "skipped"
	DeliveryFailed  = "failed"
)

// ErrNoCursor means the destination has no cursor yet: OpenCursor first.
var ErrNoCursor = errors.New("destination has no cursor")

// ErrCursorMoved means Settle found the cursor elsewhere than where the
// forwarder left it (a backfill reset it meanwhile): the records were
// stored, the cursor was left where it is, and the forwarder must read
// the feed again from there.
var ErrCursorMoved = errors.New("destination's cursor moved meanwhile")

// Delivery is one event's delivery record at one destination.
type Delivery struct {
	Site        string
	Destination string
	EventID     string
	// Status is one of the Delivery* constants.
	Status string
	// SendAs is the platform's name for the event, fixed when the record is
	// created so a mapping change never renames what is half sent.
	SendAs string
	// Source is the source of the event the record was made for (Track):
	// a record made for a browser event gives way to the server event that
	// supersedes it.
	Source event.Source
	// Reason says why a delivery was skipped or failed, or why its last
	// attempt did not succeed; never a secret or personal data.
	Reason string
	// Attempts counts the requests that carried the event.
	Attempts int
	// ResponseID is the platform's id for the request that delivered it
	// (fbtrace_id, requestId, ...).
	ResponseID string
	// NextAttemptAt is when a pending delivery is due (zero: now).
	NextAttemptAt time.Time
	// ReceivedAt is the event's received_at: it finds the event, and lag is
	// measured from it.
	ReceivedAt time.Time
	UpdatedAt  time.Time
}

// PendingDelivery is a due pending delivery with the event it delivers.
type PendingDelivery struct {
	Delivery Delivery
	Event    event.Event
}

// FeedPosition is a destination's place in its site's events. It is opaque
// to callers: they get it from Feed and hand it back to Track, FeedFrom
// or Settle.
type FeedPosition struct {
	// A and B are the implementation's ordering key (PostgreSQL: the
	// inserting transaction's id and seq; SQLite: 0 and the row's seq).
	A, B int64
}

// CursorMove moves a destination's cursor from one position to the next,
// only if it still is at From.
type CursorMove struct {
	From, To FeedPosition
}

// DeliveryStats summarizes a destination's undelivered events.
type DeliveryStats struct {
	// Pending counts pending deliveries.
	Pending int64
	// OldestPending is the received_at of the oldest pending delivery's
	// event; zero when none is pending.
	OldestPending time.Time
	// Counts are the delivery records per status.
	Counts map[string]int64
}

// DeliveryDay is a destination's delivery records of one UTC day of
// received_at, per status.
type DeliveryDay struct {
	Day    string           // YYYY-MM-DD
	Counts map[string]int64 // by status
}

// Deliveries is what a forwarder needs of the store, beside Store. Every
// call is scoped to one site and one destination: a forwarder never reads
// or changes another's records.
//
// The feed is exact: Feed returns every event of the site exactly once in
// an order in which no event can appear before one already returned, even
// when the collectors' transactions commit out of order (an event whose
// transaction is still open is held back, and so is everything after it).
type Deliveries interface {
	// OpenCursor creates the destination's cursor, starting at the events
	// received at or after since, unless it exists; it returns whether it
	// created it. Reset moves an existing cursor back to since (a backfill):
	// events with a record keep it, so nothing already sent is sent again.
	OpenCursor(ctx context.Context, site, destination string, since time.Time, reset bool) (created bool, err error)
	// Feed returns up to limit events after the destination's cursor (with
	// their RawIPSealed), and the position after the last one (the
	// cursor's own when none).
	Feed(ctx context.Context, site, destination string, limit int) ([]event.Event, FeedPosition, error)
	// FeedFrom is Feed from pos, a position an earlier Feed or FeedFrom
	// returned, instead of the cursor's: a forwarder reads the next page
	// while it still sends the one before, whose records, and the cursor
	// move past it, it has not settled yet.
	FeedFrom(ctx context.Context, site, destination string, pos FeedPosition, limit int) ([]event.Event, FeedPosition, error)
	// Recorded returns which of eventIDs have a record at the destination,
	// each with the source of the event it was made for: a forwarder sends
	// a fed event that has one only when it supersedes the browser event
	// the record was made for.
	Recorded(ctx context.Context, site, destination string, eventIDs []string) (map[string]event.Source, error)
	// Settle stores the records of deliveries a forwarder decided, and
	// mostly sent, straight from the feed, with any status, and moves the
	// cursor as move says (nil: it stays), in one transaction. Records
	// replace existing ones as Track's do; other existing ones stay. The
	// cursor moves only if it is at move.From; otherwise the records are
	// stored all the same and Settle returns ErrCursorMoved. Until the
	// cursor moved past an event, a restarted forwarder feeds it again, so
	// a forwarder settles an event only once the platform answered for it.
	Settle(ctx context.Context, site, destination string, records []Delivery, move *CursorMove) error
	// Track records deliveries (pending or skipped) and moves the cursor to
	// pos, in one transaction. A record whose event already has one at this
	// destination replaces it only when the event was superseded (a server
	// event taking a browser event's id is fed again): then it is pending
	// again with the new SendAs. Otherwise the existing record stays. It
	// returns the event ids whose record it created or replaced, so the
	// forwarder sends those and nothing that already had a record.
	Track(ctx context.Context, site, destination string, records []Delivery, pos FeedPosition) (tracked []string, err error)
	// Due returns up to limit pending deliveries whose NextAttemptAt is at
	// or before now, oldest event first, with their events. A pending
	// record whose event is gone (retention, erasure) is marked skipped.
	Due(ctx context.Context, site, destination string, now time.Time, limit int) ([]PendingDelivery, error)
	// Record stores the outcome of attempts: each record's Status, Reason,
	// Attempts, ResponseID and NextAttemptAt, matched by EventID.
	Record(ctx context.Context, site, destination string, records []Delivery) error
	// ListDeliveries returns the destination's records of one status, newest
	// first (status "" means all), for inspection.
	ListDeliveries(ctx context.Context, site, destination, status string, limit int) ([]Delivery, error)
	// Reclaim makes due now every pending record never attempted whose
	// NextAttemptAt is still ahead: a forwarder tracks fresh records with a
	// lease (a NextAttemptAt in the future) while it sends them from
	// memory, and reclaims them when it starts, since a run that died may
	// have held them. It returns how many.
	Reclaim(ctx context.Context, site, destination string, now time.Time) (int, error)
	// Replay makes failed deliveries pending again with zero attempts: one
	// event's when eventID is set, else all of them. It returns how many.
	Replay(ctx context.Context, site, destination, eventID string) (int, error)
	// DeliveryStats summarizes the destination's records.
	DeliveryStats(ctx context.Context, site, destination string) (DeliveryStats, error)
	// DeliveryDays counts the destination's records of events received in
	// [from, to) per UTC day and status, oldest day first; days without
	// records are left out.
	DeliveryDays(ctx context.Context, site, destination string, from, to time.Time) ([]DeliveryDay, error)
	// ForgetRawIPs drops the sealed raw IP of each of eventIDs that every
	// one of destinations has a final record for (sent, skipped or failed).
	// Forwarders call it after recording outcomes, naming the site's
	// destinations that match on the IP; naming none drops nothing.
	ForgetRawIPs(ctx context.Context, site string, eventIDs, destinations []string) error
	// OrderConversion returns the newest stored event of the site with that
	// order id and a positive value (the sale a refund or a cancellation
	// adjusts), and whether there is one.
	OrderConversion(ctx context.Context, site, orderID string) (event.Event, bool, error)
}
