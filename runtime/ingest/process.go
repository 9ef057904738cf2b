package ingest

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"time"

	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/throttle"
)

// outcome is how a batch request ends: a result (status 200) or an error.
type outcome struct {
	status int
	// retry is the Retry-After of a 429 or 503, in seconds.
	retry int
	msg   string
	res   result
	// cookie is the Set-Cookie value for a browser response, "" for none.
	cookie string
}

func failure(status int, msg string) outcome { return outcome{status: status, msg: msg} }

// rejectEvent records a rejected event for the response and the metric.
// Bots are counted but not listed: the response does not tell a bot which
// of its events were dropped, so it learns nothing to adapt to.
func rejectEvent(res *result, sm *sourceMetrics, i int, ev *event.Event, m *meta) {
	sm.rejected[m.reason].Inc()
	if m.reason == ReasonBot {
		res.Accepted++
		return
	}
	res.Rejected = append(res.Rejected, rejection{Index: i, EventID: ev.EventID, Reason: m.reason, Detail: m.detail})
}

// ingestBrowser validates, filters, identifies and enriches a browser batch
// and writes what survives.
func (c *Collector) ingestBrowser(r *http.Request, s *siteState, b *batch, ip netip.Addr, now time.Time) outcome {
	sm := &s.browserMetrics
	// The per-IP limit is the site's, so it applies once the body named
	// the site (sites sharing a tracker path may set different limits).
	if ok, d := s.ipLimits.allowRequest(ip, now); !ok {
		return outcome{status: http.StatusTooManyRequests, retry: throttle.RetryAfterSeconds(d), msg: "rate limit exceeded"}
	}
	if ok, d := allowN(s.browserLimit, now, len(b.events)); !ok {
		return outcome{status: http.StatusTooManyRequests, retry: throttle.RetryAfterSeconds(d), msg: "site event rate limit exceeded"}
	}
	ua := truncate(r.UserAgent(), maxUALen)
	uaInfo := c.ua.Parse(ua)
	// The newest event's consent is the page's current state.
	consent := b.events[len(b.events)-1].Consent
	visitor, cookie, err := s.browserVisitor(r, ip, ua, consent, now)
	if err != nil {
		c.log.Error("creating visitor id", "site", s.name, "err", err)
		return failure(http.StatusInternalServerError, "creating visitor id failed")
	}
	storedIP := enrich.AnonymizeIP(ip, s.anonymize)
	rawIP := ""
	if ip.IsValid() {
		rawIP = ip.String()
	}

	var res result
	humans := 0
	for i := range b.events {
		ev, m := &b.events[i], &b.metas[i]
		validate(ev, m, now)
		if m.reason == "" && (uaInfo.Bot || !m.scripted) {
			m.reason = ReasonBot
		}
		if m.reason == "" {
			humans++
		}
	}
	// Behaviour rule: more events per second from one IP than a person
	// produces marks the whole batch as automated.
	paced := s.ipLimits.humanPace(ip, now, humans)

	kept := 0
	for i := range b.events {
		ev, m := &b.events[i], &b.metas[i]
		if m.reason == "" && !paced {
			m.reason = ReasonBot
		}
		if m.reason != "" {
			rejectEvent(&res, sm, i, ev, m)
			continue
		}
		ev.Site, ev.Source, ev.ReceivedAt = s.name, event.SourceBrowser, now
		ev.VisitorID = visitor
		ev.IP, ev.RawIP = storedIP, rawIP
		s.sealIP(ev)
		ev.UserAgent, ev.Device = ua, uaInfo.Device
		if m.user != (enrich.RawUser{}) {
			ev.User = enrich.HashUser(m.user)
		}
		ch, signalled := enrich.Classify(enrich.Touch{Referrer: ev.Referrer, UTM: ev.UTM, ClickIDs: ev.ClickIDs, SiteDomains: s.domains})
		ev.SessionID, ev.Channel = c.sessions.touch(s.name, visitor, ev.Timestamp, ch, signalled, true)
		kept = keep(b.events, i, kept)
	}
	return c.finish(r.Context(), s, sm, sourceBrowser, len(b.events), b.events[:kept], res, cookie)
}

// ingestServer validates and enriches a /v1/events batch and writes it.
func (c *Collector) ingestServer(ctx context.Context, s *siteState, b *batch, now time.Time) outcome {
	sm := &s.serverMetrics
	if ok, d := allowN(s.serverLimit, now, len(b.events)); !ok {
		return outcome{status: http.StatusTooManyRequests, retry: throttle.RetryAfterSeconds(d), msg: "site event rate limit exceeded"}
	}
	var res result
	kept := 0
	for i := range b.events {
		ev, m := &b.events[i], &b.metas[i]
		validate(ev, m, now)
		var ip netip.Addr
		if m.ip != "" {
			var err error
			if ip, err = netip.ParseAddr(m.ip); err != nil {
				m.reject(ReasonInvalid, "user.ip: not an IP address")
			}
		}
		if m.reason != "" {
			rejectEvent(&res, sm, i, ev, m)
			continue
		}
		ev.Site, ev.Source, ev.ReceivedAt = s.name, event.SourceServer, now
		ev.VisitorID = s.serverVisitor(ev.VisitorID)
		if ip.IsValid() {
			ip = ip.Unmap()
			ev.IP, ev.RawIP = enrich.AnonymizeIP(ip, s.anonymize), ip.String()
			s.sealIP(ev)
		}
		if m.ua != "" {
			ev.UserAgent, ev.Device = m.ua, c.ua.Parse(m.ua).Device
		}
		if ev.VisitorID == "" && s.cookieless && ip.IsValid() && m.ua != "" {
			// The id the browser's events of that day carry.
			ev.VisitorID = s.cookielessID(ip, m.ua, ev.Timestamp)
		}
		if m.user != (enrich.RawUser{}) {
			ev.User = enrich.HashUser(m.user)
		}
		ch, signalled := enrich.Classify(enrich.Touch{Referrer: ev.Referrer, UTM: ev.UTM, ClickIDs: ev.ClickIDs, SiteDomains: s.domains})
		if !signalled {
			ch = "" // a backend event without a touch says nothing about acquisition
		}
		ev.SessionID, ev.Channel = c.sessions.touch(s.name, ev.VisitorID, ev.Timestamp, ch, signalled, false)
		kept = keep(b.events, i, kept)
	}
	return c.finish(ctx, s, sm, sourceServer, len(b.events), b.events[:kept], res, "")
}

// keep moves events[i] to position kept (compacting in place; events before
// i are done with) and returns the next free position. Copies happen only
// after a rejection, so a clean batch moves no memory.
func keep(events []event.Event, i, kept int) int {
	if i != kept {
		events[kept] = events[i]
	}
	return kept + 1
}

// finish writes the surviving events and completes the outcome.
func (c *Collector) finish(ctx context.Context, s *siteState, sm *sourceMetrics, source string, total int, out []event.Event, res result, cookie string) outcome {
	sm.batchSize.Observe(float64(total))
	if len(out) > 0 {
		ctx, cancel := context.WithTimeout(ctx, c.writeTimeout)
		start := time.Now()
		inserted, err := c.writer.Write(ctx, out)
		sm.writeTime.Observe(time.Since(start).Seconds())
		cancel()
		if err != nil {
			sm.rejected[ReasonUnavailable].Add(float64(len(out)))
			if errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
				c.log.Warn("store cannot take events", "site", s.name, "source", source, "events", len(out), "err", err)
				return outcome{status: http.StatusServiceUnavailable, retry: 1, msg: "store unavailable, retry later"}
			}
			if errors.Is(err, context.Canceled) {
				// The client went away; nobody reads the answer.
				return outcome{status: http.StatusServiceUnavailable, retry: 1, msg: "request canceled"}
			}
			c.log.Error("writing events", "site", s.name, "source", source, "events", len(out), "err", err)
			return failure(http.StatusInternalServerError, "storing events failed")
		}
		inserted = min(max(inserted, 0), len(out))
		sm.accepted.Add(float64(inserted))
		sm.duplicates.Add(float64(len(out) - inserted))
		res.Accepted += inserted
		res.Duplicates = len(out) - inserted
	}
	return outcome{status: http.StatusOK, res: res, cookie: cookie}
}
