package authclient

import "sync/atomic"

// counters are the client's counters, updated with atomics (one add on a
// cache hit).
type counters struct {
	hits     atomic.Uint64
	misses   atomic.Uint64
	shared   atomic.Uint64
	calls    atomic.Uint64
	retries  atomic.Uint64
	timeouts atomic.Uint64
	failures atomic.Uint64
	gaveUp   atomic.Uint64
	canceled atomic.Uint64
}

// TransportStats are the counters of one transport.
type TransportStats struct {
	// CacheHits and CacheMisses count GetSession calls served from the cache
	// or not. A miss either leads a fetch or waits for one (SharedWaits).
	CacheHits   uint64 `json:"cacheHits"`
	CacheMisses uint64 `json:"cacheMisses"`
	SharedWaits uint64 `json:"sharedWaits"`
	// Calls counts attempts sent to auth-telegram (every method), Retries
	// the attempts after a transient failure, Timeouts the attempts cut by
	// the per-call timeout.
	Calls    uint64 `json:"calls"`
	Retries  uint64 `json:"retries"`
	Timeouts uint64 `json:"timeouts"`
	// Failures counts operations that returned an error other than the
	// caller's cancellation (permanent, or after the last retry: GaveUp);
	// Canceled counts those the caller's context ended.
	Failures uint64 `json:"failures"`
	GaveUp   uint64 `json:"gaveUp"`
	Canceled uint64 `json:"canceled"`
}

// Stats is a snapshot of the client's counters.
type Stats struct {
	// Transport is the transport in use, binding or http.
	Transport      string `json:"transport"`
	CacheSize      int    `json:"cacheSize"`
	CacheCapacity  int    `json:"cacheCapacity"`
	CacheTTLMillis int64  `json:"cacheTtlMs"`
	// Evictions counts entries dropped to keep within CacheCapacity.
	Evictions uint64 `json:"evictions"`
	// Invalidations counts sessions dropped because Telegram rejected them.
	Invalidations uint64 `json:"invalidations"`
	// PerTransport has the counters of each transport the client used. A
	// client uses one transport for its life (changing
	// TELEGRAM_AUTH_TRANSPORT deploys new isolates, hence new clients), so
	// it has one key, Transport.
	PerTransport map[string]TransportStats `json:"perTransport"`
}

// Stats returns the counters. It is safe for concurrent use.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	size := c.cache.len()
	capacity := c.cache.cap
	c.mu.Unlock()
	t := TransportStats{
		CacheHits:   c.ctr.hits.Load(),
		CacheMisses: c.ctr.misses.Load(),
		SharedWaits: c.ctr.shared.Load(),
		Calls:       c.ctr.calls.Load(),
		Retries:     c.ctr.retries.Load(),
		Timeouts:    c.ctr.timeouts.Load(),
		Failures:    c.ctr.failures.Load(),
		GaveUp:      c.ctr.gaveUp.Load(),
		Canceled:    c.ctr.canceled.Load(),
	}
	return Stats{
		Transport:      c.transport,
		CacheSize:      size,
		CacheCapacity:  capacity,
		CacheTTLMillis: c.ttl.Milliseconds(),
		Evictions:      c.evictions.Load(),
		Invalidations:  c.invalidations.Load(),
		PerTransport:   map[string]TransportStats{c.transport: t},
	}
}
