//go:build !js

package tgclient_test

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/mtproto/sessionstring"
	"github.com/communicator/communicator/mtproto/tgclient"
)

var (
	fakeOnce sync.Once
	fake     *faketelegram.Server
	minted   string
	fakeErr  error
)

// server starts one local Telegram for the package, with one minted
// session of the fixture's user 1001 (a key exchange costs about a second).
func server(t *testing.T) (*faketelegram.Server, sessionstring.Session) {
	t.Helper()
	fakeOnce.Do(func() {
		fake, fakeErr = faketelegram.Start(context.Background(), faketelegram.Options{})
		if fakeErr == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			minted, fakeErr = fake.MintSession(ctx, 1001)
		}
	})
	if fakeErr != nil {
		t.Fatal(fakeErr)
	}
	s, _, err := sessionstring.Parse(minted)
	if err != nil {
		t.Fatal(err)
	}
	return fake, s
}

func client(fake *faketelegram.Server, timeout time.Duration) *tgclient.Client {
	ep := fake.Endpoint()
	ep.Timeout = timeout
	return tgclient.New(tgclient.App{ID: 17349, Hash: "344583e45741c457fe1862106095a5eb"}, ep, (&net.Dialer{}).DialContext)
}

func getSelf(ctx context.Context, api *tg.Client) error {
	users, err := api.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
	if err != nil {
		return err
	}
	if len(users) != 1 {
		return errors.New("not one user")
	}
	return nil
}

func kindOf(t *testing.T, err error) *tgclient.Error {
	t.Helper()
	var e *tgclient.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *tgclient.Error", err, err)
	}
	return e
}

func TestRun(t *testing.T) {
	fake, s := server(t)
	c := client(fake, 5*time.Second)
	before := fake.KeyExchanges()
	var name string
	err := c.Run(context.Background(), s, func(ctx context.Context, api *tg.Client) error {
		users, err := api.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
		if err == nil && len(users) == 1 {
			name = users[0].(*tg.User).FirstName
		}
		return err
	})
	want, _ := fake.Fixture().User(1001)
	if err != nil || name != want.FirstName {
		t.Fatalf("Run = %v, name %q; want %q", err, name, want.FirstName)
	}
	if fake.KeyExchanges() != before {
		t.Fatal("Run made a new auth key instead of using the session's")
	}
}

// A unit of work leaves nothing running: in a worker, a goroutine left
// behind would outlive its request.
func TestRunLeavesNoGoroutines(t *testing.T) {
	fake, s := server(t)
	c := client(fake, 5*time.Second)
	if err := c.Run(context.Background(), s, getSelf); err != nil { // warm up lazily started pools
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	for i := 0; i < 5; i++ {
		if err := c.Run(context.Background(), s, getSelf); err != nil {
			t.Fatal(err)
		}
	}
	n := runtime.NumGoroutine()
	for i := 0; i < 100 && n > base; i++ {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if n > base {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after 5 units of work, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

func TestRunFailures(t *testing.T) {
	fake, s := server(t)
	t.Cleanup(fake.ClearFaults)
	c := client(fake, 2*time.Second)
	ctx := context.Background()

	fake.FloodWait("users.getUsers", 3, 1)
	e := kindOf(t, c.Run(ctx, s, getSelf))
	if e.Kind != tgclient.KindFloodWait || e.RetryAfter != 3*time.Second || !e.Retryable() {
		t.Fatalf("flood wait: %v %v", e.Kind, e)
	}

	fake.DropConnections("users.getUsers", 1)
	e = kindOf(t, c.Run(ctx, s, getSelf))
	if e.Kind != tgclient.KindUnavailable || !e.Retryable() || !strings.Contains(e.Error(), "closed before the call completed") {
		t.Fatalf("dropped: %v %v", e.Kind, e)
	}

	fake.Slow("users.getUsers", 10*time.Second, 1)
	start := time.Now()
	e = kindOf(t, c.Run(ctx, s, getSelf))
	fake.ClearFaults()
	if e.Kind != tgclient.KindUnavailable || e.Error() != "Telegram is unavailable: Telegram did not answer within 2s" {
		t.Fatalf("slow: %v %q", e.Kind, e)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("slow answer took %v: the timeout did not bound it", took)
	}

	if err := c.Run(ctx, s, getSelf); err != nil {
		t.Fatalf("after the faults: %v", err)
	}

	bad := s
	bad.Port = 0
	if e := kindOf(t, c.Run(ctx, bad, getSelf)); e.Kind != tgclient.KindRefused || !strings.Contains(e.Error(), "port 0 out of range") {
		t.Fatalf("invalid session: %v %v", e.Kind, e)
	}
}

// A connection that cannot be made ends the unit at once, naming why,
// rather than after gotd's retries have used up the unit's timeout.
func TestRunUnreachable(t *testing.T) {
	fake, s := server(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	ep := fake.Endpoint()
	ep.Addr = closed
	ep.Timeout = time.Minute
	c := tgclient.New(tgclient.App{ID: 17349, Hash: "344583e45741c457fe1862106095a5eb"}, ep, (&net.Dialer{}).DialContext)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := kindOf(t, c.Run(ctx, s, getSelf))
	if e.Kind != tgclient.KindUnavailable || !e.Retryable() ||
		!strings.HasPrefix(e.Error(), "Telegram is unavailable: cannot connect to Telegram: ") ||
		!strings.Contains(e.Error(), "connection refused") {
		t.Fatalf("unreachable: %v %q", e.Kind, e)
	}
	if ctx.Err() != nil {
		t.Fatal("the unit waited out its timeout instead of ending at the failed dial")
	}
}

// Calls in flight when the connection drops all end, the unit fails as
// retryable, and the next unit works.
func TestRunDropWithCallsInFlight(t *testing.T) {
	fake, s := server(t)
	t.Cleanup(fake.ClearFaults)
	c := client(fake, 20*time.Second)
	if err := fake.AddFault(faketelegram.Fault{Kind: faketelegram.FaultDrop, Method: "users.getUsers", After: 2, Times: 1}); err != nil {
		t.Fatal(err)
	}
	err := c.Run(context.Background(), s, func(ctx context.Context, api *tg.Client) error {
		errs := make(chan error, 4)
		for range 4 {
			go func() { errs <- getSelf(ctx, api) }()
		}
		var first error
		for range 4 {
			if err := <-errs; err != nil && first == nil {
				first = err
			}
		}
		return first
	})
	// A call learns of the drop as a cancelled call or as a failed write,
	// whichever comes first: either way, Telegram was unavailable.
	if e := kindOf(t, err); e.Kind != tgclient.KindUnavailable || !e.Retryable() {
		t.Fatalf("dropped with calls in flight: %v %q", e.Kind, e)
	}
	if err := c.Run(context.Background(), s, getSelf); err != nil {
		t.Fatalf("after the drop: %v", err)
	}
}

// A redial that is still under way when the unit ends is cancelled with
// it: that is the drop's outcome, not an unreachable Telegram.
func TestRunDropWhileRedialing(t *testing.T) {
	fake, s := server(t)
	t.Cleanup(fake.ClearFaults)
	ep := fake.Endpoint()
	ep.Timeout = 20 * time.Second
	var dials atomic.Int32
	redialing := make(chan struct{})
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		close(redialing)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	c := tgclient.New(tgclient.App{ID: 17349, Hash: "344583e45741c457fe1862106095a5eb"}, ep, dial)
	if err := fake.AddFault(faketelegram.Fault{Kind: faketelegram.FaultDrop, Method: "users.getUsers", Times: 1}); err != nil {
		t.Fatal(err)
	}
	err := c.Run(context.Background(), s, func(ctx context.Context, api *tg.Client) error {
		err := getSelf(ctx, api)
		select { // the unit ends only once gotd is redialing
		case <-redialing:
		case <-time.After(10 * time.Second):
			t.Error("gotd did not redial after the drop")
		}
		return err
	})
	e := kindOf(t, err)
	if e.Kind != tgclient.KindUnavailable || strings.Contains(e.Error(), "cannot connect") {
		t.Fatalf("dropped while redialing: %v %q", e.Kind, e)
	}
}

// Revoking needs its own session: the shared one serves the other tests.
func TestRunRevoked(t *testing.T) {
	fake, _ := server(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	own, err := fake.MintSession(ctx, 1002)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := sessionstring.Parse(own)
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.RevokeSession(own); err != nil {
		t.Fatal(err)
	}
	e := kindOf(t, client(fake, 5*time.Second).Run(context.Background(), s, getSelf))
	if e.Kind != tgclient.KindSessionRejected || e.Type != "AUTH_KEY_UNREGISTERED" || e.Retryable() {
		t.Fatalf("revoked: %v %q %v", e.Kind, e.Type, e)
	}
}

// A session whose key the server does not know (-404): rejected at once,
// without the fresh key exchange gotd would start in its place.
func TestRunUnknownKey(t *testing.T) {
	fake, s := server(t)
	unknown := s
	for i := range unknown.AuthKey {
		unknown.AuthKey[i] ^= 0x5a
	}
	before := fake.KeyExchanges()
	e := kindOf(t, client(fake, 10*time.Second).Run(context.Background(), unknown, getSelf))
	if e.Kind != tgclient.KindSessionRejected || e.Type != "AUTH_KEY_NOT_FOUND" || e.Retryable() {
		t.Fatalf("unknown key: %v %q %v", e.Kind, e.Type, e)
	}
	if n := fake.KeyExchanges() - before; n != 0 {
		t.Fatalf("%d key exchanges started for a session with an unknown key", n)
	}
}
