package forward

import (
	"context"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
)

// Item is one event to send, as the engine hands it to a Platform.
type Item struct {
	// Event is the stored event. Event.RawIP holds the visitor's real IP
	// when the store kept it (encrypted) for matching, else "".
	Event event.Event
	// Name is the platform's event name, from the destination's mapping or
	// the platform's defaults.
	Name string
	// Original, for a refund or a cancellation (event names "refund" and
	// "cancel" with an order id), is the sale it adjusts, when stored.
	Original *event.Event
}

// Outcome is what became of one item of a batch.
type Outcome struct {
	// Status is Sent, Failed (permanent: never retried) or Retry.
	Status Status
	// Reason says why an item failed or is retried: short, readable, and
	// never a secret or personal data.
	Reason string
	// ResponseID is the platform's id for the request or the event
	// (fbtrace_id, requestId, message id, ...), kept on the record.
	ResponseID string
	// RetryAfter, for Retry, is how long the platform asked to wait; zero
	// lets the engine's backoff decide.
	RetryAfter time.Duration
}

// Status is an item's outcome.
type Status int

// Outcomes of an item.
const (
	Sent Status = iota + 1
	Failed
	Retry
)

func (s Status) String() string {
	switch s {
	case Sent:
		return "sent"
	case Failed:
		return "failed"
	case Retry:
		return "retry"
	}
	return "unknown"
}

// Platform sends events to one ad platform, alert channel or webhook. An
// adapter package per platform implements it; the engine owns batching,
// retries, records and metrics.
type Platform interface {
	// MaxBatch is the most items one Send may carry (the platform's request
	// limit; 1 for channels that take one message per request).
	MaxBatch() int
	// Send sends items in one request (or as few as the platform needs) and
	// returns one Outcome per item, in order. Items the platform would
	// reject are Failed before sending and left out of the request, so one
	// bad event never sinks a batch. An error instead of outcomes means the
	// whole batch failed the same way; it is an *Error when the adapter
	// could classify it, and any other error counts as transient.
	Send(ctx context.Context, items []Item) ([]Outcome, error)
}

// Defaulter is implemented by platforms with default event names: the
// mapping used when a Destination lists no events. Keys are trackstack
// event names (purchase, lead, signup, ...); values the platform's names.
type Defaulter interface {
	DefaultEvents() map[string]string
}
