package throttle

import (
	"net/netip"
	"testing"
	"time"
)

func TestFailuresThrottleAfterBurstAndRefill(t *testing.T) {
	f := New(6, 3, 0) // 3 in a row, then one every 10 s
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	ip := netip.MustParseAddr("203.0.113.7")
	for i := range 3 {
		if ok, _ := f.Allow(ip, now); !ok {
			t.Fatalf("attempt %d refused inside the burst", i+1)
		}
		f.Fail(ip, now)
	}
	ok, wait := f.Allow(ip, now)
	if ok {
		t.Fatal("a fourth attempt right after three failures was allowed")
	}
	if wait != 10*time.Second {
		t.Errorf("retry after %v, want 10s (one failure refills at 6 a minute)", wait)
	}
	if ok, _ := f.Allow(netip.MustParseAddr("203.0.113.8"), now); !ok {
		t.Error("another client was throttled for this one's failures")
	}
	if ok, _ := f.Allow(ip, now.Add(10*time.Second)); !ok {
		t.Error("still refused once the allowance refilled")
	}
}

func TestFailuresGroupIPv6By64(t *testing.T) {
	f := New(1, 1, 0)
	now := time.Now()
	f.Fail(netip.MustParseAddr("2001:db8:1:2::1"), now)
	if ok, _ := f.Allow(netip.MustParseAddr("2001:db8:1:2:ffff::9"), now); ok {
		t.Error("a neighbour in the same /64 escaped the throttle")
	}
	if ok, _ := f.Allow(netip.MustParseAddr("2001:db8:1:3::1"), now); !ok {
		t.Error("another /64 was throttled")
	}
	if ok, _ := f.Allow(netip.MustParseAddr("::ffff:192.0.2.1"), now); !ok {
		t.Error("an IPv4-mapped address that never failed was throttled")
	}
}

func TestFailuresForgetsLeastRecentClients(t *testing.T) {
	f := New(1, 1, 2)
	now := time.Now()
	a, b, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")
	f.Fail(a, now)
	f.Fail(b, now)
	f.Fail(c, now) // evicts a
	if ok, _ := f.Allow(a, now); !ok {
		t.Error("the table grew past its bound: the oldest client is still remembered")
	}
	if ok, _ := f.Allow(c, now); ok {
		t.Error("the newest client was forgotten")
	}
}
