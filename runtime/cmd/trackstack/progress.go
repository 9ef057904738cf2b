package main

import (
	"fmt"
	"io"
	"time"
)

// progress reports on stderr how a long command advances: the count so
// far and the rate, at most once per interval, then a final line. It is
// for a person watching; nothing parses it.
type progress struct {
	w        io.Writer
	what     string // e.g. "exported"
	site     string
	now      func() time.Time
	interval time.Duration
	start    time.Time
	last     time.Time
	n        int64
}

func newProgress(w io.Writer, what, site string, now func() time.Time) *progress {
	t := now()
	return &progress{w: w, what: what, site: site, now: now, interval: time.Second, start: t, last: t}
}

// add counts k more and reports when an interval has passed.
func (p *progress) add(k int) {
	p.n += int64(k)
	if t := p.now(); t.Sub(p.last) >= p.interval {
		p.last = t
		fmt.Fprintf(p.w, "%s %d events (%.0f/s)\n", p.what, p.n, p.rate(t))
	}
}

// done reports the total; detail, if any, ends the line.
func (p *progress) done(detail string) {
	t := p.now()
	fmt.Fprintf(p.w, "%s %d events of site %s in %s (%.0f/s)%s\n", p.what, p.n, p.site, t.Sub(p.start).Round(time.Millisecond), p.rate(t), detail)
}

func (p *progress) rate(t time.Time) float64 {
	secs := t.Sub(p.start).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(p.n) / secs
}
