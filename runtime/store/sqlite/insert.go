package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// insertEvent skips an event whose (site, event_id) is stored. ON CONFLICT
// names the one constraint to ignore, where INSERT OR IGNORE would also
// drop rows that break any other constraint without a word.
const insertEvent = `INSERT INTO events (
    site, received_at, event_id, type, name, source, occurred_at,
    visitor_id, session_id, user_id, url, referrer,
    utm_source, utm_medium, utm_campaign, utm_term, utm_content, channel,
    click_ids, value, currency, order_id,
    consent_ad_storage, consent_analytics_storage, consent_ad_user_data, consent_ad_personalization,
    device_browser, device_os, device_type,
    ip, user_agent, screen, language, fbp, fbc, ga_client_id,
    user_data, properties, ip_sealed
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (site, event_id) DO NOTHING`

// Insert stores events in one transaction; see store.Store.
func (s *Store) Insert(ctx context.Context, events []event.Event) (int, error) {
	return s.InsertMarked(ctx, events, nil)
}

// InsertMarked is Insert that also reports which events were new: when
// inserted is not nil (it must then have len(events)), inserted[i] is set to
// whether events[i] was stored by this call. On error no event is marked.
func (s *Store) InsertMarked(ctx context.Context, events []event.Event, inserted []bool) (int, error) {
	n, err := s.insertMarked(ctx, events, inserted)
	return n, classify(err)
}

func (s *Store) insertMarked(ctx context.Context, events []event.Event, inserted []bool) (int, error) {
	if inserted != nil && len(inserted) != len(events) {
		return 0, fmt.Errorf("while inserting events: %d marks for %d events", len(inserted), len(events))
	}
	for i := range inserted {
		inserted[i] = false
	}
	if len(events) == 0 {
		return 0, nil
	}
	batch := make([]event.Event, len(events))
	for i := range events {
		e, err := store.Normalize(events[i])
		if err != nil {
			return 0, fmt.Errorf("while inserting event %d: %w", i, err)
		}
		batch[i] = e
	}

	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("while starting the insert transaction: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, insertEvent)
	if err != nil {
		return 0, fmt.Errorf("while preparing the insert: %w", err)
	}
	defer stmt.Close()
	marks := make([]bool, len(batch))
	n := 0
	args := make([]any, 39)
	for i := range batch {
		e := &batch[i]
		stored, err := execInsert(ctx, stmt, args, e)
		if err != nil {
			return 0, err
		}
		if !stored && e.Source == event.SourceServer {
			if stored, err = supersede(ctx, tx, stmt, args, e); err != nil {
				return 0, err
			}
			if stored && unmarkEarlier(batch[:i], marks, e) {
				n-- // the browser event of this call it superseded
			}
		}
		if stored {
			marks[i] = true
			n++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("while committing %d events: %w", len(batch), err)
	}
	if inserted != nil {
		copy(inserted, marks)
	}
	return n, nil
}

// unmarkEarlier clears the mark of the event of earlier with e's key, if
// one was stored by this call, and reports whether there was one. Only a
// superseding event calls it, so the scan stays off the common path.
func unmarkEarlier(earlier []event.Event, marks []bool, e *event.Event) bool {
	for j := range earlier {
		if marks[j] && earlier[j].Site == e.Site && earlier[j].EventID == e.EventID {
			marks[j] = false
			return true
		}
	}
	return false
}

// execInsert inserts e unless its key is stored, and reports whether it did.
func execInsert(ctx context.Context, stmt *sql.Stmt, args []any, e *event.Event) (bool, error) {
	if err := rowArgs(args, e); err != nil {
		return false, err
	}
	res, err := stmt.ExecContext(ctx, args...)
	if err != nil {
		return false, fmt.Errorf("while inserting event %q: %w", e.EventID, err)
	}
	affected, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("while inserting event %q: %w", e.EventID, err)
	}
	return affected > 0, nil
}

// supersede replaces the stored browser event with e's key, if there is
// one, by store.Supersede(e, browser) (store.Supersedes), and reports
// whether it did.
func supersede(ctx context.Context, tx *sql.Tx, stmt *sql.Stmt, args []any, e *event.Event) (bool, error) {
	var sc eventScan
	row := tx.QueryRowContext(ctx, `SELECT `+store.EventColumns+`, ip_sealed FROM events WHERE site = ? AND event_id = ? AND source = 'browser'`, e.Site, e.EventID)
	err := row.Scan(append(sc.dest(), &sc.e.RawIPSealed)...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("while reading the browser event %q to supersede: %w", e.EventID, err)
	}
	b, err := sc.event()
	if err != nil {
		return false, fmt.Errorf("while reading the browser event %q to supersede: %w", e.EventID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE site = ? AND event_id = ?`, e.Site, e.EventID); err != nil {
		return false, fmt.Errorf("while superseding browser event %q: %w", e.EventID, err)
	}
	merged := store.Supersede(*e, b)
	return execInsert(ctx, stmt, args, &merged)
}

func rowArgs(v []any, e *event.Event) error {
	v[0], v[1], v[2] = e.Site, micros(e.ReceivedAt), e.EventID
	v[3], v[4], v[5], v[6] = string(e.Type), e.Name, string(e.Source), micros(e.Timestamp)
	v[7], v[8], v[9], v[10], v[11] = null(e.VisitorID), null(e.SessionID), null(e.UserID), null(e.URL), null(e.Referrer)
	v[12], v[13], v[14], v[15], v[16] = null(e.UTM.Source), null(e.UTM.Medium), null(e.UTM.Campaign), null(e.UTM.Term), null(e.UTM.Content)
	v[17] = null(e.Channel)
	v[18] = nil
	if len(e.ClickIDs) > 0 {
		b, err := json.Marshal(e.ClickIDs)
		if err != nil {
			return fmt.Errorf("while encoding click ids of event %q: %w", e.EventID, err)
		}
		v[18] = string(b)
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
			return fmt.Errorf("while encoding user data of event %q: %w", e.EventID, err)
		}
		v[36] = string(b)
	}
	v[37] = nil
	if len(e.Properties) > 0 {
		v[37] = string(e.Properties)
	}
	v[38] = nil
	if len(e.RawIPSealed) > 0 {
		v[38] = e.RawIPSealed
	}
	return nil
}

// null stores an empty string as NULL, as the PostgreSQL store does.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func micros(t time.Time) int64 { return t.UnixMicro() }
