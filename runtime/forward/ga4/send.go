package ga4

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/trackstack/trackstack/runtime/forward"
)

// maxMessage bounds a platform message kept in an error or a reason.
const maxMessage = 300

// request is one Measurement Protocol call: its body and the batch
// positions of its events, in order.
type request struct {
	items []int
	body  []byte
}

// Send validates every item, groups the valid ones into requests of one
// client and at most 25 events, and sends them in turn.
func (p *Platform) Send(ctx context.Context, items []forward.Item) ([]forward.Outcome, error) {
	out := make([]forward.Outcome, len(items))
	reqs, err := p.plan(items, out)
	if err != nil {
		return nil, err
	}
	var failures []*forward.Error
	for n, r := range reqs {
		ferr := p.sendOne(ctx, r, out)
		if ferr == nil {
			continue
		}
		failures = append(failures, ferr)
		if ferr.Kind == forward.Permanent {
			continue
		}
		// A throttled or refused client makes the next requests fail the
		// same way: settle them without sending.
		for _, rest := range reqs[n+1:] {
			settle(out, rest.items, ferr)
		}
		break
	}
	if len(failures) > 0 && allFrom(out, failures) {
		return nil, failures[0]
	}
	return out, nil
}

// plan fails the items GA4 would refuse (in out) and groups the others
// into requests.
func (p *Platform) plan(items []forward.Item, out []forward.Outcome) ([]request, error) {
	now := p.now()
	type group struct {
		items  []int
		events []mpEvent
	}
	var order []client
	groups := map[client]*group{}
	for i, it := range items {
		c, ev, err := build(it, now)
		if err != nil {
			out[i] = forward.Outcome{Status: forward.Failed, Reason: p.redact(err.Error())}
			continue
		}
		g := groups[c]
		if g == nil {
			g = &group{}
			groups[c] = g
			order = append(order, c)
		}
		g.items = append(g.items, i)
		g.events = append(g.events, ev)
	}
	var reqs []request
	for _, c := range order {
		g := groups[c]
		for start := 0; start < len(g.items); start += MaxEventsPerRequest {
			end := min(start+MaxEventsPerRequest, len(g.items))
			rs, err := fit(c, g.items[start:end], g.events[start:end], out)
			if err != nil {
				return nil, err
			}
			reqs = append(reqs, rs...)
		}
	}
	return reqs, nil
}

// fit marshals the events of one client, halving the request until each
// body is under GA4's size limit; an event too large on its own is Failed.
func fit(c client, idx []int, events []mpEvent, out []forward.Outcome) ([]request, error) {
	body, err := json.Marshal(c.payload(events))
	if err != nil {
		return nil, fmt.Errorf("ga4: while encoding a request: %w", err)
	}
	if len(body) < MaxBodyBytes {
		return []request{{items: idx, body: body}}, nil
	}
	if len(idx) == 1 {
		out[idx[0]] = forward.Outcome{Status: forward.Failed,
			Reason: fmt.Sprintf("event makes a request of %d bytes, GA4 takes less than %d", len(body), MaxBodyBytes)}
		return nil, nil
	}
	half := len(idx) / 2
	a, err := fit(c, idx[:half], events[:half], out)
	if err != nil {
		return nil, err
	}
	b, err := fit(c, idx[half:], events[half:], out)
	return append(a, b...), err
}

// sendOne posts one request and settles its items' outcomes; it returns
// the classified failure of the whole request, if any.
func (p *Platform) sendOne(ctx context.Context, r request, out []forward.Outcome) *forward.Error {
	body, ferr := p.post(ctx, r.body)
	if ferr != nil {
		settle(out, r.items, ferr)
		return ferr
	}
	if !p.debug {
		for _, i := range r.items {
			out[i] = forward.Outcome{Status: forward.Sent}
		}
		return nil
	}
	p.settleValidation(body, r.items, out)
	return nil
}

func (p *Platform) post(ctx context.Context, body []byte) ([]byte, *forward.Error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return nil, &forward.Error{Kind: forward.Permanent, Message: p.redact(forward.WithoutURL(err))}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, &forward.Error{Kind: forward.Transient, Message: p.redact(forward.WithoutURL(err))}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := strings.TrimSpace(string(answer))
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return nil, forward.ClassifyHTTP(resp, forward.Truncate(p.redact(msg), maxMessage))
	}
	if err != nil {
		return nil, &forward.Error{Kind: forward.Transient, Status: resp.StatusCode,
			Message: p.redact("while reading the answer: " + forward.WithoutURL(err))}
	}
	return answer, nil
}

// validation is the validation server's answer.
type validation struct {
	Messages []struct {
		FieldPath      string `json:"fieldPath"`
		Description    string `json:"description"`
		ValidationCode string `json:"validationCode"`
	} `json:"validationMessages"`
}

var eventPath = regexp.MustCompile(`^events\[(\d+)\]`)

// settleValidation turns the validation server's messages into outcomes: a
// message about events[n] fails that event, any other fails the request.
func (p *Platform) settleValidation(body []byte, idx []int, out []forward.Outcome) {
	var v validation
	if err := json.Unmarshal(body, &v); err != nil {
		for _, i := range idx {
			out[i] = forward.Outcome{Status: forward.Retry, Reason: "unreadable answer from the GA4 validation server"}
		}
		return
	}
	reasons := make([]string, len(idx))
	var whole []string
	for _, m := range v.Messages {
		text := forward.Truncate(p.redact(fmt.Sprintf("%s: %s (%s)", m.ValidationCode, m.Description, m.FieldPath)), maxMessage)
		if sub := eventPath.FindStringSubmatch(m.FieldPath); sub != nil {
			if n, err := strconv.Atoi(sub[1]); err == nil && n < len(idx) {
				reasons[n] = text
				continue
			}
		}
		whole = append(whole, text)
	}
	for n, i := range idx {
		switch {
		case len(whole) > 0:
			out[i] = forward.Outcome{Status: forward.Failed, Reason: forward.Truncate(strings.Join(whole, "; "), maxMessage)}
		case reasons[n] != "":
			out[i] = forward.Outcome{Status: forward.Failed, Reason: reasons[n]}
		default:
			out[i] = forward.Outcome{Status: forward.Sent, ResponseID: "validated"}
		}
	}
}

// settle gives every item of a failed request the outcome its failure calls
// for: permanent failures are Failed, the others retried.
func settle(out []forward.Outcome, idx []int, e *forward.Error) {
	o := forward.Outcome{Status: forward.Retry, Reason: e.Error(), RetryAfter: e.RetryAfter}
	if e.Kind == forward.Permanent {
		o = forward.Outcome{Status: forward.Failed, Reason: e.Error()}
	}
	for _, i := range idx {
		out[i] = o
	}
}

// allFrom reports whether every outcome came from a failed request, all
// failed the same way: then the batch failed as a whole.
func allFrom(out []forward.Outcome, failures []*forward.Error) bool {
	first := failures[0]
	for _, f := range failures[1:] {
		if f.Kind != first.Kind || f.Status != first.Status {
			return false
		}
	}
	for _, o := range out {
		if o.Reason != first.Error() {
			return false
		}
	}
	return true
}

// redact removes the api_secret from s, raw and query-escaped, in case any
// text (a proxy's echo, a wrapped error) carries it.
func (p *Platform) redact(s string) string {
	return forward.Redact(s, p.apiSecret, url.QueryEscape(p.apiSecret))
}
