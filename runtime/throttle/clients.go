package throttle

import (
	"net/netip"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Clients is a bounded table of per-client state (rate-limit buckets, say),
// keyed by Key: IPv4 addresses as they are, IPv6 by /64. When full, the
// least recently seen client is forgotten first. It is safe for concurrent
// use; the state itself must be too, as it is used outside the table's lock.
type Clients[T any] struct {
	mu  sync.Mutex
	lru *simplelru.LRU[netip.Addr, T]
}

// NewClients returns a table of at most maxClients clients
// (DefaultMaxClients when not positive).
func NewClients[T any](maxClients int) *Clients[T] {
	if maxClients <= 0 {
		maxClients = DefaultMaxClients
	}
	lru, err := simplelru.NewLRU[netip.Addr, T](maxClients, nil)
	if err != nil {
		panic("throttle: " + err.Error()) // only for a size <= 0, ruled out above
	}
	return &Clients[T]{lru: lru}
}

// Lookup returns client's state, if the table holds it.
func (c *Clients[T]) Lookup(client netip.Addr) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(Key(client))
}

// Get returns client's state, created by create when the table lacks it.
func (c *Clients[T]) Get(client netip.Addr, create func() T) T {
	key := Key(client)
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.lru.Get(key)
	if !ok {
		st = create()
		c.lru.Add(key, st)
	}
	return st
}
