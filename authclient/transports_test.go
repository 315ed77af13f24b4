package authclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/communicator/communicator/authrpc"
	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/workers"
)

// These tests run the client over the real transports' Go code: the
// generated RPC client (over a fake binding) and the authhttp client (over
// an httptest server), to check that what each reports for a network
// failure is retried and what it reports for a contract error is not.

// fakeBinding answers Call with the scripted reply of each call in turn.
type fakeBinding struct {
	n       atomic.Int64
	replies []func(ctx context.Context) ([]byte, error)
	mu      sync.Mutex
	methods []string
}

func (b *fakeBinding) Call(ctx context.Context, method string, args []byte) ([]byte, error) {
	b.mu.Lock()
	b.methods = append(b.methods, method+string(args))
	b.mu.Unlock()
	i := int(b.n.Add(1) - 1)
	if i >= len(b.replies) {
		i = len(b.replies) - 1
	}
	return b.replies[i](ctx)
}

func reply(s string) func(context.Context) ([]byte, error) {
	return func(context.Context) ([]byte, error) { return []byte(s), nil }
}

func fail(err error) func(context.Context) ([]byte, error) {
	return func(context.Context) ([]byte, error) { return nil, err }
}

const rpcSession = `{"sessionString":"1SESSIONSECRETrpc","sessionId":"ses_abc","userId":7,"expiresAt":"2099-01-01T00:00:00.000Z"}`

func bindingClient(t *testing.T, b *fakeBinding, cfg ClientConfig) (*Client, *fakeSleeper) {
	t.Helper()
	sl := &fakeSleeper{}
	svc := authrpc.ServiceClientOf[*fakeBinding]{Binding: b}
	return New(cfg, Transports{Binding: svc}, WithSleep(sl.Sleep)), sl
}

func TestBindingTransport(t *testing.T) {
	t.Run("binding failures are retried", func(t *testing.T) {
		b := &fakeBinding{replies: []func(context.Context) ([]byte, error){
			fail(errors.New("Network connection lost")),
			fail(&workers.FetchError{Message: "internal error"}),
			reply(rpcSession),
		}}
		c, sl := bindingClient(t, b, testConfig())
		s, src, err := c.GetSession(context.Background(), 7)
		if err != nil || src != SourceBinding || s.SessionID != "ses_abc" || s.UserID != 7 {
			t.Fatalf("got %+v, %v, %v", s.SessionID, src, err)
		}
		if len(sl.Sleeps()) != 2 || b.n.Load() != 3 {
			t.Fatalf("calls %d, sleeps %v", b.n.Load(), sl.Sleeps())
		}
		if b.methods[0] != "getSessionByUserId[7]" {
			t.Fatalf("call = %s", b.methods[0])
		}
		if _, src, _ := c.GetSession(context.Background(), 7); src != SourceCache {
			t.Fatalf("source %v, want cache", src)
		}
	})
	t.Run("a TelegramAuthError is not retried", func(t *testing.T) {
		for _, remote := range []*workers.RemoteError{
			{Name: telegramauth.ErrorName, Message: "SESSION_NOT_FOUND: no session", Props: []byte(`{"code":"SESSION_NOT_FOUND"}`)},
			{Name: "Error", Message: "FORBIDDEN: not on the allow-list"}, // an old compatibility date: no props
		} {
			b := &fakeBinding{replies: []func(context.Context) ([]byte, error){fail(remote), reply(rpcSession)}}
			c, sl := bindingClient(t, b, testConfig())
			_, _, err := c.GetSession(context.Background(), 7)
			code, _, _ := telegramauth.ParseMessage(remote.Message)
			if telegramauth.CodeOf(err) != code || b.n.Load() != 1 || len(sl.Sleeps()) != 0 {
				t.Fatalf("%v: err %v after %d calls", remote, err, b.n.Load())
			}
		}
	})
	t.Run("an UNAVAILABLE TelegramAuthError is retried", func(t *testing.T) {
		b := &fakeBinding{replies: []func(context.Context) ([]byte, error){
			fail(&workers.RemoteError{Name: telegramauth.ErrorName, Message: "UNAVAILABLE: access log down", Props: []byte(`{"code":"UNAVAILABLE"}`)}),
			reply(rpcSession),
		}}
		c, _ := bindingClient(t, b, testConfig())
		if _, _, err := c.GetSession(context.Background(), 7); err != nil || b.n.Load() != 2 {
			t.Fatalf("err %v after %d calls", err, b.n.Load())
		}
	})
	t.Run("a malformed result is not retried", func(t *testing.T) {
		b := &fakeBinding{replies: []func(context.Context) ([]byte, error){reply(`{"sessionString":5}`)}}
		c, _ := bindingClient(t, b, testConfig())
		if _, _, err := c.GetSession(context.Background(), 7); telegramauth.CodeOf(err) != telegramauth.CodeInternal || b.n.Load() != 1 {
			t.Fatalf("err %v after %d calls", err, b.n.Load())
		}
	})
	t.Run("the per-call timeout", func(t *testing.T) {
		cfg := testConfig()
		cfg.CallTimeout = 20 * time.Millisecond
		b := &fakeBinding{replies: []func(context.Context) ([]byte, error){
			func(ctx context.Context) ([]byte, error) { <-ctx.Done(); return nil, ctx.Err() },
			reply(rpcSession),
		}}
		c, _ := bindingClient(t, b, cfg)
		if _, _, err := c.GetSession(context.Background(), 7); err != nil || b.n.Load() != 2 {
			t.Fatalf("err %v after %d calls", err, b.n.Load())
		}
		if st := c.Stats().PerTransport["binding"]; st.Timeouts != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("revoke", func(t *testing.T) {
		b := &fakeBinding{replies: []func(context.Context) ([]byte, error){
			reply(rpcSession),
			reply(`{"sessionId":"ses_abc","revokedAt":"2026-05-01T00:00:00.000Z"}`),
			reply(rpcSession),
		}}
		c, _ := bindingClient(t, b, testConfig())
		c.GetSession(context.Background(), 7)
		if _, err := c.RevokeSession(context.Background(), "ses_abc"); err != nil {
			t.Fatal(err)
		}
		if _, src, _ := c.GetSession(context.Background(), 7); src != SourceBinding {
			t.Fatalf("source %v after revoke", src)
		}
		if got := strings.Join(b.methods, " "); got != `getSessionByUserId[7] revokeSession["ses_abc"] getSessionByUserId[7]` {
			t.Fatalf("calls: %s", got)
		}
	})
}

func TestHTTPTransport(t *testing.T) {
	var n atomic.Int64
	var mu sync.Mutex
	var script []func(w http.ResponseWriter, r *http.Request)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "ApiKey "+goodKey || r.Header.Get("X-Service-ID") != "ingestor-service" {
			w.WriteHeader(401)
			io.WriteString(w, `{"success":false,"error":{"code":"UNAUTHENTICATED","message":"bad key"}}`)
			return
		}
		i := int(n.Add(1) - 1)
		mu.Lock()
		f := script[min(i, len(script)-1)]
		mu.Unlock()
		f(w, r)
	}))
	defer srv.Close()
	answer := func(status int, body string) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
	ok := answer(200, `{"success":true,"data":`+rpcSession+`}`)
	unavailable := answer(503, `{"success":false,"error":{"code":"UNAVAILABLE","message":"down"}}`)
	notFound := answer(404, `{"success":false,"error":{"code":"SESSION_NOT_FOUND","message":"no session"}}`)
	badGateway := answer(502, `<html>bad gateway</html>`)
	hangup := func(w http.ResponseWriter, r *http.Request) {
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		// A response cut short (net/http would resend a request whose
		// connection closed before any answer, hiding the failure).
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"success\":")
		conn.Close()
	}

	m := validEnv()
	m[EnvTransport] = TransportHTTP
	m[EnvEndpoint] = srv.URL + "/api/telegram-auth"
	m[EnvAPIKey] = goodKey
	cfg, err := ParseConfig(envOf(m), hasBindingIf(true))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewHTTPTransport(cfg, srv.Client().Transport)
	if err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, steps ...func(http.ResponseWriter, *http.Request)) (*Client, *fakeSleeper, error) {
		t.Helper()
		mu.Lock()
		script = steps
		mu.Unlock()
		n.Store(0)
		sl := &fakeSleeper{}
		c := New(cfg, Transports{HTTP: tr}, WithSleep(sl.Sleep))
		if c.Transport() != TransportHTTP {
			t.Fatalf("transport %s", c.Transport())
		}
		s, src, err := c.GetSession(context.Background(), 7)
		if err == nil && (src != SourceHTTP || s.SessionID != "ses_abc") {
			t.Fatalf("got %s from %v", s.SessionID, src)
		}
		return c, sl, err
	}
	t.Run("503, 502 without envelope, hang-up: retried", func(t *testing.T) {
		_, sl, err := run(t, unavailable, badGateway, hangup, ok)
		if err != nil || n.Load() != 4 || len(sl.Sleeps()) != 3 {
			t.Fatalf("err %v after %d requests, sleeps %v", err, n.Load(), sl.Sleeps())
		}
	})
	t.Run("404: not retried", func(t *testing.T) {
		_, sl, err := run(t, notFound, ok)
		if telegramauth.CodeOf(err) != telegramauth.CodeSessionNotFound || n.Load() != 1 || len(sl.Sleeps()) != 0 {
			t.Fatalf("err %v after %d requests", err, n.Load())
		}
	})
	t.Run("always 503: gives up after 4 attempts", func(t *testing.T) {
		c, _, err := run(t, unavailable)
		var re *RetryError
		if !errors.As(err, &re) || re.Attempts != 4 || re.Transport != TransportHTTP || n.Load() != 4 {
			t.Fatalf("err %v after %d requests", err, n.Load())
		}
		if st := c.Stats().PerTransport[TransportHTTP]; st.GaveUp != 1 || st.Retries != 3 {
			t.Fatalf("stats %+v", st)
		}
		if strings.Contains(err.Error(), goodKey) {
			t.Fatal("the API key is in the error")
		}
	})
	t.Run("a bad HTTP config is an error, not a typed nil", func(t *testing.T) {
		tr, err := NewHTTPTransport(ClientConfig{}, nil)
		if err == nil || tr != nil {
			t.Fatalf("NewHTTPTransport(zero) = %v, %v", tr, err)
		}
	})
}
