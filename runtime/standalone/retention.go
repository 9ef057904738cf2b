package standalone

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/retention"
)

// retentionJob is one site's policy on its schedule, as the operator's
// CronJob would run it.
type retentionJob struct {
	site     *config.Runtime
	policy   config.Retention
	schedule cron.Schedule
	loc      *time.Location
}

// retentionJobs are the scheduled policies of every site.
type retentionJobs struct {
	jobs    []retentionJob
	store   retention.Store
	metrics *retention.Metrics
}

// newRetentionJobs parses every unsuspended policy's schedule, with the
// cron syntax Kubernetes CronJobs take.
func (s *Server) newRetentionJobs(reg prometheus.Registerer) (*retentionJobs, error) {
	rj := &retentionJobs{}
	for _, rt := range s.sites {
		for _, p := range rt.Retention {
			if p.Suspend {
				s.log.Info("retention policy suspended: not scheduled", "site", rt.Site.Name, "policy", p.Name)
				continue
			}
			sched, err := cron.ParseStandard(p.Schedule)
			if err != nil {
				return nil, fmt.Errorf("%w: RetentionPolicy %s: schedule %q: %w", ErrConfig, p.Name, p.Schedule, err)
			}
			loc, err := time.LoadLocation(p.TimeZone)
			if err != nil {
				return nil, fmt.Errorf("%w: RetentionPolicy %s: timeZone %q: %w", ErrConfig, p.Name, p.TimeZone, err)
			}
			rj.jobs = append(rj.jobs, retentionJob{site: rt, policy: p, schedule: sched, loc: loc})
		}
	}
	if len(rj.jobs) == 0 {
		return rj, nil
	}
	st, ok := s.store.(retention.Store)
	if !ok {
		return nil, fmt.Errorf("the store cannot apply retention")
	}
	m, err := retention.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	rj.store, rj.metrics = st, m
	return rj, nil
}

// run runs each job at its scheduled times until ctx ends. A run in
// progress when ctx ends stops between batches; the next start finishes
// its work.
func (rj *retentionJobs) run(ctx context.Context, s *Server) {
	var wg sync.WaitGroup
	for _, j := range rj.jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rj.loop(ctx, s, j)
		}()
	}
	wg.Wait()
}

func (rj *retentionJobs) loop(ctx context.Context, s *Server, j retentionJob) {
	log := s.log.With("site", j.site.Site.Name, "policy", j.policy.Name)
	for {
		next := j.schedule.Next(time.Now().In(j.loc))
		log.Debug("retention scheduled", "next", next)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		// Run logs the outcome; a failure is retried at the next time.
		retention.Run(ctx, retention.Options{Store: rj.store, Site: j.site, Policy: j.policy, Now: time.Now(), //nolint:errcheck // logged by Run
			Logger: log, Metrics: rj.metrics})
	}
}
