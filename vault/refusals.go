package vault

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/communicator/communicator/internal/errtext"
	"github.com/communicator/communicator/telegramauth"
)

// Refusals of callers that did not authenticate (a bad or missing API key)
// are counted rather than logged one row each: anyone who can reach the HTTP
// API can send them, and a row per attempt would let a flood grow the access
// log and queue its writes in front of the hand-outs, which write to the
// same database.
//
// Each (claimed service, client address, minute) is one access-log row whose
// attempts column grows: the first refusal of a bucket writes it at once;
// later ones are counted in memory and added to the row by a refusal that
// arrives refuseFlushEvery after the bucket's last write, or in a later
// minute. So a source costs at most one row and a few writes a minute
// however fast it sends. The price: attempts still in memory when an isolate
// ends are lost (at most refuseFlushEvery of one source's attempts), so a
// row's attempts is a lower bound.
const (
	refuseFlushEvery = 30 * time.Second
	// refuseBuckets bounds the buckets an isolate keeps: beyond it, the
	// oldest are written out (or dropped, if that fails) first.
	refuseBuckets = 512
)

type refusalBucket struct {
	key       string
	caller    Caller
	minute    int64 // unix minute
	pending   int64 // attempts not written yet
	lastWrite time.Time
}

// refusals counts refusals of unauthenticated callers per bucket.
type refusals struct {
	mu      sync.Mutex
	buckets map[string]*refusalBucket
}

// RecordUnauthenticated counts a refused authentication of an HTTP caller:
// claimed is the service id it claimed, as httpapi.Authenticate reports it
// (a service with a key, "unknown", "invalid" or ""), so that a flood cannot
// make a bucket per made-up id; clientIP is its address, counted per /64
// for IPv6 (one host holds a /64, so per address would be a bucket per
// request). See the comment above refuseFlushEvery for how often this writes.
func (s *Service) RecordUnauthenticated(ctx context.Context, claimed, clientIP string) {
	now := s.now()
	caller := Caller{ServiceID: errtext.Clip(claimed, 64), Channel: ChannelHTTP, ClientIP: errtext.Clip(refusalSource(clientIP), 64)}
	minute := now.Unix() / 60
	key := string(telegramauth.ActionAuthenticate) + "|" + caller.ServiceID + "|" + caller.ClientIP + "|" + strconv.FormatInt(minute, 10)

	r := &s.refused
	r.mu.Lock()
	if r.buckets == nil {
		r.buckets = map[string]*refusalBucket{}
	}
	var due []refusalBucket // buckets to write now, copied out of the lock
	b := r.buckets[key]
	if b == nil {
		b = &refusalBucket{key: key, caller: caller, minute: minute}
		r.buckets[key] = b
	}
	b.pending++
	if b.lastWrite.IsZero() || now.Sub(b.lastWrite) >= refuseFlushEvery {
		due = append(due, *b)
		b.pending, b.lastWrite = 0, now
	}
	// Buckets of past minutes are written out and forgotten, and so are the
	// least recently written when there are too many.
	evict := func(k string, o *refusalBucket) {
		if o.pending > 0 {
			due = append(due, *o)
		}
		delete(r.buckets, k)
	}
	for k, o := range r.buckets {
		if o.minute < minute {
			evict(k, o)
		}
	}
	if len(r.buckets) > refuseBuckets {
		old := make([]*refusalBucket, 0, len(r.buckets))
		for _, o := range r.buckets {
			if o != b {
				old = append(old, o)
			}
		}
		slices.SortFunc(old, func(x, y *refusalBucket) int { return x.lastWrite.Compare(y.lastWrite) })
		for _, o := range old[:len(r.buckets)-refuseBuckets] {
			evict(o.key, o)
		}
	}
	r.mu.Unlock()

	for _, d := range due {
		if err := s.store.countRefusal(context.WithoutCancel(ctx), d.key, d.minute*60_000, d.pending, d.caller); err != nil {
			s.log.Error("vault: counting refused authentications failed; these attempts are only in this log",
				"caller", d.caller.ServiceID, "client_ip", d.caller.ClientIP, "attempts", d.pending, "err", err)
		}
	}
}

// Target is the user or the session a call is about, as far as its
// arguments name one well-formed: the row of a refusal records it, so that
// the access log of a user shows who was refused that user's sessions. The
// zero Target names nothing; ids that are not well-formed are ignored.
type Target struct {
	UserID    int64
	SessionID string
}

// Authorize reports whether the caller in ctx may perform action on target:
// nil, or FORBIDDEN after writing the refusal's access-log row. Callers check
// this before they validate a call's arguments, so that a caller without the
// permission is refused (and logged) whatever it sent; target is only
// recorded.
func (s *Service) Authorize(ctx context.Context, action telegramauth.Action, target Target) error {
	c, denied := s.begin(ctx, action)
	if denied != nil {
		c.about(target)
		return s.fail(ctx, c, denied)
	}
	return nil
}

// about records target in the call's row, but for ids that are not well-formed.
func (c *call) about(t Target) {
	if telegramauth.ValidUserID(t.UserID) {
		c.userID = t.UserID
	}
	if telegramauth.ValidSessionID(t.SessionID) {
		c.sessionID = t.SessionID
	}
}

// refusalSource is the address refusals are counted by: an IPv4 address as
// is, an IPv6 address as its /64 ("2001:db8:1:2::/64").
func refusalSource(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
