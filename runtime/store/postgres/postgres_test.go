package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/trackstack/trackstack/runtime/internal/pgtest"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/postgres"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

var pg = pgtest.New()

func TestMain(m *testing.M) {
	code := m.Run()
	if err := pg.Close(); err != nil && code == 0 {
		code = 1
	}
	os.Exit(code)
}

// open returns a migrated store on a fresh database.
func open(t testing.TB) *postgres.Store {
	t.Helper()
	return openDSN(t, pg.NewDatabase(t))
}

// openDSN returns a migrated store on dsn.
func openDSN(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		s.Close()
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}
