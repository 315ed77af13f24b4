package authclient

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/communicator/communicator/telegramauth"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeSleeper records the delays the client asks for. It returns at once
// (advancing the clock, if set), or, with block set, waits for ctx to end.
type fakeSleeper struct {
	mu     sync.Mutex
	sleeps []time.Duration
	clock  *fakeClock
	block  bool
	asked  chan time.Duration // if set, told of each sleep
}

func (s *fakeSleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.sleeps = append(s.sleeps, d)
	s.mu.Unlock()
	if s.asked != nil {
		s.asked <- d
	}
	if s.block {
		<-ctx.Done()
		return ctx.Err()
	}
	if s.clock != nil {
		s.clock.Advance(d)
	}
	return ctx.Err()
}

func (s *fakeSleeper) Sleeps() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.sleeps...)
}

// call is one call the fake service received.
type call struct {
	Method    string
	UserID    int64
	SessionID string
	Deadline  bool // the call's context had a deadline
}

// fakeService is a scripted auth-telegram. Each GetSessionByUserID call n
// (from 0) runs get(ctx, n, userID) if set; otherwise, and when get returns
// errDefault, it hands out a fresh session of the user that expires
// expiresIn from the clock's now.
type fakeService struct {
	// The login methods are never called here: a call would panic.
	telegramauth.Service
	clock     *fakeClock
	expiresIn time.Duration
	get       func(ctx context.Context, n int, userID int64) (telegramauth.Session, error)
	revoke    func(ctx context.Context, n int, sessionID string) (telegramauth.Revocation, error)
	list      func(ctx context.Context, n int, userID int64) ([]telegramauth.SessionInfo, error)

	getN, revokeN, listN atomic.Int64
	seq                  atomic.Int64

	mu    sync.Mutex
	calls []call
}

var errDefault = errors.New("fake: default answer")

func newFakeService(clock *fakeClock) *fakeService {
	return &fakeService{clock: clock, expiresIn: 24 * time.Hour}
}

func (f *fakeService) record(ctx context.Context, c call) {
	_, c.Deadline = ctx.Deadline()
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
}

func (f *fakeService) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// session makes a session of the user: its string holds secretMarker.
func (f *fakeService) session(userID int64) telegramauth.Session {
	n := f.seq.Add(1)
	return telegramauth.Session{
		SessionString: secretMarker + strconv.FormatInt(n, 10),
		SessionID:     "ses_" + strconv.FormatInt(n, 10),
		UserID:        userID,
		ExpiresAt:     f.clock.Now().Add(f.expiresIn),
	}
}

// secretMarker is in every fake session string; no error may contain it.
const secretMarker = "1SESSIONSECRET"

func (f *fakeService) GetSessionByUserID(ctx context.Context, userID int64) (telegramauth.Session, error) {
	n := int(f.getN.Add(1) - 1)
	f.record(ctx, call{Method: "get", UserID: userID})
	if f.get != nil {
		s, err := f.get(ctx, n, userID)
		if err != errDefault {
			return s, err
		}
	}
	return f.session(userID), nil
}

func (f *fakeService) ListSessions(ctx context.Context, userID int64) ([]telegramauth.SessionInfo, error) {
	n := int(f.listN.Add(1) - 1)
	f.record(ctx, call{Method: "list", UserID: userID})
	if f.list != nil {
		return f.list(ctx, n, userID)
	}
	return []telegramauth.SessionInfo{{SessionID: "ses_1", UserID: userID, Status: telegramauth.StatusActive}}, nil
}

func (f *fakeService) RevokeSession(ctx context.Context, sessionID string) (telegramauth.Revocation, error) {
	n := int(f.revokeN.Add(1) - 1)
	f.record(ctx, call{Method: "revoke", SessionID: sessionID})
	if f.revoke != nil {
		return f.revoke(ctx, n, sessionID)
	}
	return telegramauth.Revocation{SessionID: sessionID, RevokedAt: f.clock.Now()}, nil
}

func (f *fakeService) ImportSession(ctx context.Context, userID int64, sessionString string) (telegramauth.SessionInfo, error) {
	return telegramauth.SessionInfo{}, telegramauth.NewError(telegramauth.CodeInternal, "fake: not implemented")
}

// harness is a client over a fake service, with a fake clock and sleeper.
type harness struct {
	*Client
	svc   *fakeService
	clock *fakeClock
	sleep *fakeSleeper
}

// testConfig: binding transport, 3 retries from 100ms, no call timeout, 5
// minute TTL, 100 entries.
func testConfig() ClientConfig {
	return ClientConfig{
		ServiceID:        DefaultServiceID,
		TransportSetting: TransportBinding,
		Transport:        TransportBinding,
		MaxRetries:       3,
		RetryDelay:       100 * time.Millisecond,
		CacheTTL:         5 * time.Minute,
		CacheSize:        100,
	}
}

func newHarness(t testing.TB, cfg ClientConfig, opts ...Option) *harness {
	t.Helper()
	clock := newFakeClock()
	svc := newFakeService(clock)
	sleep := &fakeSleeper{clock: clock}
	all := append([]Option{WithClock(clock.Now), WithSleep(sleep.Sleep), WithRandom(func() float64 { return 0.5 })}, opts...)
	c := New(cfg, Transports{Binding: svc, HTTP: svc}, all...)
	return &harness{Client: c, svc: svc, clock: clock, sleep: sleep}
}

func (h *harness) mustGet(t testing.TB, userID int64) (telegramauth.Session, Source) {
	t.Helper()
	s, src, err := h.GetSession(context.Background(), userID)
	if err != nil {
		t.Fatalf("GetSession(%d): %v", userID, err)
	}
	return s, src
}

func (h *harness) stats() TransportStats { return h.Stats().PerTransport[h.Transport()] }

// waitFor polls cond until it holds or a few seconds pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (f *fakeService) AccessLog(context.Context, telegramauth.AccessLogQuery) ([]telegramauth.AccessLogEntry, error) {
	return nil, nil
}
