package collect

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/ingest"
	"github.com/trackstack/trackstack/runtime/store"
)

// SuppressionRefresh is how often the collector rereads the suppression
// list: an erased person asked to be suppressed stops being recorded at
// most this long after the erasure.
const SuppressionRefresh = 30 * time.Second

// suppressor drops the events of suppressed people before they are
// written, reporting them as stored: whoever sends them learns nothing of
// the suppression. Sites with an empty list cost one map lookup.
type suppressor struct {
	next    ingest.EventWriter
	sites   atomic.Pointer[[]string]
	lists   atomic.Pointer[map[string]*store.SuppressedSet]
	dropped *prometheus.CounterVec
	stop    context.CancelFunc
	done    sync.WaitGroup
}

// newSuppressor wraps next; with a store that keeps suppression lists, it
// loads them now and rereads them every SuppressionRefresh until close.
func newSuppressor(next ingest.EventWriter, st store.Store, sites []string, reg prometheus.Registerer, log *slog.Logger) (*suppressor, error) {
	s := &suppressor{next: next, dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trackstack_collect_suppressed_events_total",
		Help: "Events dropped because their visitor, user or email was suppressed by an erasure.",
	}, []string{"site"})}
	if err := reg.Register(s.dropped); err != nil {
		return nil, err
	}
	empty := map[string]*store.SuppressedSet{}
	s.lists.Store(&empty)
	s.setSites(sites)
	er, ok := st.(store.Erasure)
	if !ok {
		s.stop = func() {}
		return s, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	s.load(ctx, er, log)
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		t := time.NewTicker(SuppressionRefresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.load(ctx, er, log)
			}
		}
	}()
	return s, nil
}

// load rereads every site's list; a site whose list cannot be read keeps
// the one it had.
func (s *suppressor) load(ctx context.Context, er store.Erasure, log *slog.Logger) {
	old, sites := *s.lists.Load(), *s.sites.Load()
	next := make(map[string]*store.SuppressedSet, len(sites))
	for _, site := range sites {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		list, err := er.Suppressions(ctx, site)
		cancel()
		if err != nil {
			log.Warn("cannot reread the suppression list; keeping the last one", "site", site, "err", err)
			next[site] = old[site]
			continue
		}
		next[site] = store.NewSuppressedSet(list)
	}
	s.lists.Store(&next)
}

// Write writes the events of people not suppressed.
func (s *suppressor) Write(ctx context.Context, events []event.Event) (int, error) {
	lists := *s.lists.Load()
	// kept stays nil until the first drop: a batch with nothing to drop
	// is written as it came, without a copy.
	var kept []event.Event
	dropped := 0
	for i, e := range events {
		if lists[e.Site].Suppressed(&e) {
			if kept == nil {
				kept = append(make([]event.Event, 0, len(events)), events[:i]...)
			}
			dropped++
			s.dropped.WithLabelValues(e.Site).Inc()
			continue
		}
		if kept != nil {
			kept = append(kept, e)
		}
	}
	if dropped == 0 {
		return s.next.Write(ctx, events)
	}
	if len(kept) == 0 {
		return dropped, nil
	}
	n, err := s.next.Write(ctx, kept)
	return n + dropped, err
}

// setSites sets the sites whose lists are read (from the next reread).
func (s *suppressor) setSites(sites []string) {
	s.sites.Store(&sites)
}

// close stops rereading the lists.
func (s *suppressor) close() {
	s.stop()
	s.done.Wait()
}
