package collect

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/sqlite"
)

type recordingWriter struct{ got []string }

func (w *recordingWriter) Write(_ context.Context, events []event.Event) (int, error) {
	for _, e := range events {
		w.got = append(w.got, e.EventID)
	}
	return len(events), nil
}

// TestSuppressorDropsErasedPeople: after an erasure that asked for
// suppression, the person's events (by visitor id, by a user id they had,
// by the email digest) are dropped and reported as stored; everyone
// else's, and other sites', are written.
func TestSuppressorDropsErasedPeople(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := st.Insert(ctx, []event.Event{{Site: "shop", EventID: "old", Type: event.TypePageview, Source: event.SourceBrowser,
		VisitorID: "v-gone", UserID: "u-gone", Timestamp: now, ReceivedAt: now}}); err != nil {
		t.Fatal(err)
	}
	id, err := st.RequestErasure(ctx, store.ErasureRequest{Site: "shop", RequestedAt: now, RequestedBy: "admin", KeyKind: store.KeyVisitorID, Key: "v-gone", Suppress: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RunErasure(ctx, "shop", id, now, false); err != nil {
		t.Fatal(err)
	}
	next := &recordingWriter{}
	reg := prometheus.NewRegistry()
	s, err := newSuppressor(next, st, []string{"shop", "blog"}, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	ev := func(site, id, visitor, user string) event.Event {
		return event.Event{Site: site, EventID: id, VisitorID: visitor, UserID: user}
	}
	n, err := s.Write(ctx, []event.Event{
		ev("shop", "kept-1", "v-new", ""),
		ev("shop", "by-visitor", "v-gone", ""),
		ev("shop", "by-user", "v-other-device", "u-gone"),
		ev("blog", "other-site", "v-gone", ""),
		ev("shop", "kept-2", "v-new", "u-new"),
	})
	if err != nil || n != 5 {
		t.Fatalf("Write = %d, %v; want all 5 reported stored", n, err)
	}
	if got := next.got; len(got) != 3 || got[0] != "kept-1" || got[1] != "other-site" || got[2] != "kept-2" {
		t.Errorf("written %v, want kept-1, other-site, kept-2", got)
	}
	if d := testutil.ToFloat64(s.dropped.WithLabelValues("shop")); d != 2 {
		t.Errorf("suppressed counter = %v, want 2", d)
	}
}
