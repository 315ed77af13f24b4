// Package authclient is the ingestor's client for auth-telegram's sessions:
// configuration (ParseConfig), a per-user session cache with a TTL, the
// 5-minute expiry margin and an LRU bound, one call for concurrent misses of a
// user (singleflight), retries of transient failures only, and a choice of
// transport (the TELEGRAM_AUTH service binding or the HTTP API) made by a
// setting.
//
// It is plain Go over a telegramauth.Service per transport, so it runs and is
// tested natively; the ingestor supplies
// authrpc.ServiceClient{Binding: workers.GetBinding(BindingName)} and/or
// an authhttp client (NewHTTPTransport). Make one Client per isolate: a
// Client made per request never hits its cache.
//
// Nothing here logs, and no error carries a session string or a secret.
package authclient

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/communicator/communicator/telegramauth"
)

// ExpiryMargin: a session is served from the cache only while it is valid
// for at least this long; closer to its expiry it is fetched again.
const ExpiryMargin = 5 * time.Minute

// MaxBackoff caps the delay before a retry.
const MaxBackoff = 30 * time.Second

// Source says where a session came from.
type Source uint8

// Sources. The zero Source means none (an error before any transport was tried).
const (
	SourceCache   Source = iota + 1 // the client's cache
	SourceBinding                   // auth-telegram over the TELEGRAM_AUTH service binding
	SourceHTTP                      // auth-telegram over its HTTP API
)

func (s Source) String() string {
	switch s {
	case SourceCache:
		return "cache"
	case SourceBinding:
		return TransportBinding
	case SourceHTTP:
		return TransportHTTP
	}
	return "none"
}

// Transports are the ways to reach auth-telegram. Only the one the
// configuration selects is used; the other may be nil.
type Transports struct {
	Binding telegramauth.Service // authrpc.ServiceClient{Binding: workers.GetBinding(BindingName)}
	HTTP    telegramauth.Service // NewHTTPTransport(cfg, workers.Network)
}

// Option changes how a Client measures time, waits and draws jitter; tests
// inject fakes.
type Option func(*options)

type options struct {
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
	rand  func() float64
}

// WithClock sets the clock (time.Now by default) the cache's TTL and the
// expiry margin are measured with.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSleep sets how the client waits before a retry. sleep must return early
// with a non-nil error when ctx ends. The default uses a timer.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(o *options) { o.sleep = sleep }
}

// WithRandom sets the source of the backoff's jitter: a function returning a
// number in [0, 1), safe for concurrent use (math/rand/v2's Float64 by
// default).
func WithRandom(f func() float64) Option { return func(o *options) { o.rand = f } }

// Client fetches users' sessions from auth-telegram and caches them. It is safe
// for concurrent use.
type Client struct {
	svc         telegramauth.Service
	transport   string
	src         Source
	maxRetries  int
	retryDelay  time.Duration
	callTimeout time.Duration
	ttl         time.Duration
	now         func() time.Time
	sleep       func(context.Context, time.Duration) error
	rand        func() float64

	ctr       counters
	evictions atomic.Uint64
	// invalidations counts Invalidate calls (Telegram rejected a session).
	invalidations atomic.Uint64

	mu      sync.Mutex
	cache   lru
	flights map[int64]*flight
	// epoch changes whenever entries are dropped (revoke, invalidate,
	// clear, a refresh that found the session gone). A fetch that began in an
	// older epoch may have read what was just dropped: its result is handed to
	// its callers but not cached.
	epoch uint64
}

// flight is one fetch of a user's session that concurrent misses share.
type flight struct {
	done chan struct{}
	// Set before done is closed.
	sess telegramauth.Session
	err  error
	// abandoned: the leader's own context ended before the fetch finished.
	// Its waiters do not inherit that; they start over, and one of them
	// fetches in its own context (in workerd, I/O belongs to the request
	// that starts it, so a fetch cannot outlive its leader's request).
	abandoned bool
}

// New makes the isolate's client. cfg comes from ParseConfig (a hand-made one
// gets defaults for zero durations and sizes, but a zero CacheTTL disables the
// cache). The transport is cfg.Transport, or if that is empty,
// cfg.TransportSetting resolved against transports: auto (or empty) takes the
// binding when transports.Binding is set, HTTP otherwise. New panics if the
// selected transport is nil: that is a wiring bug, not configuration.
func New(cfg ClientConfig, transports Transports, opts ...Option) *Client {
	kind := cfg.Transport
	if kind == "" {
		switch cfg.TransportSetting {
		case TransportBinding, TransportHTTP:
			kind = cfg.TransportSetting
		case TransportAuto, "":
			if transports.Binding != nil {
				kind = TransportBinding
			} else {
				kind = TransportHTTP
			}
		default:
			panic("authclient.New: unknown transport setting " + quote(cfg.TransportSetting))
		}
	}
	c := &Client{transport: kind}
	switch kind {
	case TransportBinding:
		c.svc, c.src = transports.Binding, SourceBinding
	case TransportHTTP:
		c.svc, c.src = transports.HTTP, SourceHTTP
	default:
		panic("authclient.New: unknown transport " + quote(kind))
	}
	if c.svc == nil {
		panic("authclient.New: the " + kind + " transport is selected but Transports has none")
	}

	c.maxRetries = max(cfg.MaxRetries, 0)
	c.retryDelay = cfg.RetryDelay
	if c.retryDelay <= 0 {
		c.retryDelay = DefaultRetryDelay
	}
	c.callTimeout = max(cfg.CallTimeout, 0)
	c.ttl = max(cfg.CacheTTL, 0)
	size := cfg.CacheSize
	if size <= 0 {
		size = DefaultCacheSize
	}
	c.cache.init(size)
	c.flights = make(map[int64]*flight)

	o := options{now: time.Now, sleep: sleepContext, rand: rand.Float64}
	for _, opt := range opts {
		opt(&o)
	}
	c.now, c.sleep, c.rand = o.now, o.sleep, o.rand
	return c
}

// Transport is the transport in use: "binding" or "http".
func (c *Client) Transport() string { return c.transport }

// GetSession returns the user's newest active session, from the cache when it
// holds one that is fresh (fetched less than the TTL ago) and valid for at
// least ExpiryMargin more, otherwise from auth-telegram. Concurrent misses for
// a user make one call; each caller still returns when its own ctx ends.
//
// Errors: INVALID_ARGUMENT for a bad userID (no call is made); the
// *telegramauth.Error of a permanent failure (SESSION_NOT_FOUND,
// SESSION_REVOKED, FORBIDDEN, ...) at once; a *RetryError (code UNAVAILABLE)
// when every attempt failed transiently; ctx.Err() when ctx ended. On error
// the Source is the transport that was tried, or zero.
func (c *Client) GetSession(ctx context.Context, userID int64) (telegramauth.Session, Source, error) {
	if !telegramauth.ValidUserID(userID) {
		return telegramauth.Session{}, 0, invalidUserID(userID)
	}
	missed := false
	for {
		now := c.now().UnixNano()
		c.mu.Lock()
		if e := c.cache.get(userID); e != nil {
			if now < e.validUntil {
				c.cache.touch(e)
				s := e.sess
				c.mu.Unlock()
				c.ctr.hits.Add(1)
				return s, SourceCache, nil
			}
			c.cache.remove(e)
		}
		if !missed {
			missed = true
			c.ctr.misses.Add(1)
		}
		if f := c.flights[userID]; f != nil {
			c.mu.Unlock()
			c.ctr.shared.Add(1)
			select {
			case <-f.done:
				if f.abandoned {
					continue // the leader gave up: start over
				}
				if f.err != nil {
					return telegramauth.Session{}, c.src, f.err
				}
				return f.sess, c.src, nil
			case <-ctx.Done():
				c.ctr.canceled.Add(1)
				return telegramauth.Session{}, c.src, ctx.Err()
			}
		}
		f := &flight{done: make(chan struct{})}
		c.flights[userID] = f
		epoch := c.epoch
		c.mu.Unlock()
		s, err := c.lead(ctx, f, userID, epoch)
		if err != nil {
			return telegramauth.Session{}, c.src, err
		}
		return s, c.src, nil
	}
}

// RefreshSession fetches the user's session from auth-telegram, bypassing the
// cache, and replaces the cache entry with it. When auth-telegram answers
// that the user has no usable session (SESSION_NOT_FOUND, SESSION_EXPIRED,
// SESSION_REVOKED) the entry is dropped.
func (c *Client) RefreshSession(ctx context.Context, userID int64) (telegramauth.Session, Source, error) {
	if !telegramauth.ValidUserID(userID) {
		return telegramauth.Session{}, 0, invalidUserID(userID)
	}
	f := &flight{done: make(chan struct{})}
	c.mu.Lock()
	if c.flights[userID] == nil {
		// Misses that come while the refresh runs share it.
		c.flights[userID] = f
	}
	epoch := c.epoch
	c.mu.Unlock()
	s, err := c.lead(ctx, f, userID, epoch)
	if err != nil {
		return telegramauth.Session{}, c.src, err
	}
	return s, c.src, nil
}

// lead fetches for flight f, caches the result if no eviction happened since
// epoch, and hands it to f's waiters.
func (c *Client) lead(ctx context.Context, f *flight, userID int64, epoch uint64) (telegramauth.Session, error) {
	s, err := c.fetch(ctx, userID)
	c.mu.Lock()
	if c.flights[userID] == f {
		delete(c.flights, userID)
	}
	if err == nil {
		c.storeLocked(userID, s, epoch)
	} else if gone(err) {
		// The cached entry, if any, is stale for sure. (No epoch change:
		// SESSION_NOT_FOUND is common, and a global epoch change would stop
		// other users' fetches under way from being cached.)
		if e := c.cache.get(userID); e != nil {
			c.cache.remove(e)
		}
	}
	c.mu.Unlock()
	f.sess, f.err = s, err
	f.abandoned = err != nil && ctx.Err() != nil
	close(f.done)
	return s, err
}

// gone reports whether err says the user has no usable session.
func gone(err error) bool {
	var e *telegramauth.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case telegramauth.CodeSessionNotFound, telegramauth.CodeSessionExpired, telegramauth.CodeSessionRevoked:
		return true
	}
	return false
}

// storeLocked caches s unless the cache is off, the epoch moved, or s is too
// close to its expiry to be served from the cache at all.
func (c *Client) storeLocked(userID int64, s telegramauth.Session, epoch uint64) {
	if c.ttl <= 0 || epoch != c.epoch || s.ExpiresAt.IsZero() {
		return
	}
	now := c.now()
	until := now.Add(c.ttl)
	if m := s.ExpiresAt.Add(-ExpiryMargin); m.Before(until) {
		until = m
	}
	if !now.Before(until) {
		if e := c.cache.get(userID); e != nil {
			c.cache.remove(e)
		}
		return
	}
	if n := c.cache.put(userID, s, c.src, until.UnixNano()); n > 0 {
		c.evictions.Add(uint64(n))
	}
}

func (c *Client) dropUserLocked(userID int64) {
	if e := c.cache.get(userID); e != nil {
		c.cache.remove(e)
	}
	c.epoch++
}

// fetch gets the user's session from auth-telegram, with retries, and checks
// that it is one.
func (c *Client) fetch(ctx context.Context, userID int64) (telegramauth.Session, error) {
	var s telegramauth.Session
	err := c.do(ctx, func(ctx context.Context) error {
		var err error
		s, err = c.svc.GetSessionByUserID(ctx, userID)
		return err
	})
	if err != nil {
		return telegramauth.Session{}, err
	}
	// A caller of the old TypeScript RPC surface gets no userId: it is the
	// one asked for.
	if s.UserID == 0 {
		s.UserID = userID
	}
	var problem string
	switch {
	case s.UserID != userID:
		problem = "auth-telegram returned a session of another user"
	case s.SessionString == "":
		problem = "auth-telegram returned a session without a session string"
	case s.SessionID == "":
		problem = "auth-telegram returned a session without a session id"
	}
	if problem != "" {
		c.ctr.failures.Add(1)
		return telegramauth.Session{}, telegramauth.NewError(telegramauth.CodeInternal, problem)
	}
	return s, nil
}

// Invalidate drops the user's cached session: the next GetSession fetches it.
// Call it when Telegram rejects the session (AUTH_KEY_UNREGISTERED). A fetch
// for the user already under way is not cached.
func (c *Client) Invalidate(userID int64) {
	c.invalidations.Add(1)
	c.mu.Lock()
	c.dropUserLocked(userID)
	c.mu.Unlock()
}

// ReportRejected is what the ingestor does when Telegram refuses a session
// (reason: Telegram's error type): it drops the user's cached session and
// tells auth-telegram, which stops handing it out (ReportSessionRejected,
// with retries: reporting is idempotent). A reason that is not one of
// telegramauth.RejectionReasons is not reported: only the cache is dropped.
func (c *Client) ReportRejected(ctx context.Context, userID int64, sessionID, reason string) error {
	c.Invalidate(userID)
	if sessionID == "" || !slices.Contains(telegramauth.RejectionReasons, reason) {
		return nil
	}
	c.dropSession(sessionID)
	return c.do(ctx, func(ctx context.Context) error {
		_, err := c.svc.ReportSessionRejected(ctx, sessionID, reason)
		return err
	})
}

// ClearCache drops every cached session.
func (c *Client) ClearCache() {
	c.mu.Lock()
	c.cache.clear()
	c.epoch++
	c.mu.Unlock()
}

// RevokeSession revokes a session at auth-telegram (with retries: revoking is
// idempotent) and drops every cached entry holding it, both when the call
// starts and when it ends, whatever its outcome; a fetch under way meanwhile
// is not cached. Other ingestor isolates keep a revoked session at most for
// the cache TTL.
func (c *Client) RevokeSession(ctx context.Context, sessionID string) (telegramauth.Revocation, error) {
	if sessionID == "" {
		return telegramauth.Revocation{}, telegramauth.NewError(telegramauth.CodeInvalidArgument, "sessionId is empty")
	}
	c.dropSession(sessionID)
	var r telegramauth.Revocation
	err := c.do(ctx, func(ctx context.Context) error {
		var err error
		r, err = c.svc.RevokeSession(ctx, sessionID)
		return err
	})
	c.dropSession(sessionID)
	if err != nil {
		return telegramauth.Revocation{}, err
	}
	return r, nil
}

func (c *Client) dropSession(sessionID string) {
	c.mu.Lock()
	c.cache.removeSession(sessionID)
	c.epoch++
	c.mu.Unlock()
}

// ListSessions lists the user's sessions (no secrets) from auth-telegram,
// with retries of transient failures; it is never cached.
func (c *Client) ListSessions(ctx context.Context, userID int64) ([]telegramauth.SessionInfo, error) {
	if !telegramauth.ValidUserID(userID) {
		return nil, invalidUserID(userID)
	}
	var list []telegramauth.SessionInfo
	err := c.do(ctx, func(ctx context.Context) error {
		var err error
		list, err = c.svc.ListSessions(ctx, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

func invalidUserID(id int64) error {
	return telegramauth.NewError(telegramauth.CodeInvalidArgument,
		"userId must be between 1 and "+strconv.FormatInt(telegramauth.MaxUserID, 10)+", got "+strconv.FormatInt(id, 10))
}
