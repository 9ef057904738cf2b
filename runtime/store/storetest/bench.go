package storetest

import (
	"syscall"
	"testing"
	"time"
)

// Meter measures what a benchmark's events cost: wall-clock rate, and CPU
// time per event in this process and, when given, in the database server.
// On a shared machine CPU time per event is the steadier number; the rate
// a machine can sustain is about its cores divided by the total.
type Meter struct {
	server             func() (time.Duration, error)
	procStart, dbStart time.Duration
}

// StartMeter starts measuring; server, when not nil, reports the database
// server's CPU time so far (pgtest.Server.CPUTime).
func StartMeter(b *testing.B, server func() (time.Duration, error)) *Meter {
	b.Helper()
	m := &Meter{server: server, procStart: processCPU(b)}
	if server != nil {
		t, err := server()
		if err != nil {
			b.Fatalf("while reading the server's CPU time: %v", err)
		}
		m.dbStart = t
	}
	return m
}

// Report adds events/s and CPU µs per event to the benchmark's result.
func (m *Meter) Report(b *testing.B, events int) {
	b.Helper()
	if events == 0 {
		return
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	perEvent := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(events) }
	b.ReportMetric(perEvent(processCPU(b)-m.procStart), "go-cpu-µs/event")
	if m.server != nil {
		t, err := m.server()
		if err != nil {
			b.Fatalf("while reading the server's CPU time: %v", err)
		}
		b.ReportMetric(perEvent(t-m.dbStart), "db-cpu-µs/event")
	}
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("while reading CPU time: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
