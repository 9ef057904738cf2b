package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// copyColumns are the events columns COPY fills, in copySource.Values order.
// seq is left to its default.
var copyColumns = []string{
	"site", "received_at", "event_id", "type", "name", "source", "occurred_at",
	"visitor_id", "session_id", "user_id", "url", "referrer",
	"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "channel",
	"click_ids", "value", "currency", "order_id",
	"consent_ad_storage", "consent_analytics_storage", "consent_ad_user_data", "consent_ad_personalization",
	"device_browser", "device_os", "device_type",
	"ip", "user_agent", "screen", "language", "fbp", "fbc", "ga_client_id",
	"user_data", "properties",
}

// claimIDs records the keys of a batch in event_ids and returns the input
// positions (1-based) of the keys that were new, as one array: one round
// trip, and no strings to scan back.
const claimIDs = `
WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS t(site, event_id, received_at, ord)
), claimed AS (
    INSERT INTO event_ids (site, event_id, received_at)
    SELECT site, event_id, received_at FROM input
    ON CONFLICT DO NOTHING
    RETURNING site, event_id
)
SELECT coalesce(array_agg(input.ord), '{}') FROM input JOIN claimed USING (site, event_id)`

type key struct{ site, id string }

// Insert stores events in one transaction; see store.Store.
func (s *Store) Insert(ctx context.Context, events []event.Event) (int, error) {
	return s.InsertMarked(ctx, events, nil)
}

// InsertMarked is Insert that also reports which events were new: when
// inserted is not nil (it must then have len(events)), inserted[i] is set to
// whether events[i] was stored by this call. A key repeated within events
// is stored and marked at its first position only. On error no event is
// marked.
func (s *Store) InsertMarked(ctx context.Context, events []event.Event, inserted []bool) (int, error) {
	if inserted != nil && len(inserted) != len(events) {
		return 0, fmt.Errorf("while inserting events: %d marks for %d events", len(inserted), len(events))
	}
	for i := range inserted {
		inserted[i] = false
	}
	if len(events) == 0 {
		return 0, nil
	}

	// Normalize, and drop repeats within the call (the first one wins).
	batch := make([]event.Event, 0, len(events))
	pos := make([]int, 0, len(events)) // batch index -> events index
	seen := make(map[key]struct{}, len(events))
	var days []int64
	for i := range events {
		e, err := store.Normalize(events[i])
		if err != nil {
			return 0, fmt.Errorf("while inserting event %d: %w", i, err)
		}
		k := key{e.Site, e.EventID}
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		batch = append(batch, e)
		pos = append(pos, i)
		if d := unixDay(e.ReceivedAt); len(days) == 0 || !containsDay(days, d) {
			days = append(days, d)
		}
	}
	if err := s.ensurePartitions(ctx, days); err != nil {
		return 0, err
	}

	sites := make([]string, len(batch))
	ids := make([]string, len(batch))
	times := make([]time.Time, len(batch))
	for i := range batch {
		sites[i], ids[i], times[i] = batch[i].Site, batch[i].EventID, batch[i].ReceivedAt
	}

	var fresh []int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, claimIDs, sites, ids, times).Scan(&fresh); err != nil {
			return fmt.Errorf("while recording event ids: %w", err)
		}
		if len(fresh) == 0 {
			return nil
		}
		src := &copySource{events: batch, rows: fresh, values: make([]any, len(copyColumns))}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, copyColumns, src); err != nil {
			return fmt.Errorf("while copying events: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("while inserting %d events: %w", len(batch), classify(err))
	}
	for _, ord := range fresh {
		if inserted != nil {
			inserted[pos[ord-1]] = true
		}
	}
	return len(fresh), nil
}

func containsDay(days []int64, d int64) bool {
	for _, x := range days {
		if x == d {
			return true
		}
	}
	return false
}

// copySource feeds the new events of a batch to COPY, reusing one values
// slice for every row.
type copySource struct {
	events []event.Event
	rows   []int64 // 1-based positions in events, from claimIDs
	next   int
	values []any
	err    error
}

func (c *copySource) Next() bool {
	if c.next >= len(c.rows) {
		return false
	}
	c.next++
	return true
}

func (c *copySource) Err() error { return c.err }

func (c *copySource) Values() ([]any, error) {
	e := &c.events[c.rows[c.next-1]-1]
	v := c.values
	v[0], v[1], v[2] = e.Site, e.ReceivedAt, e.EventID
	v[3], v[4], v[5], v[6] = string(e.Type), e.Name, string(e.Source), e.Timestamp
	v[7], v[8], v[9], v[10], v[11] = null(e.VisitorID), null(e.SessionID), null(e.UserID), null(e.URL), null(e.Referrer)
	v[12], v[13], v[14], v[15], v[16] = null(e.UTM.Source), null(e.UTM.Medium), null(e.UTM.Campaign), null(e.UTM.Term), null(e.UTM.Content)
	v[17] = null(e.Channel)
	v[18] = nil
	if len(e.ClickIDs) > 0 {
		b, err := json.Marshal(e.ClickIDs)
		if err != nil {
			return nil, fmt.Errorf("while encoding click ids of event %q: %w", e.EventID, err)
		}
		v[18] = b
	}
	v[19] = nil
	if e.Value != nil {
		v[19] = *e.Value
	}
	v[20], v[21] = null(e.Currency), null(e.OrderID)
	v[22], v[23], v[24], v[25] = null(e.Consent.AdStorage), null(e.Consent.AnalyticsStorage), null(e.Consent.AdUserData), null(e.Consent.AdPersonalization)
	v[26], v[27], v[28] = null(e.Device.Browser), null(e.Device.OS), null(e.Device.Type)
	v[29], v[30], v[31], v[32] = null(e.IP), null(e.UserAgent), null(e.Screen), null(e.Language)
	v[33], v[34], v[35] = null(e.FBP), null(e.FBC), null(e.GAClientID)
	v[36] = nil
	if !e.User.Empty() {
		b, err := json.Marshal(e.User)
		if err != nil {
			return nil, fmt.Errorf("while encoding user data of event %q: %w", e.EventID, err)
		}
		v[36] = b
	}
	v[37] = nil
	if len(e.Properties) > 0 {
		v[37] = []byte(e.Properties)
	}
	return v, nil
}

// null maps an empty string to SQL NULL: absent fields cost no bytes, and
// the dashboard's GROUP BYs read "not set" as NULL.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}
