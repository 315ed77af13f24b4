package authclient

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/communicator/communicator/telegramauth"
)

// instantService answers every GetSessionByUserID at once with one session
// per user, valid for 30 days.
type instantService struct {
	fakeService
	calls int
}

func (s *instantService) GetSessionByUserID(ctx context.Context, userID int64) (telegramauth.Session, error) {
	s.calls++
	return telegramauth.Session{
		SessionString: secretMarker, SessionID: "ses_" + strconv.FormatInt(userID, 10),
		UserID: userID, ExpiresAt: s.clock.Now().Add(30 * 24 * time.Hour),
	}, nil
}

// BenchmarkCacheHit is the cost of GetSession served from the cache (1000
// cached users, round robin): with the real clock (time.Now, which costs
// what the platform's clock costs), and with a fixed clock (the client's
// own cost).
func BenchmarkCacheHit(b *testing.B) {
	fixed := time.Now()
	for _, bc := range []struct {
		name string
		now  func() time.Time
	}{
		{"clock=time.Now", time.Now},
		{"clock=fixed", func() time.Time { return fixed }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			svc := &instantService{fakeService: fakeService{clock: newFakeClock()}}
			svc.clock.t = fixed
			c := New(DefaultClientConfig(), Transports{Binding: svc}, WithClock(bc.now))
			ctx := context.Background()
			for u := int64(1); u <= 1000; u++ {
				c.GetSession(ctx, u)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				_, src, err := c.GetSession(ctx, int64(1+i%1000))
				if err != nil || src != SourceCache {
					b.Fatalf("source %v, %v", src, err)
				}
			}
		})
	}
}

// BenchmarkClock is the cost of time.Now alone, to read BenchmarkCacheHit by.
func BenchmarkClock(b *testing.B) {
	var sink int64
	for b.Loop() {
		sink += time.Now().UnixNano()
	}
	_ = sink
}

// BenchmarkCacheHitParallel: the same from GOMAXPROCS goroutines (natively;
// a worker's isolate runs Go on one thread).
func BenchmarkCacheHitParallel(b *testing.B) {
	svc := &instantService{fakeService: fakeService{clock: newFakeClock()}}
	svc.clock.t = time.Now()
	c := New(DefaultClientConfig(), Transports{Binding: svc})
	ctx := context.Background()
	for u := int64(1); u <= 1000; u++ {
		c.GetSession(ctx, u)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, src, _ := c.GetSession(ctx, int64(1+i%1000)); src != SourceCache {
				b.Errorf("source %v", src)
				return
			}
		}
	})
}

// BenchmarkCacheMiss is the client's own cost of a miss (the cache lookup,
// the flight, the per-call timeout's context, storing the result) over a
// transport that answers at once.
func BenchmarkCacheMiss(b *testing.B) {
	svc := &instantService{fakeService: fakeService{clock: newFakeClock()}}
	svc.clock.t = time.Now()
	cfg := DefaultClientConfig()
	cfg.CacheSize = 1
	c := New(cfg, Transports{Binding: svc})
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, src, err := c.GetSession(ctx, int64(1+i%2)); src != SourceBinding || err != nil {
			b.Fatalf("source %v, %v", src, err)
		}
	}
}

// mix is a realistic load: users drawn Zipf-distributed (s=1.1, v=1: a few
// very active users, a long tail) at a steady request rate, on a fake clock.
type mix struct {
	users, requests int
	rate            float64 // requests per second
	ttl             time.Duration
	cacheSize       int
}

type mixResult struct {
	hitRate float64
	calls   int
	elapsed time.Duration // wall time of the simulation
}

func (m mix) run(seed uint64) mixResult {
	clock := newFakeClock()
	svc := &instantService{fakeService: fakeService{clock: clock}}
	cfg := DefaultClientConfig()
	cfg.CacheTTL, cfg.CacheSize = m.ttl, m.cacheSize
	c := New(cfg, Transports{Binding: svc}, WithClock(clock.Now))
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	z := rand.NewZipf(r, 1.1, 1, uint64(m.users-1))
	// Distinct users are not numbered by popularity: shuffle the ranks.
	perm := r.Perm(m.users)
	step := time.Duration(float64(time.Second) / m.rate)
	ctx := context.Background()
	hits := 0
	start := time.Now()
	for i := 0; i < m.requests; i++ {
		u := int64(perm[z.Uint64()]) + 1
		if _, src, err := c.GetSession(ctx, u); err != nil {
			panic(err)
		} else if src == SourceCache {
			hits++
		}
		clock.t = clock.t.Add(step) // single goroutine: no lock needed
	}
	return mixResult{hitRate: float64(hits) / float64(m.requests), calls: svc.calls, elapsed: time.Since(start)}
}

// BenchmarkRealisticMix reports the hit rate of 100k requests from 10k
// Zipf-distributed users with the default 5-minute TTL, at several request
// rates and cache sizes. One op is one whole simulation; ns/req is the
// client's own cost per request (the transport answers at once).
func BenchmarkRealisticMix(b *testing.B) {
	for _, size := range []int{1000, 10000} {
		for _, rate := range []float64{10, 100, 1000} {
			m := mix{users: 10_000, requests: 100_000, rate: rate, ttl: DefaultCacheTTL, cacheSize: size}
			b.Run("size="+strconv.Itoa(size)+"/rate="+strconv.Itoa(int(rate))+"rps", func(b *testing.B) {
				var res mixResult
				var total time.Duration
				n := 0
				for b.Loop() {
					res = m.run(1)
					total += res.elapsed
					n++
				}
				b.ReportMetric(100*res.hitRate, "hit%")
				b.ReportMetric(float64(res.calls)/float64(m.requests)*1000, "calls/1k-req")
				b.ReportMetric(float64(total.Nanoseconds())/float64(n*m.requests), "ns/req")
			})
		}
	}
}

// TestRealisticMixHitRate runs the mix once and checks the hit rate is what
// a working cache gives (a client built per request gives 0%).
func TestRealisticMixHitRate(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	m := mix{users: 10_000, requests: 100_000, rate: 100, ttl: DefaultCacheTTL, cacheSize: DefaultCacheSize}
	res := m.run(1)
	t.Logf("10k users, Zipf s=1.1, 100k requests at %v/s, TTL %v, cache %d: hit rate %.1f%%, %d auth calls",
		m.rate, m.ttl, m.cacheSize, 100*res.hitRate, res.calls)
	if res.hitRate < 0.5 {
		t.Fatalf("hit rate %.1f%% is below 50%%", 100*res.hitRate)
	}
	if hits := int(res.hitRate*float64(m.requests) + 0.5); hits+res.calls != m.requests {
		t.Fatalf("hits %d + calls %d != requests %d", hits, res.calls, m.requests)
	}
}
