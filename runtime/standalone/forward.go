package standalone

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forwarder"
)

// forwarders are the engines of every site's unpaused Destinations, run in
// this process beside the collector.
type forwarders struct {
	engines []*forward.Engine
}

// newForwarders builds an engine per unpaused Destination and opens its
// cursor (a new Destination starts now: files carry no creation time). A
// paused one builds nothing and keeps its place for when it is resumed.
func (s *Server) newForwarders(ctx context.Context, reg prometheus.Registerer) (*forwarders, error) {
	var metrics *forward.Metrics
	fw := &forwarders{}
	for _, rt := range s.sites {
		for i := range rt.Destinations {
			d := &rt.Destinations[i]
			log := s.log.With("site", rt.Site.Name, "destination", d.Name, "type", d.Type)
			if d.Paused {
				log.Info("destination paused: sending nothing, its place in the events is kept")
				continue
			}
			st, ok := s.store.(forward.Store)
			if !ok {
				return nil, fmt.Errorf("the store cannot record deliveries")
			}
			if metrics == nil {
				var err error
				if metrics, err = forward.NewMetrics(reg); err != nil {
					return nil, err
				}
			}
			eng, err := forwarder.Engine(forwarder.Options{Config: rt, Store: st, Logger: s.log, Metrics: metrics, Tune: s.opts.TuneForwarders}, d)
			if err != nil {
				return nil, fmt.Errorf("%w: Destination %s: %w", ErrConfig, d.Name, err)
			}
			if created, err := forwarder.Start(ctx, st, rt.Site.Name, d, time.Time{}, time.Now()); err != nil {
				return nil, err
			} else if created {
				log.Info("new destination: sending events received from now on")
			}
			fw.engines = append(fw.engines, eng)
		}
	}
	return fw, nil
}

// run runs every engine until ctx ends.
func (fw *forwarders) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, e := range fw.engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.Run(ctx) //nolint:errcheck // Run returns nil when ctx ends
		}()
	}
	wg.Wait()
}
