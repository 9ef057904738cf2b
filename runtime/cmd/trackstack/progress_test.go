package main

import (
	"bytes"
	"testing"
	"time"
)

// TestProgress: a line at most once per interval with the count and the
// rate so far, and a final line with the total, on a fixed clock.
func TestProgress(t *testing.T) {
	start := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	clock := start
	var out bytes.Buffer
	p := newProgress(&out, "exported", "shop", func() time.Time { return clock })
	steps := []struct {
		after time.Duration
		add   int
		want  string // what the step prints
	}{
		{500 * time.Millisecond, 1000, ""},
		{1200 * time.Millisecond, 1000, "exported 2000 events (1667/s)\n"},
		{1900 * time.Millisecond, 1000, ""},
		{2400 * time.Millisecond, 600, "exported 3600 events (1500/s)\n"},
	}
	for _, s := range steps {
		out.Reset()
		clock = start.Add(s.after)
		p.add(s.add)
		if out.String() != s.want {
			t.Errorf("at %v: printed %q, want %q", s.after, out.String(), s.want)
		}
	}
	out.Reset()
	clock = start.Add(3 * time.Second)
	p.done(": 3000 new")
	if want := "exported 3600 events of site shop in 3s (1200/s): 3000 new\n"; out.String() != want {
		t.Errorf("done printed %q, want %q", out.String(), want)
	}
}
