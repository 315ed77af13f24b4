package faketelegram_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/auth"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"go.uber.org/zap"

	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/mtproto/sessionstring"
)

// One RSA key for every server of the tests (generating one costs time).
var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

// shared is one server with one minted session for user 1001, used by the
// tests that only read.
var shared struct {
	once sync.Once
	srv  *faketelegram.Server
	sess string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		_ = shared.srv.Close()
	}
	os.Exit(code)
}

func sharedServer(t *testing.T) (*faketelegram.Server, string) {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		shared.srv, shared.err = faketelegram.Start(ctx, faketelegram.Options{Key: testKey})
		if shared.err == nil {
			shared.sess, shared.err = shared.srv.MintSession(ctx, 1001)
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv, shared.sess
}

func startServer(t *testing.T) *faketelegram.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := faketelegram.Start(ctx, faketelegram.Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newClient builds a gotd client as an integrator would, from the printed
// address, DC and PEM only, with the string session loaded (or none).
func newClient(t *testing.T, s *faketelegram.Server, sess string) *telegram.Client {
	t.Helper()
	block, _ := pem.Decode(s.PublicKeyPEM())
	if block == nil || block.Type != "RSA PUBLIC KEY" {
		t.Fatalf("PublicKeyPEM: %q", s.PublicKeyPEM())
	}
	pub, err := x509.ParsePKCS1PublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	storage := new(session.StorageMemory)
	if sess != "" {
		data, err := faketelegram.GotdSession(sess)
		if err != nil {
			t.Fatal(err)
		}
		if err := (&session.Loader{Storage: storage}).Save(context.Background(), data); err != nil {
			t.Fatal(err)
		}
	}
	host, port := s.Host(), s.Port()
	return telegram.NewClient(telegram.TestAppID, telegram.TestAppHash, telegram.Options{
		PublicKeys:     []telegram.PublicKey{{RSA: pub}},
		DC:             s.DC(),
		DCList:         dcs.List{Options: []tg.DCOption{{ID: s.DC(), IPAddress: host, Port: port}}},
		Resolver:       dcs.Plain(dcs.PlainOptions{}),
		SessionStorage: storage,
		NoUpdates:      true,
		Logger:         zap.NewNop(),
	})
}

// run runs f with a connected client, bounded in time.
func run(t *testing.T, c *telegram.Client, f func(ctx context.Context, api *tg.Client) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Run(ctx, func(ctx context.Context) error { return f(ctx, c.API()) }); err != nil {
		t.Fatal(err)
	}
}

func self(ctx context.Context, api *tg.Client) (*tg.User, error) {
	us, err := api.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
	if err != nil {
		return nil, err
	}
	if len(us) != 1 {
		return nil, errors.New("not one user")
	}
	return us[0].(*tg.User), nil
}

func TestMintedSession(t *testing.T) {
	s, sess := sharedServer(t)
	parsed, format, err := sessionstring.Parse(sess)
	if err != nil || format != sessionstring.FormatGramJS {
		t.Fatalf("Parse: %v %v", format, err)
	}
	if parsed.DC != s.DC() || parsed.HostPort() != s.Addr() || parsed.Addr != "127.0.0.1" {
		t.Fatalf("session %v, server %s dc %d", parsed, s.Addr(), s.DC())
	}
	if u, ok := s.LoggedIn(parsed.AuthKeyID()); !ok || u != 1001 {
		t.Fatalf("LoggedIn = %d %v", u, ok)
	}
	before, calls := s.KeyExchanges(), s.Calls("users.getUsers")
	run(t, newClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
		u, err := self(ctx, api)
		if err != nil {
			return err
		}
		if u.ID != 1001 || !u.Self || u.FirstName != "Maya" || u.Phone != "15550101001" {
			t.Errorf("self = %+v", u)
		}
		us, err := api.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUser{UserID: 1002, AccessHash: mustUser(t, 1002).AccessHash}})
		if err != nil {
			return err
		}
		if u := us[0].(*tg.User); u.ID != 1002 || u.Self || !u.MutualContact {
			t.Errorf("user 1002 = %+v", u)
		}
		_, err = api.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUser{UserID: 1002, AccessHash: 1}})
		if !tgerr.Is(err, "USER_ID_INVALID") {
			t.Errorf("wrong access hash: %v", err)
		}
		st, err := api.UpdatesGetState(ctx)
		if err != nil {
			return err
		}
		if st.Pts < 3000 || st.Date == 0 {
			t.Errorf("state = %+v", st)
		}
		return nil
	})
	if got := s.KeyExchanges(); got != before {
		t.Errorf("key exchanges %d → %d: the minted key was not accepted", before, got)
	}
	if got := s.Calls("users.getUsers") - calls; got != 3 {
		t.Errorf("Calls(users.getUsers) grew by %d, want 3", got)
	}
}

func mustUser(t *testing.T, id int64) faketelegram.FixtureUser {
	u, ok := faketelegram.DefaultFixture().User(id)
	if !ok {
		t.Fatalf("no user %d", id)
	}
	return u
}

func TestLogin(t *testing.T) {
	s := startServer(t)
	t.Run("code", func(t *testing.T) {
		run(t, newClient(t, s, ""), func(ctx context.Context, api *tg.Client) error {
			if _, err := self(ctx, api); !tgerr.Is(err, "AUTH_KEY_UNREGISTERED") {
				t.Errorf("before login: %v", err)
			}
			a := auth.NewClient(api, rand.Reader, telegram.TestAppID, telegram.TestAppHash)
			if _, err := a.SendCode(ctx, "+1 999 0000000", auth.SendCodeOptions{}); !tgerr.Is(err, "PHONE_NUMBER_INVALID") {
				t.Errorf("unknown phone: %v", err)
			}
			sent, err := a.SendCode(ctx, "+1 555 010 1001", auth.SendCodeOptions{})
			if err != nil {
				return err
			}
			hash := sent.(*tg.AuthSentCode).PhoneCodeHash
			if _, err := a.SignIn(ctx, "15550101001", "00000", hash); !tgerr.Is(err, "PHONE_CODE_INVALID") {
				t.Errorf("wrong code: %v", err)
			}
			if _, err := a.SignIn(ctx, "15550101001", "01001", "nope"); !tgerr.Is(err, "PHONE_CODE_EXPIRED") {
				t.Errorf("unknown hash: %v", err)
			}
			res, err := a.SignIn(ctx, "15550101001", "01001", hash)
			if err != nil {
				return err
			}
			if u := res.User.(*tg.User); u.ID != 1001 || !u.Self {
				t.Errorf("signed in as %+v", u)
			}
			if _, err := a.SignIn(ctx, "15550101001", "01001", hash); !tgerr.Is(err, "PHONE_CODE_EXPIRED") {
				t.Errorf("reused hash: %v", err)
			}
			u, err := self(ctx, api)
			if err != nil || u.ID != 1001 {
				t.Errorf("after login: %v %v", u, err)
			}
			return nil
		})
	})
	t.Run("2fa", func(t *testing.T) {
		var hash string
		run(t, newClient(t, s, ""), func(ctx context.Context, api *tg.Client) error {
			a := auth.NewClient(api, rand.Reader, telegram.TestAppID, telegram.TestAppHash)
			sent, err := a.SendCode(ctx, "15550101002", auth.SendCodeOptions{})
			if err != nil {
				return err
			}
			hash = sent.(*tg.AuthSentCode).PhoneCodeHash
			if _, err := a.SignIn(ctx, "15550101002", "01002", hash); !errors.Is(err, auth.ErrPasswordAuthNeeded) {
				t.Fatalf("want SESSION_PASSWORD_NEEDED, got %v", err)
			}
			if _, err := self(ctx, api); !tgerr.Is(err, "AUTH_KEY_UNREGISTERED") {
				t.Errorf("before the password: %v", err)
			}
			if _, err := a.Password(ctx, "correct horse battery"); !errors.Is(err, auth.ErrPasswordInvalid) {
				t.Errorf("wrong password: %v", err)
			}
			res, err := a.Password(ctx, mustUser(t, 1002).Password)
			if err != nil {
				return err
			}
			if u := res.User.(*tg.User); u.ID != 1002 || !u.Self {
				t.Errorf("logged in as %+v", u)
			}
			u, err := self(ctx, api)
			if err != nil || u.ID != 1002 {
				t.Errorf("after login: %v %v", u, err)
			}
			return nil
		})
		// A code hash belongs to the auth key that asked for it.
		run(t, newClient(t, s, ""), func(ctx context.Context, api *tg.Client) error {
			a := auth.NewClient(api, rand.Reader, telegram.TestAppID, telegram.TestAppHash)
			if _, err := a.SendCode(ctx, "15550101003", auth.SendCodeOptions{}); err != nil {
				return err
			}
			if _, err := a.SignIn(ctx, "15550101002", "01002", hash); !tgerr.Is(err, "PHONE_CODE_EXPIRED") {
				t.Errorf("hash of another key: %v", err)
			}
			return nil
		})
	})
}

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "localhost:0", "[::]:0", "nonsense"} {
		s, err := faketelegram.Start(context.Background(), faketelegram.Options{Addr: addr, Key: testKey})
		if err == nil {
			_ = s.Close()
			t.Errorf("Start(%q) succeeded", addr)
		}
	}
}

func TestFaults(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sess, err := s.MintSession(ctx, 1001)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("flood", func(t *testing.T) {
		s.FloodWait("users.getUsers", 7, 1)
		run(t, newClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
			_, err := self(ctx, api)
			if d, ok := tgerr.AsFloodWait(err); !ok || d != 7*time.Second {
				t.Errorf("want FLOOD_WAIT_7, got %v", err)
			}
			if _, err := self(ctx, api); err != nil {
				t.Errorf("after the flood wait: %v", err)
			}
			return nil
		})
		run(t, newClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
			// "*" is every method, so set it once connected.
			s.FloodWait("*", 2, 0)
			defer s.ClearFaults()
			for range 3 {
				if _, err := api.UpdatesGetState(ctx); !tgerr.Is(err, "FLOOD_WAIT") {
					t.Errorf("want FLOOD_WAIT, got %v", err)
				}
			}
			s.ClearFaults()
			_, err := api.UpdatesGetState(ctx)
			return err
		})
	})
	t.Run("slow", func(t *testing.T) {
		s.Slow("updates.getState", 300*time.Millisecond, 1)
		run(t, newClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
			start := time.Now()
			if _, err := api.UpdatesGetState(ctx); err != nil {
				return err
			}
			if d := time.Since(start); d < 300*time.Millisecond {
				t.Errorf("answered after %v", d)
			}
			return nil
		})
	})
	t.Run("drop", func(t *testing.T) {
		s.DropConnections("updates.getState", 1)
		before := s.Calls("updates.getState")
		run(t, newClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := api.UpdatesGetState(cctx)
			cancel()
			t.Logf("dropped call: %v", err)
			if err == nil && s.Calls("updates.getState")-before < 2 {
				t.Error("the dropped call succeeded without a retry")
			}
			// gotd reconnects in the background; calls fail until it has.
			for i := 0; ; i++ {
				_, err = api.UpdatesGetState(ctx)
				if err == nil || i == 50 {
					return err
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
		if got := s.Calls("updates.getState") - before; got < 2 {
			t.Errorf("Calls(updates.getState) grew by %d", got)
		}
	})
	t.Run("revoke", func(t *testing.T) {
		other, err := s.MintSession(ctx, 1003)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeSession(sess); err != nil {
			t.Fatal(err)
		}
		run(t, newClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
			if _, err := self(ctx, api); !tgerr.Is(err, "AUTH_KEY_UNREGISTERED") {
				t.Errorf("revoked: %v", err)
			}
			return nil
		})
		run(t, newClient(t, s, other), func(ctx context.Context, api *tg.Client) error {
			u, err := self(ctx, api)
			if err == nil && u.ID != 1003 {
				t.Errorf("other session is %d", u.ID)
			}
			return err
		})
		if err := s.RevokeSession("garbage"); err == nil {
			t.Error("RevokeSession(garbage) succeeded")
		}
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if strings.Contains(s.Addr(), "0.0.0.0") {
		t.Fatal(s.Addr())
	}
}
