package ingest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// SessionTimeout is the inactivity after which a visitor's next event starts
// a new session.
const SessionTimeout = 30 * time.Minute

// DefaultSessionCacheSize bounds the visitors whose session is remembered.
// An entry is about 150 bytes, so the default costs at most ~30 MB; a
// visitor evicted mid-session starts a new one.
const DefaultSessionCacheSize = 200_000

// sessions assigns session ids.
//
// Design: the collector keeps, per (site, visitor), the current session's id,
// start, last event time and channel in a bounded LRU, keyed on event time
// (the client's clock, validated to ±72h/5m), not arrival time, so a batch
// flushed late still lands in the right session. A session id is derived
// deterministically from (site, visitor, time of the session's first event),
// so every replica that sees a session begin names it the same way, and a
// restarted collector that sees the first event again (a retried batch)
// reproduces the id.
//
// With N collector replicas the state is per replica: a visitor whose
// requests alternate between replicas mid-session may get a new session id
// on a replica that did not see the session start. Run the collector
// Service with sessionAffinity: ClientIP (the same visitor reaches the same
// replica), or re-sessionize at query time from (visitor, timestamp), which
// the stored events allow.
//
// Server events (from /v1/events) join the visitor's open session when one
// is open at their timestamp, inheriting its channel, but never open or
// extend one: a backend webhook is not a visit.
type sessions struct {
	mu  sync.Mutex
	lru *simplelru.LRU[sessionKey, *sessionState]
}

type sessionKey struct {
	site, visitor string
}

type sessionState struct {
	id      string
	last    time.Time
	channel string
}

func newSessions(size int) *sessions {
	if size <= 0 {
		size = DefaultSessionCacheSize
	}
	l, err := simplelru.NewLRU[sessionKey, *sessionState](size, nil)
	if err != nil {
		panic("ingest: creating session cache: " + err.Error()) // only for size <= 0
	}
	return &sessions{lru: l}
}

// touch returns the session id and channel of an event at ts. channel is
// the event's own classification; signalled says whether it carried an
// acquisition signal (else the session's channel is used). open says
// whether the event may open or extend a session (browser events).
func (s *sessions) touch(site, visitor string, ts time.Time, channel string, signalled, open bool) (string, string) {
	if visitor == "" {
		return "", channel
	}
	key := sessionKey{site: site, visitor: visitor}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.lru.Get(key)
	switch {
	case ok && ts.After(st.last.Add(-SessionTimeout)) && !ts.After(st.last.Add(SessionTimeout)):
		// Within the open session (including slightly out-of-order events).
		if open && ts.After(st.last) {
			st.last = ts
		}
		if !signalled {
			channel = st.channel
		}
		return st.id, channel
	case ok && !ts.After(st.last.Add(-SessionTimeout)):
		// A straggler from long before the current session: name its own
		// session without disturbing the current one.
		if !open {
			return "", channel
		}
		return sessionID(site, visitor, ts), channel
	case !open:
		return "", channel
	}
	id := sessionID(site, visitor, ts)
	s.lru.Add(key, &sessionState{id: id, last: ts, channel: channel})
	return id, channel
}

// sessionID is hex(SHA-256(site, visitor, start in ms))[:16].
func sessionID(site, visitor string, start time.Time) string {
	buf := make([]byte, 0, 128)
	buf = append(buf, site...)
	buf = append(buf, 0)
	buf = append(buf, visitor...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(start.UnixMilli()))
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:8])
}
