package authclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communicator/communicator/telegramauth"
)

func TestCacheHitAndTTL(t *testing.T) {
	h := newHarness(t, testConfig())
	s1, src := h.mustGet(t, 7)
	if src != SourceBinding {
		t.Fatalf("first get: source %v, want binding", src)
	}
	h.clock.Advance(5*time.Minute - time.Nanosecond)
	s2, src := h.mustGet(t, 7)
	if src != SourceCache || s2 != s1 {
		t.Fatalf("within the TTL: source %v, same session %v; want cache, true", src, s2 == s1)
	}
	h.clock.Advance(time.Nanosecond) // now = fetchedAt + TTL: expired
	s3, src := h.mustGet(t, 7)
	if src != SourceBinding || s3 == s1 {
		t.Fatalf("at the TTL: source %v, refetched %v; want binding, true", src, s3 != s1)
	}
	if n := h.svc.getN.Load(); n != 2 {
		t.Fatalf("calls = %d, want 2", n)
	}
	st := h.stats()
	if st.CacheHits != 1 || st.CacheMisses != 2 || st.Calls != 2 {
		t.Fatalf("stats = %+v, want 1 hit, 2 misses, 2 calls", st)
	}
}

func TestCacheTTLZeroDisables(t *testing.T) {
	cfg := testConfig()
	cfg.CacheTTL = 0
	h := newHarness(t, cfg)
	for i := 0; i < 3; i++ {
		if _, src := h.mustGet(t, 7); src != SourceBinding {
			t.Fatalf("get %d: source %v, want binding", i, src)
		}
	}
	if n := h.svc.getN.Load(); n != 3 {
		t.Fatalf("calls = %d, want 3", n)
	}
	if s := h.Stats(); s.CacheSize != 0 {
		t.Fatalf("cache size = %d, want 0", s.CacheSize)
	}
}

func TestExpiryMargin(t *testing.T) {
	t.Run("expires in 4 minutes: never from the cache", func(t *testing.T) {
		h := newHarness(t, testConfig())
		h.svc.expiresIn = 4 * time.Minute
		for i := 0; i < 3; i++ {
			if _, src := h.mustGet(t, 7); src != SourceBinding {
				t.Fatalf("get %d: source %v, want binding", i, src)
			}
		}
		if n := h.svc.getN.Load(); n != 3 {
			t.Fatalf("calls = %d, want 3", n)
		}
	})
	t.Run("expires in exactly 5 minutes: not cached", func(t *testing.T) {
		h := newHarness(t, testConfig())
		h.svc.expiresIn = ExpiryMargin
		h.mustGet(t, 7)
		if _, src := h.mustGet(t, 7); src != SourceBinding {
			t.Fatalf("source %v, want binding", src)
		}
	})
	t.Run("expires in 10 minutes, TTL 1h: cached for 5 minutes", func(t *testing.T) {
		cfg := testConfig()
		cfg.CacheTTL = time.Hour
		h := newHarness(t, cfg)
		h.svc.expiresIn = 10 * time.Minute
		h.mustGet(t, 7)
		h.clock.Advance(5*time.Minute - time.Millisecond)
		if _, src := h.mustGet(t, 7); src != SourceCache {
			t.Fatalf("before the margin: source %v, want cache", src)
		}
		h.clock.Advance(time.Millisecond)
		if _, src := h.mustGet(t, 7); src != SourceBinding {
			t.Fatalf("at the margin: source %v, want binding", src)
		}
	})
	t.Run("no expiry: not cached", func(t *testing.T) {
		h := newHarness(t, testConfig())
		h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
			return telegramauth.Session{SessionString: secretMarker, SessionID: "ses_x", UserID: userID}, nil
		}
		h.mustGet(t, 7)
		if _, src := h.mustGet(t, 7); src != SourceBinding {
			t.Fatalf("source %v, want binding", src)
		}
	})
}

func TestLRUBound(t *testing.T) {
	cfg := testConfig()
	cfg.CacheSize = 3
	h := newHarness(t, cfg)
	for _, u := range []int64{1, 2, 3} {
		h.mustGet(t, u)
	}
	if _, src := h.mustGet(t, 1); src != SourceCache { // 1 is now the most recent
		t.Fatalf("user 1: source %v, want cache", src)
	}
	h.mustGet(t, 4) // evicts 2, the least recently used
	if s := h.Stats(); s.CacheSize != 3 || s.Evictions != 1 {
		t.Fatalf("size %d, evictions %d; want 3, 1", s.CacheSize, s.Evictions)
	}
	if _, src := h.mustGet(t, 2); src != SourceBinding { // evicts 3
		t.Fatalf("user 2: source %v, want binding (evicted)", src)
	}
	if _, src := h.mustGet(t, 1); src != SourceCache {
		t.Fatalf("user 1: source %v, want cache", src)
	}
	if _, src := h.mustGet(t, 3); src != SourceBinding {
		t.Fatalf("user 3: source %v, want binding (evicted)", src)
	}
	for u := int64(100); u < 200; u++ {
		h.mustGet(t, u)
		if s := h.Stats(); s.CacheSize > 3 {
			t.Fatalf("size %d > capacity 3", s.CacheSize)
		}
	}
}

func TestSingleflight(t *testing.T) {
	h := newHarness(t, testConfig())
	release := make(chan struct{})
	h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
		<-release
		return telegramauth.Session{}, errDefault
	}
	const n = 100
	var wg sync.WaitGroup
	results := make([]telegramauth.Session, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _, errs[i] = h.GetSession(context.Background(), 42)
		}()
	}
	waitFor(t, "99 shared waits", func() bool { return h.stats().SharedWaits == n-1 })
	close(release)
	wg.Wait()
	for i := range results {
		if errs[i] != nil || results[i] != results[0] {
			t.Fatalf("caller %d: %v, same session %v", i, errs[i], results[i] == results[0])
		}
	}
	if c := h.svc.getN.Load(); c != 1 {
		t.Fatalf("transport calls = %d, want 1", c)
	}
	if _, src := h.mustGet(t, 42); src != SourceCache {
		t.Fatalf("after the flight: source %v, want cache", src)
	}
}

func TestSingleflightSharesErrors(t *testing.T) {
	h := newHarness(t, testConfig())
	release := make(chan struct{})
	h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
		<-release
		return telegramauth.Session{}, telegramauth.NewError(telegramauth.CodeSessionNotFound, "no session")
	}
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = h.GetSession(context.Background(), 42)
		}()
	}
	waitFor(t, "9 shared waits", func() bool { return h.stats().SharedWaits == 9 })
	close(release)
	wg.Wait()
	for i, err := range errs {
		if telegramauth.CodeOf(err) != telegramauth.CodeSessionNotFound {
			t.Fatalf("caller %d: %v, want SESSION_NOT_FOUND", i, err)
		}
	}
	if c := h.svc.getN.Load(); c != 1 {
		t.Fatalf("transport calls = %d, want 1", c)
	}
}

func TestSingleflightWaiterCancel(t *testing.T) {
	h := newHarness(t, testConfig())
	release := make(chan struct{})
	h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
		<-release
		return telegramauth.Session{}, errDefault
	}
	leaderDone := make(chan error, 1)
	go func() {
		_, _, err := h.GetSession(context.Background(), 42)
		leaderDone <- err
	}()
	waitFor(t, "the leader's call", func() bool { return h.svc.getN.Load() == 1 })

	ctx, cancel := context.WithCancel(context.Background())
	canceled := make(chan error, 1)
	go func() {
		_, _, err := h.GetSession(ctx, 42)
		canceled <- err
	}()
	others := make(chan error, 5)
	for i := 0; i < 5; i++ {
		go func() {
			_, _, err := h.GetSession(context.Background(), 42)
			others <- err
		}()
	}
	waitFor(t, "6 shared waits", func() bool { return h.stats().SharedWaits == 6 })
	cancel()
	if err := <-canceled; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled waiter: %v, want context.Canceled", err)
	}
	close(release)
	if err := <-leaderDone; err != nil {
		t.Fatalf("leader: %v", err)
	}
	for i := 0; i < 5; i++ {
		if err := <-others; err != nil {
			t.Fatalf("other waiter: %v", err)
		}
	}
	if c := h.svc.getN.Load(); c != 1 {
		t.Fatalf("transport calls = %d, want 1", c)
	}
	if st := h.stats(); st.Canceled != 1 || st.Failures != 0 {
		t.Fatalf("stats = %+v, want 1 canceled", st)
	}
}

func TestSingleflightLeaderCancelHandsOver(t *testing.T) {
	h := newHarness(t, testConfig())
	// The first call waits for its context (the leader's) to end; the second
	// answers.
	h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
		if n == 0 {
			<-ctx.Done()
			return telegramauth.Session{}, ctx.Err()
		}
		return telegramauth.Session{}, errDefault
	}
	lctx, cancel := context.WithCancel(context.Background())
	leaderDone := make(chan error, 1)
	go func() {
		_, _, err := h.GetSession(lctx, 42)
		leaderDone <- err
	}()
	waitFor(t, "the leader's call", func() bool { return h.svc.getN.Load() == 1 })
	others := make(chan error, 5)
	for i := 0; i < 5; i++ {
		go func() {
			_, _, err := h.GetSession(context.Background(), 42)
			others <- err
		}()
	}
	waitFor(t, "5 shared waits", func() bool { return h.stats().SharedWaits == 5 })
	cancel()
	if err := <-leaderDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader: %v, want context.Canceled", err)
	}
	for i := 0; i < 5; i++ {
		if err := <-others; err != nil {
			t.Fatalf("waiter: %v (the leader's cancellation must not fail the waiters)", err)
		}
	}
	if c := h.svc.getN.Load(); c != 2 {
		t.Fatalf("transport calls = %d, want 2 (the leader's, then one waiter's)", c)
	}
	if len(h.sleep.Sleeps()) != 0 {
		t.Fatalf("sleeps = %v, want none (a hand-over is not a retry)", h.sleep.Sleeps())
	}
}

// transientErrors are failures each transport reports for a network or
// binding problem.
func transientErrors() map[string]error {
	return map[string]error{
		"UNAVAILABLE":         telegramauth.NewError(telegramauth.CodeUnavailable, "auth-telegram is unreachable"),
		"wrapped UNAVAILABLE": fmt.Errorf("binding: %w", telegramauth.NewError(telegramauth.CodeUnavailable, "down")),
		"raw network error":   errors.New("dial tcp: connection refused"),
		"deadline in cause":   fmt.Errorf("fetch: %w", context.DeadlineExceeded),
	}
}

func TestRetryTransient(t *testing.T) {
	for name, failure := range transientErrors() {
		t.Run(name, func(t *testing.T) {
			for _, r := range []float64{0, 0.5, 0.999999} {
				cfg := testConfig() // 3 retries from 100ms
				h := newHarness(t, cfg, WithRandom(func() float64 { return r }))
				h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
					return telegramauth.Session{}, failure
				}
				_, _, err := h.GetSession(context.Background(), 7)
				var re *RetryError
				if !errors.As(err, &re) || re.Attempts != 4 || re.Transport != TransportBinding {
					t.Fatalf("err = %v, want a *RetryError of 4 attempts over binding", err)
				}
				if telegramauth.CodeOf(err) != telegramauth.CodeUnavailable {
					t.Fatalf("code = %s, want UNAVAILABLE", telegramauth.CodeOf(err))
				}
				if !errors.Is(err, failure) {
					t.Fatalf("err = %v does not wrap the last failure", err)
				}
				if n := h.svc.getN.Load(); n != 4 {
					t.Fatalf("calls = %d, want 4", n)
				}
				sleeps := h.sleep.Sleeps()
				if len(sleeps) != 3 {
					t.Fatalf("sleeps = %v, want 3", sleeps)
				}
				for i, d := range sleeps {
					ceiling := 100 * time.Millisecond << i
					if d < ceiling/2 || d >= ceiling {
						t.Fatalf("sleep %d = %v, want in [%v, %v)", i, d, ceiling/2, ceiling)
					}
					if want := ceiling/2 + time.Duration(r*float64(ceiling/2)); d != want {
						t.Fatalf("sleep %d = %v, want %v for jitter %v", i, d, want, r)
					}
				}
				st := h.stats()
				if st.Retries != 3 || st.Failures != 1 || st.GaveUp != 1 || st.Calls != 4 {
					t.Fatalf("stats = %+v", st)
				}
			}
		})
	}
}

func TestRetryThenSuccess(t *testing.T) {
	h := newHarness(t, testConfig())
	h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
		if n < 2 {
			return telegramauth.Session{}, telegramauth.NewError(telegramauth.CodeUnavailable, "down")
		}
		return telegramauth.Session{}, errDefault
	}
	if _, src := h.mustGet(t, 7); src != SourceBinding {
		t.Fatalf("source %v", src)
	}
	if n, s := h.svc.getN.Load(), len(h.sleep.Sleeps()); n != 3 || s != 2 {
		t.Fatalf("calls %d, sleeps %d; want 3, 2", n, s)
	}
	if st := h.stats(); st.Retries != 2 || st.Failures != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestBackoffBoundsRandomAndCap(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRetries = MaxMaxRetries
	cfg.RetryDelay = 2 * time.Second
	h := newHarness(t, cfg, WithRandom(func() float64 { return 0.999999999 }))
	h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
		return telegramauth.Session{}, telegramauth.NewError(telegramauth.CodeUnavailable, "down")
	}
	h.GetSession(context.Background(), 7)
	sleeps := h.sleep.Sleeps()
	if len(sleeps) != MaxMaxRetries {
		t.Fatalf("sleeps = %d, want %d", len(sleeps), MaxMaxRetries)
	}
	for i, d := range sleeps {
		ceiling := min(2*time.Second<<i, MaxBackoff)
		if d < ceiling/2 || d >= ceiling {
			t.Fatalf("sleep %d = %v, want in [%v, %v)", i, d, ceiling/2, ceiling)
		}
	}
	if last := sleeps[len(sleeps)-1]; last < MaxBackoff/2 || last >= MaxBackoff {
		t.Fatalf("capped sleep = %v", last)
	}

	// The default random source stays within the bounds too.
	h2 := newHarness(t, cfg, WithRandom(rand.Float64))
	h2.svc.get = h.svc.get
	for k := 0; k < 20; k++ {
		h2.Invalidate(7)
		h2.GetSession(context.Background(), 7)
	}
	for i, d := range h2.sleep.Sleeps() {
		ceiling := min(2*time.Second<<(i%MaxMaxRetries), MaxBackoff)
		if d < ceiling/2 || d >= ceiling {
			t.Fatalf("sleep %d = %v, want in [%v, %v)", i, d, ceiling/2, ceiling)
		}
	}
}

func TestBadJitterSourceIsClamped(t *testing.T) {
	for _, r := range []float64{-1, 1, 7} {
		h := newHarness(t, testConfig(), WithRandom(func() float64 { return r }))
		if d := h.backoff(0); d != 50*time.Millisecond {
			t.Fatalf("jitter %v: backoff %v, want 50ms", r, d)
		}
	}
}

func TestNoRetryForPermanentErrors(t *testing.T) {
	for _, code := range []telegramauth.Code{
		telegramauth.CodeSessionNotFound, telegramauth.CodeSessionExpired, telegramauth.CodeSessionRevoked,
		telegramauth.CodeForbidden, telegramauth.CodeInvalidArgument, telegramauth.CodeUnauthenticated,
		telegramauth.CodeInternal,
	} {
		t.Run(string(code), func(t *testing.T) {
			h := newHarness(t, testConfig())
			want := &telegramauth.Error{Code: code, Message: "scripted", SessionID: "ses_1"}
			h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
				return telegramauth.Session{}, want
			}
			_, src, err := h.GetSession(context.Background(), 7)
			var got *telegramauth.Error
			if !errors.As(err, &got) || got != want {
				t.Fatalf("err = %v, want the transport's *telegramauth.Error", err)
			}
			if src != SourceBinding {
				t.Fatalf("source %v", src)
			}
			if n := h.svc.getN.Load(); n != 1 {
				t.Fatalf("calls = %d, want 1", n)
			}
			if s := h.sleep.Sleeps(); len(s) != 0 {
				t.Fatalf("sleeps = %v, want none", s)
			}
			if st := h.stats(); st.Failures != 1 || st.Retries != 0 {
				t.Fatalf("stats = %+v", st)
			}
		})
	}
}

func TestCallerCancelStopsRetries(t *testing.T) {
	t.Run("during the backoff", func(t *testing.T) {
		h := newHarness(t, testConfig())
		h.sleep.block = true
		h.sleep.asked = make(chan time.Duration, 1)
		h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
			return telegramauth.Session{}, telegramauth.NewError(telegramauth.CodeUnavailable, "down")
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, _, err := h.GetSession(ctx, 7)
			done <- err
		}()
		<-h.sleep.asked
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("GetSession did not return after cancellation")
		}
		if n := h.svc.getN.Load(); n != 1 {
			t.Fatalf("calls = %d, want 1", n)
		}
		if st := h.stats(); st.Canceled != 1 || st.Failures != 0 {
			t.Fatalf("stats = %+v", st)
		}
	})
	t.Run("during an attempt", func(t *testing.T) {
		cfg := testConfig()
		cfg.CallTimeout = time.Hour
		h := newHarness(t, cfg)
		h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
			<-ctx.Done()
			// What a transport reports for a cancelled request: UNAVAILABLE
			// with the cause.
			return telegramauth.Session{}, &causeError{err: telegramauth.NewError(telegramauth.CodeUnavailable, "aborted"), cause: ctx.Err()}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, _, err := h.GetSession(ctx, 7)
			done <- err
		}()
		waitFor(t, "the call", func() bool { return h.svc.getN.Load() == 1 })
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if n, s := h.svc.getN.Load(), len(h.sleep.Sleeps()); n != 1 || s != 0 {
			t.Fatalf("calls %d, sleeps %d; want 1, 0", n, s)
		}
	})
	t.Run("already canceled", func(t *testing.T) {
		h := newHarness(t, testConfig())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, _, err := h.GetSession(ctx, 7); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		if n := h.svc.getN.Load(); n != 0 {
			t.Fatalf("calls = %d, want 0", n)
		}
	})
	t.Run("caller's deadline is not the per-call timeout", func(t *testing.T) {
		cfg := testConfig()
		cfg.CallTimeout = time.Hour
		h := newHarness(t, cfg)
		h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
			<-ctx.Done()
			return telegramauth.Session{}, ctx.Err()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, _, err := h.GetSession(ctx, 7)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
		if n := h.svc.getN.Load(); n != 1 {
			t.Fatalf("calls = %d, want 1 (no retry after the caller's own deadline)", n)
		}
		if st := h.stats(); st.Timeouts != 0 || st.Canceled != 1 {
			t.Fatalf("stats = %+v", st)
		}
	})
}

func TestPerCallTimeoutIsTransient(t *testing.T) {
	cfg := testConfig()
	cfg.CallTimeout = 20 * time.Millisecond
	h := newHarness(t, cfg)
	h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
		if n == 0 {
			<-ctx.Done() // hangs until the per-call timeout
			return telegramauth.Session{}, ctx.Err()
		}
		return telegramauth.Session{}, errDefault
	}
	if _, src := h.mustGet(t, 7); src != SourceBinding {
		t.Fatalf("source %v", src)
	}
	calls := h.svc.Calls()
	if len(calls) != 2 || !calls[0].Deadline || !calls[1].Deadline {
		t.Fatalf("calls = %+v, want 2, each with a deadline", calls)
	}
	if st := h.stats(); st.Timeouts != 1 || st.Retries != 1 {
		t.Fatalf("stats = %+v, want 1 timeout, 1 retry", st)
	}

	// Every attempt timing out ends in an UNAVAILABLE RetryError that wraps
	// context.DeadlineExceeded.
	h2 := newHarness(t, cfg)
	h2.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
		<-ctx.Done()
		return telegramauth.Session{}, ctx.Err()
	}
	_, _, err := h2.GetSession(context.Background(), 7)
	var re *RetryError
	if !errors.As(err, &re) || re.Attempts != 4 || telegramauth.CodeOf(err) != telegramauth.CodeUnavailable || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "did not answer within 20ms") {
		t.Fatalf("err = %v, want the timeout named", err)
	}
}

func TestPermanentAnswerAtTheDeadlineIsKept(t *testing.T) {
	cfg := testConfig()
	cfg.CallTimeout = 10 * time.Millisecond
	h := newHarness(t, cfg)
	h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
		<-ctx.Done()
		return telegramauth.Session{}, telegramauth.NewError(telegramauth.CodeSessionNotFound, "none")
	}
	_, _, err := h.GetSession(context.Background(), 7)
	if telegramauth.CodeOf(err) != telegramauth.CodeSessionNotFound || h.svc.getN.Load() != 1 {
		t.Fatalf("err = %v after %d calls", err, h.svc.getN.Load())
	}
}

func TestRefreshSessionReplaces(t *testing.T) {
	h := newHarness(t, testConfig())
	s1, _ := h.mustGet(t, 7)
	s2, src, err := h.RefreshSession(context.Background(), 7)
	if err != nil || src != SourceBinding || s2 == s1 {
		t.Fatalf("refresh: %v, source %v, new %v", err, src, s2 != s1)
	}
	s3, src := h.mustGet(t, 7)
	if src != SourceCache || s3 != s2 {
		t.Fatalf("after refresh: source %v, refreshed session %v", src, s3 == s2)
	}
	// The refreshed entry has a fresh TTL.
	h.clock.Advance(4 * time.Minute)
	h.RefreshSession(context.Background(), 7)
	h.clock.Advance(4 * time.Minute)
	if _, src := h.mustGet(t, 7); src != SourceCache {
		t.Fatalf("4 minutes after the refresh: source %v, want cache", src)
	}
}

func TestRefreshSessionDropsGoneSession(t *testing.T) {
	h := newHarness(t, testConfig())
	h.mustGet(t, 7)
	h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
		if n == 1 {
			return telegramauth.Session{}, telegramauth.NewError(telegramauth.CodeSessionRevoked, "revoked")
		}
		return telegramauth.Session{}, errDefault
	}
	if _, _, err := h.RefreshSession(context.Background(), 7); telegramauth.CodeOf(err) != telegramauth.CodeSessionRevoked {
		t.Fatalf("refresh: %v", err)
	}
	if _, src := h.mustGet(t, 7); src != SourceBinding {
		t.Fatalf("after a revoked refresh: source %v, want binding", src)
	}
}

func TestRefreshKeepsEntryOnTransientFailure(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRetries = 0
	h := newHarness(t, cfg)
	h.mustGet(t, 7)
	h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
		return telegramauth.Session{}, telegramauth.NewError(telegramauth.CodeUnavailable, "down")
	}
	if _, _, err := h.RefreshSession(context.Background(), 7); telegramauth.CodeOf(err) != telegramauth.CodeUnavailable {
		t.Fatalf("refresh: %v", err)
	}
	if _, src := h.mustGet(t, 7); src != SourceCache {
		t.Fatalf("source %v, want cache", src)
	}
}

func TestRefreshSharedByMisses(t *testing.T) {
	h := newHarness(t, testConfig())
	release := make(chan struct{})
	h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
		<-release
		return telegramauth.Session{}, errDefault
	}
	done := make(chan telegramauth.Session, 1)
	go func() {
		s, _, _ := h.RefreshSession(context.Background(), 7)
		done <- s
	}()
	waitFor(t, "the refresh's call", func() bool { return h.svc.getN.Load() == 1 })
	got := make(chan telegramauth.Session, 1)
	go func() {
		s, _, _ := h.GetSession(context.Background(), 7)
		got <- s
	}()
	waitFor(t, "a shared wait", func() bool { return h.stats().SharedWaits == 1 })
	close(release)
	if a, b := <-done, <-got; a != b || h.svc.getN.Load() != 1 {
		t.Fatalf("the get did not share the refresh: same %v, calls %d", a == b, h.svc.getN.Load())
	}
}

func TestRevokeSessionEvicts(t *testing.T) {
	h := newHarness(t, testConfig())
	s1, _ := h.mustGet(t, 7)
	other, _ := h.mustGet(t, 8)
	r, err := h.RevokeSession(context.Background(), s1.SessionID)
	if err != nil || r.SessionID != s1.SessionID {
		t.Fatalf("revoke: %+v, %v", r, err)
	}
	if calls := h.svc.Calls(); calls[len(calls)-1] != (call{Method: "revoke", SessionID: s1.SessionID}) {
		t.Fatalf("last call = %+v", calls[len(calls)-1])
	}
	s2, src := h.mustGet(t, 7)
	if src != SourceBinding || s2.SessionID == s1.SessionID {
		t.Fatalf("after revoke: source %v, session %s", src, s2.SessionID)
	}
	if s, src := h.mustGet(t, 8); src != SourceCache || s != other {
		t.Fatalf("another user's entry: source %v", src)
	}
}

func TestRevokeSessionEvictsEvenOnFailure(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRetries = 1
	h := newHarness(t, cfg)
	s1, _ := h.mustGet(t, 7)
	h.svc.revoke = func(ctx context.Context, n int, sessionID string) (telegramauth.Revocation, error) {
		return telegramauth.Revocation{}, telegramauth.NewError(telegramauth.CodeUnavailable, "down")
	}
	_, err := h.RevokeSession(context.Background(), s1.SessionID)
	if telegramauth.CodeOf(err) != telegramauth.CodeUnavailable || h.svc.revokeN.Load() != 2 {
		t.Fatalf("revoke: %v after %d calls, want UNAVAILABLE after 2", err, h.svc.revokeN.Load())
	}
	if _, src := h.mustGet(t, 7); src != SourceBinding {
		t.Fatalf("source %v, want binding", src)
	}
	if _, err := h.RevokeSession(context.Background(), ""); telegramauth.CodeOf(err) != telegramauth.CodeInvalidArgument {
		t.Fatalf("empty session id: %v", err)
	}
}

// A fetch under way while a session is revoked may have read it before the
// revocation: its callers get it, the cache does not keep it.
func TestRevokeDuringFetchIsNotCached(t *testing.T) {
	h := newHarness(t, testConfig())
	release := make(chan struct{})
	h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
		if n == 0 {
			<-release
			return telegramauth.Session{SessionString: secretMarker, SessionID: "ses_old", UserID: userID, ExpiresAt: h.clock.Now().Add(time.Hour)}, nil
		}
		return telegramauth.Session{}, errDefault
	}
	done := make(chan telegramauth.Session, 1)
	go func() {
		s, _, _ := h.GetSession(context.Background(), 7)
		done <- s
	}()
	waitFor(t, "the fetch", func() bool { return h.svc.getN.Load() == 1 })
	if _, err := h.RevokeSession(context.Background(), "ses_old"); err != nil {
		t.Fatal(err)
	}
	close(release)
	if s := <-done; s.SessionID != "ses_old" {
		t.Fatalf("got %s", s.SessionID)
	}
	if s, src := h.mustGet(t, 7); src != SourceBinding || s.SessionID == "ses_old" {
		t.Fatalf("after revoke: source %v, session %s; the revoked session was cached", src, s.SessionID)
	}
}

func TestInvalidateAndClearCache(t *testing.T) {
	h := newHarness(t, testConfig())
	h.mustGet(t, 7)
	h.mustGet(t, 8)
	h.Invalidate(7)
	if _, src := h.mustGet(t, 7); src != SourceBinding {
		t.Fatalf("after invalidate: source %v", src)
	}
	if _, src := h.mustGet(t, 8); src != SourceCache {
		t.Fatalf("another user after invalidate: source %v", src)
	}
	h.Invalidate(12345) // not cached: no-op
	if n := h.Stats().Invalidations; n != 2 {
		t.Fatalf("invalidations = %d, want 2", n)
	}
	h.ClearCache()
	if s := h.Stats(); s.CacheSize != 0 {
		t.Fatalf("size after clear = %d", s.CacheSize)
	}
	for _, u := range []int64{7, 8} {
		if _, src := h.mustGet(t, u); src != SourceBinding {
			t.Fatalf("user %d after clear: source %v", u, src)
		}
	}
}

func TestInvalidUserID(t *testing.T) {
	h := newHarness(t, testConfig())
	for _, id := range []int64{0, -1, telegramauth.MaxUserID + 1} {
		if _, src, err := h.GetSession(context.Background(), id); telegramauth.CodeOf(err) != telegramauth.CodeInvalidArgument || src != 0 {
			t.Fatalf("GetSession(%d): %v, %v", id, src, err)
		}
		if _, _, err := h.RefreshSession(context.Background(), id); telegramauth.CodeOf(err) != telegramauth.CodeInvalidArgument {
			t.Fatalf("RefreshSession(%d): %v", id, err)
		}
		if _, err := h.ListSessions(context.Background(), id); telegramauth.CodeOf(err) != telegramauth.CodeInvalidArgument {
			t.Fatalf("ListSessions(%d): %v", id, err)
		}
	}
	if n := len(h.svc.Calls()); n != 0 {
		t.Fatalf("calls = %d, want 0", n)
	}
	if st := h.stats(); st.CacheMisses != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestMalformedSessions(t *testing.T) {
	cases := map[string]telegramauth.Session{
		"another user":      {SessionString: secretMarker + "X", SessionID: "ses_1", UserID: 8},
		"no session string": {SessionID: "ses_1", UserID: 7},
		"no session id":     {SessionString: secretMarker + "X", UserID: 7},
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, testConfig())
			s.ExpiresAt = h.clock.Now().Add(time.Hour)
			h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) { return s, nil }
			_, _, err := h.GetSession(context.Background(), 7)
			if telegramauth.CodeOf(err) != telegramauth.CodeInternal || strings.Contains(err.Error(), secretMarker) {
				t.Fatalf("err = %v", err)
			}
			if h.svc.getN.Load() != 1 || h.Stats().CacheSize != 0 {
				t.Fatalf("retried or cached a malformed session")
			}
		})
	}
	t.Run("missing user id is the one asked for", func(t *testing.T) {
		h := newHarness(t, testConfig())
		h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
			return telegramauth.Session{SessionString: secretMarker, SessionID: "ses_1", ExpiresAt: h.clock.Now().Add(time.Hour)}, nil
		}
		if s, _ := h.mustGet(t, 7); s.UserID != 7 {
			t.Fatalf("user id = %d", s.UserID)
		}
	})
}

func TestListSessionsPassthrough(t *testing.T) {
	h := newHarness(t, testConfig())
	for i := 0; i < 2; i++ {
		list, err := h.ListSessions(context.Background(), 7)
		if err != nil || len(list) != 1 || list[0].UserID != 7 {
			t.Fatalf("list: %+v, %v", list, err)
		}
	}
	if n := h.svc.listN.Load(); n != 2 {
		t.Fatalf("list calls = %d, want 2 (never cached)", n)
	}
	h.svc.list = func(ctx context.Context, n int, userID int64) ([]telegramauth.SessionInfo, error) {
		if n == 2 {
			return nil, telegramauth.NewError(telegramauth.CodeUnavailable, "down")
		}
		return nil, telegramauth.NewError(telegramauth.CodeForbidden, "not allowed")
	}
	if _, err := h.ListSessions(context.Background(), 7); telegramauth.CodeOf(err) != telegramauth.CodeForbidden {
		t.Fatalf("list: %v", err)
	}
	if n := h.svc.listN.Load(); n != 4 {
		t.Fatalf("list calls = %d, want 4 (one retry after UNAVAILABLE)", n)
	}
}

func TestTransportSelection(t *testing.T) {
	svc := newFakeService(newFakeClock())
	cases := []struct {
		setting, resolved string
		tr                Transports
		want              string
	}{
		{TransportAuto, "", Transports{Binding: svc, HTTP: svc}, TransportBinding},
		{TransportAuto, "", Transports{HTTP: svc}, TransportHTTP},
		{"", "", Transports{Binding: svc}, TransportBinding},
		{TransportHTTP, "", Transports{Binding: svc, HTTP: svc}, TransportHTTP},
		{TransportBinding, "", Transports{Binding: svc, HTTP: svc}, TransportBinding},
		{TransportAuto, TransportHTTP, Transports{Binding: svc, HTTP: svc}, TransportHTTP},
	}
	for _, c := range cases {
		cfg := testConfig()
		cfg.TransportSetting, cfg.Transport = c.setting, c.resolved
		cl := New(cfg, c.tr)
		if got := cl.Transport(); got != c.want {
			t.Errorf("setting %q resolved %q: transport %q, want %q", c.setting, c.resolved, got, c.want)
		}
		_, src, err := cl.GetSession(context.Background(), 7)
		if err != nil || src.String() != c.want {
			t.Errorf("setting %q: source %v, %v", c.setting, src, err)
		}
	}
	for _, c := range []struct {
		setting string
		tr      Transports
	}{
		{TransportBinding, Transports{HTTP: svc}},
		{TransportHTTP, Transports{Binding: svc}},
		{TransportAuto, Transports{}},
		{"carrier-pigeon", Transports{Binding: svc}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("setting %q with %+v: no panic", c.setting, c.tr)
				}
			}()
			cfg := testConfig()
			cfg.TransportSetting, cfg.Transport = c.setting, ""
			New(cfg, c.tr)
		}()
	}
}

func TestStatsJSON(t *testing.T) {
	h := newHarness(t, testConfig())
	h.mustGet(t, 7)
	h.mustGet(t, 7)
	b, err := json.Marshal(h.Stats())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"transport":"binding","cacheSize":1,"cacheCapacity":100,"cacheTtlMs":300000,"evictions":0,"invalidations":0,"perTransport":{"binding":{"cacheHits":1,"cacheMisses":1,"sharedWaits":0,"calls":1,"retries":0,"timeouts":0,"failures":0,"gaveUp":0,"canceled":0}}}`
	if string(b) != want {
		t.Fatalf("stats JSON\n got %s\nwant %s", b, want)
	}
}

func TestNoSessionStringInErrors(t *testing.T) {
	h := newHarness(t, testConfig())
	h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
		return telegramauth.Session{SessionString: secretMarker, SessionID: "ses_1", UserID: userID + 1}, nil
	}
	_, _, err := h.GetSession(context.Background(), 7)
	if err == nil || strings.Contains(err.Error(), secretMarker) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), secretMarker) {
		t.Fatalf("err = %v", err)
	}
}

// Many goroutines mixing every operation: run with -race.
func TestConcurrentMix(t *testing.T) {
	cfg := testConfig()
	cfg.CacheSize = 8
	h := newHarness(t, cfg)
	h.svc.get = func(ctx context.Context, n int, userID int64) (telegramauth.Session, error) {
		if n%7 == 3 {
			return telegramauth.Session{}, telegramauth.NewError(telegramauth.CodeUnavailable, "flaky")
		}
		return telegramauth.Session{}, errDefault
	}
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				u := int64(1 + (g*31+i)%20)
				switch i % 10 {
				case 0:
					h.Invalidate(u)
				case 1:
					h.RefreshSession(context.Background(), u)
				case 2:
					if s, _, err := h.GetSession(context.Background(), u); err == nil {
						h.RevokeSession(context.Background(), s.SessionID)
					}
				case 3:
					if g == 0 {
						h.ClearCache()
					}
					_ = h.Stats()
				case 4:
					h.clock.Advance(time.Second)
				default:
					s, _, err := h.GetSession(context.Background(), u)
					if err == nil && s.UserID != u {
						t.Errorf("user %d got user %d's session", u, s.UserID)
					}
				}
			}
		}()
	}
	wg.Wait()
	if s := h.Stats(); s.CacheSize > 8 {
		t.Fatalf("size %d > 8", s.CacheSize)
	}
	h.mu.Lock()
	flights := len(h.flights)
	h.mu.Unlock()
	if flights != 0 {
		t.Fatalf("%d flights left", flights)
	}
}

func TestSourceString(t *testing.T) {
	for s, want := range map[Source]string{0: "none", SourceCache: "cache", SourceBinding: "binding", SourceHTTP: "http"} {
		if s.String() != want {
			t.Errorf("%d: %q", s, s.String())
		}
	}
}

func TestDefaultSleep(t *testing.T) {
	if err := sleepContext(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if err := sleepContext(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
