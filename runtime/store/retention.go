package store

import (
	"context"
	"errors"
	"time"
)

// Retention is what the retention job needs of the store: deleting what a
// site's policy no longer allows it to keep. Every method works in small
// transactions, so ingest goes on beside it, and a run that is killed
// midway and started again finishes the job without counting a row twice.
type Retention interface {
	// ApplyRetention deletes, anonymizes and clears one site's events as
	// plan says and returns what it changed, or with plan.DryRun what it
	// would change, changing nothing.
	ApplyRetention(ctx context.Context, plan RetentionPlan) (RetentionCounts, error)
	// RecordRetentionRun stores the result of a run (never of a dry run),
	// so long-running processes can show and export it.
	RecordRetentionRun(ctx context.Context, run RetentionRun) error
	// LastRetentionRun returns the site's newest recorded run; ok is false
	// when there is none.
	LastRetentionRun(ctx context.Context, site string) (run RetentionRun, ok bool, err error)
}

// RetentionPlan is what one run does to one site. A zero time skips its
// step.
type RetentionPlan struct {
	Site string
	// DeleteBefore: events received before it are deleted, with their
	// dedup keys and delivery records.
	DeleteBefore time.Time
	// AnonymizeIPBefore: events received before it keep only the
	// anonymized form of their IP (AnonymizeIP), and lose the sealed raw
	// IP kept for forwarding.
	AnonymizeIPBefore time.Time
	// ClearPIIBefore: events received before it lose their matching data:
	// the hashed user data, the user id, the platform cookies (fbp, fbc,
	// the GA client id) and the sealed raw IP.
	ClearPIIBefore time.Time
	// AnonymizeIP returns the form of an IP address to keep.
	AnonymizeIP func(ip string) string
	// DryRun counts instead of changing.
	DryRun bool
	// BatchSize is the rows per transaction; 0 means DefaultRetentionBatch.
	BatchSize int
	// Duty is the share of the time a run spends in its transactions: after
	// a batch that took d, it waits d*(1-Duty)/Duty, leaving a database
	// with one writer (SQLite) to ingest the rest of the time. 0 is the
	// store's default; 1 never waits.
	Duty float64
	// Progress, when set, is called after each batch with the step's name
	// and the rows it has changed so far.
	Progress func(step string, rows int64)
}

// DefaultRetentionBatch keeps each transaction short enough that ingest
// and the dashboard never wait on retention for long.
const DefaultRetentionBatch = 5000

// Retention steps, as reported to Progress and in summaries.
const (
	StepDeleteEvents = "delete_events"
	StepAnonymizeIPs = "anonymize_ips"
	StepClearPII     = "clear_pii"
)

// RetentionCounts is what a run changed (or would change).
type RetentionCounts struct {
	// EventsDeleted counts events deleted, also those of dropped partitions.
	EventsDeleted int64 `json:"eventsDeleted"`
	// PartitionsDropped counts whole day partitions dropped (PostgreSQL).
	PartitionsDropped int64 `json:"partitionsDropped"`
	// KeysDeleted counts dedup keys deleted (PostgreSQL keeps them apart).
	KeysDeleted int64 `json:"keysDeleted"`
	// DeliveriesDeleted counts the delivery records of deleted events.
	DeliveriesDeleted int64 `json:"deliveriesDeleted"`
	// IPsAnonymized counts events whose IP was anonymized or whose sealed
	// raw IP was dropped.
	IPsAnonymized int64 `json:"ipsAnonymized"`
	// PIICleared counts events whose matching data was cleared.
	PIICleared int64 `json:"piiCleared"`
}

// Add adds o to c.
func (c *RetentionCounts) Add(o RetentionCounts) {
	c.EventsDeleted += o.EventsDeleted
	c.PartitionsDropped += o.PartitionsDropped
	c.KeysDeleted += o.KeysDeleted
	c.DeliveriesDeleted += o.DeliveriesDeleted
	c.IPsAnonymized += o.IPsAnonymized
	c.PIICleared += o.PIICleared
}

// RetentionRun is the stored result of one retention run.
type RetentionRun struct {
	Site       string
	Policy     string
	StartedAt  time.Time
	FinishedAt time.Time
	// Error is empty for a run that succeeded.
	Error string
	// Summary is the run's JSON summary.
	Summary []byte
}

// ErrNoSite means a request named no site.
var ErrNoSite = errors.New("no site given")
