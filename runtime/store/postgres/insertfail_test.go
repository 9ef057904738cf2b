package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

// TestFailedInsertLeavesNothing makes PostgreSQL refuse one event of a
// batch, on a pool of one connection: the insert fails with the server's
// reason, nothing of the batch stays (not even its ids: a retry stores
// every event as new), and the connection is still in step for the next
// inserts.
func TestFailedInsertLeavesNothing(t *testing.T) {
	ctx := context.Background()
	dsn := pg.NewDatabase(t)
	s := openDSN(t, dsn+"&pool_max_conns=1")
	defer s.Close()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	refuse := `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.event_id = 'refused' THEN RAISE EXCEPTION 'refused by the test'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse()`
	if _, err := admin.Exec(ctx, refuse); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	batch := []event.Event{storetest.Full("shop", "kept-1", now), storetest.Full("shop", "refused", now), storetest.Full("shop", "kept-2", now)}
	for range 3 {
		if n, err := s.Insert(ctx, batch); err == nil || !strings.Contains(err.Error(), "refused by the test") {
			t.Fatalf("Insert = %d, %v; want the trigger's error", n, err)
		}
	}
	if n, err := s.Insert(ctx, []event.Event{storetest.Full("shop", "after", now)}); n != 1 || err != nil {
		t.Fatalf("an insert after the failures: %d, %v; want 1 stored", n, err)
	}
	if _, err := admin.Exec(ctx, "DROP TRIGGER refuse ON events"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Insert(ctx, batch); n != 3 || err != nil {
		t.Fatalf("the batch again: %d, %v; want all 3 stored as new", n, err)
	}
	var stored int
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&stored); err != nil || stored != 4 {
		t.Fatalf("%d events stored (%v), want 4", stored, err)
	}
}
