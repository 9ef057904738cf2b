package ga4

import (
	"strings"
	"testing"

	"github.com/trackstack/trackstack/runtime/forward"
)

// Events built from stored events stay far below 130 kB, so the split is
// exercised here with events larger than build ever makes.
func TestFitSplitsRequestsUnderTheBodyLimit(t *testing.T) {
	big := func(n int) mpEvent {
		return mpEvent{Name: "purchase", Params: map[string]any{"p": strings.Repeat("x", n)}}
	}
	events := []mpEvent{big(40_000), big(40_000), big(40_000), big(40_000), big(200_000)}
	idx := []int{0, 1, 2, 3, 4}
	out := make([]forward.Outcome, len(events))
	reqs, err := fit(client{ClientID: "1.2"}, idx, events, out)
	if err != nil {
		t.Fatal(err)
	}
	var sent []int
	for _, r := range reqs {
		if len(r.body) >= MaxBodyBytes {
			t.Errorf("a request of %d bytes", len(r.body))
		}
		sent = append(sent, r.items...)
	}
	if len(sent) != 4 || out[4].Status != forward.Failed || !strings.Contains(out[4].Reason, "130000") {
		t.Errorf("sent %v, oversized event's outcome %+v; want four sent and the last Failed", sent, out[4])
	}
	for i, want := range []int{0, 1, 2, 3} {
		if sent[i] != want {
			t.Errorf("items out of order: %v", sent)
		}
	}
}
