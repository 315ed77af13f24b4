package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/mtproto/sessionstring"
)

// telegramSystem is the system with the ingestor pointed at a local Telegram
// (faketelegram, in this test process) through TELEGRAM_DC_ID,
// TELEGRAM_DC_ADDR and TELEGRAM_PUBLIC_KEYS.
type telegramSystem struct {
	*system
	tg *faketelegram.Server
}

// callTimeout bounds one unit of work with Telegram in these tests.
const callTimeout = 3 * time.Second

func startTelegramSystem(t *testing.T, vars map[string]string) *telegramSystem {
	t.Helper()
	return startTelegramSystemWith(t, vars, nil)
}

// startTelegramSystemWith is startTelegramSystem with more of the ingestor's
// callers (systemOptions.callers).
func startTelegramSystemWith(t *testing.T, vars, callers map[string]string) *telegramSystem {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	fake, err := faketelegram.Start(ctx, faketelegram.Options{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close(); cancel() })
	iv := fake.EndpointVars()
	iv["TELEGRAM_CALL_TIMEOUT"] = fmt.Sprint(callTimeout.Milliseconds())
	for k, v := range vars {
		iv[k] = v
	}
	return &telegramSystem{system: startSystem(t, systemOptions{ingestorVars: iv, noJSCaller: true, callers: callers}), tg: fake}
}

// mint makes a session of a fixture user that the local Telegram accepts.
func (s *telegramSystem) mint(t *testing.T, telegramUser int64) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	str, err := s.tg.MintSession(ctx, telegramUser)
	if err != nil {
		t.Fatal(err)
	}
	s.secrets = append(s.secrets, str)
	return str
}

type meData struct {
	UserID    int64
	SessionID string
	Source    string
	Telegram  struct {
		ID                            int64
		FirstName, LastName, Username string
	}
}

type telegramErr struct {
	Code, Message, SessionID string
	Retryable                bool
	RetryAfter               int
}

func (s *telegramSystem) me(t *testing.T, userID int64) (response, meData, *telegramErr) {
	t.Helper()
	r := do(t, "GET", fmt.Sprintf("%s/telegram/me/%d", s.ingestor, userID), nil, s.operator()...)
	var env struct {
		Success bool
		Data    meData
		Error   *telegramErr
	}
	r.json(t, &env)
	return r, env.Data, env.Error
}

// TestTelegramMe is GET /telegram/me end to end: the session from
// auth-telegram over the binding, MTProto over connect() from inside the Go
// worker to the local Telegram, and each way that can fail.
func TestTelegramMe(t *testing.T) {
	sys := startTelegramSystem(t, map[string]string{"TELEGRAM_SESSION_CACHE_TTL": "300000"})
	const tgUser = 1001 // the fixture's demo user
	want, ok := sys.tg.Fixture().User(tgUser)
	if !ok {
		t.Fatal("the fixture has no user 1001")
	}
	const user = 501
	first := sys.mint(t, tgUser)
	sid, r := sys.importSession(t, user, first)
	if sid == "" {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	exchanges := sys.tg.KeyExchanges()

	t.Run("account", func(t *testing.T) {
		for i, source := range []string{"binding", "cache"} {
			r, me, e := sys.me(t, user)
			if r.Status != 200 || e != nil {
				t.Fatalf("call %d: %d %s", i, r.Status, r.Body)
			}
			if me.UserID != user || me.SessionID != sid || me.Source != source {
				t.Errorf("call %d: %+v, want user %d session %s source %s", i, me, user, sid, source)
			}
			if me.Telegram.ID != want.ID || me.Telegram.FirstName != want.FirstName || me.Telegram.Username != want.Username {
				t.Errorf("call %d: account %+v, want the fixture's %+v", i, me.Telegram, want)
			}
		}
		if n := sys.tg.KeyExchanges(); n != exchanges {
			t.Errorf("the worker made %d new auth keys; an imported session must be used as is", n-exchanges)
		}
		if strings.Contains(string(r.Body), first) {
			t.Fatal("the answer contains the session string")
		}
	})

	t.Run("health names the kind of endpoint, not its address", func(t *testing.T) {
		r := do(t, "GET", sys.ingestor+"/health", nil)
		if want := "a test server (data center 2)"; r.Status != 200 || !strings.Contains(string(r.Body), want) ||
			strings.Contains(string(r.Body), sys.tg.Addr()) {
			t.Fatalf("%d %s, want %q and no address", r.Status, r.Body, want)
		}
	})

	t.Run("unknown user", func(t *testing.T) {
		r, _, e := sys.me(t, 999999)
		if r.Status != 404 || e == nil || e.Code != "SESSION_NOT_FOUND" {
			t.Fatalf("%d %s, want 404 SESSION_NOT_FOUND", r.Status, r.Body)
		}
	})

	t.Run("bad user id", func(t *testing.T) {
		r, _, e := sys.me(t, -5)
		if r.Status != 400 || e == nil || e.Code != "INVALID_ARGUMENT" {
			t.Fatalf("%d %s, want 400 INVALID_ARGUMENT", r.Status, r.Body)
		}
	})

	t.Run("flood wait", func(t *testing.T) {
		sys.tg.FloodWait("users.getUsers", 7, 1)
		r, _, e := sys.me(t, user)
		if r.Status != 429 || e == nil || e.Code != "TELEGRAM_FLOOD_WAIT" || !e.Retryable || e.RetryAfter != 7 || r.Header.Get("Retry-After") != "7" {
			t.Fatalf("%d %v %s, want 429 TELEGRAM_FLOOD_WAIT retryable, retryAfter 7", r.Status, r.Header, r.Body)
		}
		if r, _, _ := sys.me(t, user); r.Status != 200 {
			t.Fatalf("after the flood wait: %d %s", r.Status, r.Body)
		}
	})

	t.Run("dropped connections", func(t *testing.T) {
		sys.tg.DropConnections("users.getUsers", 0) // every time, until cleared
		start := time.Now()
		r, _, e := sys.me(t, user)
		took := time.Since(start)
		sys.tg.ClearFaults()
		if r.Status != 503 || e == nil || e.Code != "TELEGRAM_UNAVAILABLE" || !e.Retryable {
			t.Fatalf("%d %s, want 503 TELEGRAM_UNAVAILABLE retryable", r.Status, r.Body)
		}
		// Bounded by the call timeout, not a hang (a loose bound: the machine is shared).
		if took > callTimeout+20*time.Second {
			t.Fatalf("answered after %v; the call timeout is %v", took, callTimeout)
		}
		if r, _, _ := sys.me(t, user); r.Status != 200 {
			t.Fatalf("after the connection came back: %d %s", r.Status, r.Body)
		}
	})

	t.Run("slow answer", func(t *testing.T) {
		sys.tg.Slow("users.getUsers", 4*callTimeout, 1)
		r, _, e := sys.me(t, user)
		sys.tg.ClearFaults()
		if r.Status != 503 || e == nil || e.Code != "TELEGRAM_UNAVAILABLE" || !strings.Contains(e.Message, "did not answer within 3s") {
			t.Fatalf("%d %s, want 503 TELEGRAM_UNAVAILABLE naming the timeout", r.Status, r.Body)
		}
	})

	t.Run("unknown key", func(t *testing.T) {
		// A session Telegram never issued: the server answers -404, and the
		// worker must not start a fresh key exchange (seconds of CPU in wasm).
		ss, _, err := sessionstring.Parse(first)
		if err != nil {
			t.Fatal(err)
		}
		for i := range ss.AuthKey {
			ss.AuthKey[i] ^= 0xa5
		}
		forged := sessionstring.Encode(ss)
		sys.secrets = append(sys.secrets, forged)
		const other = 777
		if id, r := sys.importSession(t, other, forged); id == "" {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
		before := sys.tg.KeyExchanges()
		r, _, e := sys.me(t, other)
		if r.Status != 410 || e == nil || e.Code != "TELEGRAM_SESSION_REJECTED" || !strings.Contains(e.Message, "AUTH_KEY_NOT_FOUND") {
			t.Fatalf("%d %s, want 410 TELEGRAM_SESSION_REJECTED (AUTH_KEY_NOT_FOUND)", r.Status, r.Body)
		}
		if n := sys.tg.KeyExchanges() - before; n != 0 {
			t.Fatalf("the worker started %d key exchanges for an unknown key", n)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan string, 10)
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r, me, _ := sys.me(t, user); r.Status != 200 || me.Telegram.ID != want.ID {
					errs <- fmt.Sprintf("%d %s", r.Status, r.Body)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	})

	// Last: it ends the first session.
	t.Run("rejected key leaves the cache", func(t *testing.T) {
		if r, me, _ := sys.me(t, user); r.Status != 200 || me.Source != "cache" {
			t.Fatalf("before: %d %s, want the cached session", r.Status, r.Body)
		}
		if err := sys.tg.RevokeSession(first); err != nil {
			t.Fatal(err)
		}
		r, _, e := sys.me(t, user)
		if r.Status != 410 || e == nil || e.Code != "TELEGRAM_SESSION_REJECTED" || e.Retryable || e.SessionID != sid ||
			!strings.Contains(e.Message, "AUTH_KEY_UNREGISTERED") {
			t.Fatalf("%d %s, want 410 TELEGRAM_SESSION_REJECTED (AUTH_KEY_UNREGISTERED) for %s", r.Status, r.Body, sid)
		}
		if !sys.Logs().WaitFor("Telegram rejected the session; dropped from the session cache", 10*time.Second) {
			t.Error("the rejection was not logged")
		}
		// A new login: were the dead session still cached, the next call
		// would use it and fail again.
		second := sys.mint(t, tgUser)
		sid2, _ := sys.importSession(t, user, second)
		r, me, _ := sys.me(t, user)
		if r.Status != 200 || me.SessionID != sid2 || me.Source != "binding" {
			t.Fatalf("after a new session: %d %s, want session %s from the binding", r.Status, r.Body, sid2)
		}
		var stats struct{ Data map[string]any }
		json.Unmarshal(do(t, "GET", sys.ingestor+"/telegram/client-stats", nil, sys.operator()...).Body, &stats)
		if fmt.Sprint(stats.Data["invalidations"]) == "0" {
			t.Errorf("client stats count no invalidation: %v", stats.Data)
		}
	})
}

// TestTelegramNotConfigured: a test-server endpoint with a variable missing
// leaves the Telegram routes answering 503 that names it, and the rest up.
func TestTelegramNotConfigured(t *testing.T) {
	sys := startSystem(t, systemOptions{noJSCaller: true, ingestorVars: map[string]string{"TELEGRAM_DC_ADDR": "127.0.0.1:1"}})
	sid, _ := sys.importSession(t, 7, sys.newSession())
	if sid == "" {
		t.Fatal("import failed")
	}
	r := do(t, "GET", sys.ingestor+"/telegram/me/7", nil, sys.operator()...)
	if r.Status != 503 || !strings.Contains(string(r.Body), "TELEGRAM_DC_ID") || !strings.Contains(string(r.Body), "TELEGRAM_PUBLIC_KEYS") {
		t.Fatalf("%d %s, want 503 naming the missing variables", r.Status, r.Body)
	}
	if r := do(t, "GET", sys.ingestor+"/telegram/session-status/7", nil, sys.operator()...); r.Status != 200 {
		t.Fatalf("session-status: %d %s", r.Status, r.Body)
	}
}
