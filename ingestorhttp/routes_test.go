package ingestorhttp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/authclient"
	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/mtproto/tgclient"
	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/workers"
)

// fakeAuth is auth-telegram as the session client sees it.
type fakeAuth struct {
	// The login methods are never called here: a call would panic.
	telegramauth.Service
	sessions map[int64]telegramauth.Session
	revoked  map[string]bool
	down     bool
	calls    int
	rejected []string // "sessionId reason" of each ReportSessionRejected
}

func (f *fakeAuth) ReportSessionRejected(_ context.Context, id, reason string) (telegramauth.SessionInfo, error) {
	f.rejected = append(f.rejected, id+" "+reason)
	return telegramauth.SessionInfo{SessionID: id, Status: telegramauth.StatusRejected, RejectedReason: reason}, nil
}

func (f *fakeAuth) GetSessionByUserID(_ context.Context, id int64) (telegramauth.Session, error) {
	f.calls++
	if f.down {
		return telegramauth.Session{}, telegramauth.NewError(telegramauth.CodeUnavailable, "down")
	}
	s, ok := f.sessions[id]
	if !ok {
		return s, telegramauth.NewError(telegramauth.CodeSessionNotFound, "the user has no session")
	}
	if f.revoked[s.SessionID] {
		return telegramauth.Session{}, &telegramauth.Error{Code: telegramauth.CodeSessionRevoked, Message: "revoked", SessionID: s.SessionID}
	}
	return s, nil
}
func (f *fakeAuth) ListSessions(context.Context, int64) ([]telegramauth.SessionInfo, error) {
	return nil, nil
}
func (f *fakeAuth) RevokeSession(_ context.Context, id string) (telegramauth.Revocation, error) {
	for _, s := range f.sessions {
		if s.SessionID == id {
			f.revoked[id] = true
			return telegramauth.Revocation{SessionID: id, RevokedAt: time.Unix(1800000000, 0)}, nil
		}
	}
	return telegramauth.Revocation{}, telegramauth.NewError(telegramauth.CodeSessionNotFound, "no session has this id")
}
func (f *fakeAuth) AccessLog(context.Context, telegramauth.AccessLogQuery) ([]telegramauth.AccessLogEntry, error) {
	return nil, nil
}
func (f *fakeAuth) ImportSession(context.Context, int64, string) (telegramauth.SessionInfo, error) {
	return telegramauth.SessionInfo{}, nil
}

type okDB struct{}

func (okDB) PingContext(context.Context) error { return nil }

const sid = "ses_abcdefghijklmnopqrstuvwxyz"

// testServer is the API's configuration with the session client it uses.
type testServer struct {
	Config
	client *authclient.Client
}

func (s *testServer) routes() http.Handler { return NewHandler(s.Config) }

// The test's callers: ops may read and operate, reader may only read,
// nobody has no permission.
var (
	ops    = []string{"Authorization", "ApiKey ops-key", "X-Service-ID", "ops"}
	reader = []string{"Authorization", "ApiKey reader-key", "X-Service-ID", "reader"}
	nobody = []string{"Authorization", "ApiKey nobody-key", "X-Service-ID", "nobody"}
)

func newTestServer(t *testing.T) (*testServer, *fakeAuth) {
	auth := &fakeAuth{
		sessions: map[int64]telegramauth.Session{7: {SessionString: "1SECRET", SessionID: sid, UserID: 7, ExpiresAt: time.Now().Add(24 * time.Hour)}},
		revoked:  map[string]bool{},
	}
	cfg := authclient.DefaultClientConfig()
	cfg.Transport = authclient.TransportBinding
	cfg.RetryDelay = time.Millisecond
	callers, err := ParseCallers(func(k string) (string, bool) {
		return map[string]string{
			EnvAPIKeys: `{"ops":"` + httpapi.HashAPIKey("ops-key") + `","reader":"` + httpapi.HashAPIKey("reader-key") +
				`","nobody":"` + httpapi.HashAPIKey("nobody-key") + `"}`,
			EnvAccessPolicy: `{"read":["ops","reader"],"operate":["ops"]}`,
		}[k], true
	})
	if err != nil {
		t.Fatal(err)
	}
	client := authclient.New(cfg, authclient.Transports{Binding: auth})
	s := &testServer{client: client, Config: Config{
		Log: slog.New(slog.DiscardHandler), DB: okDB{}, Callers: callers, Sessions: client,
	}}
	return s, auth
}

// call sends a request with headers, or as ops when none are given.
func call(t *testing.T, h http.Handler, method, path string, headers ...string) (int, map[string]any, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if len(headers) == 0 {
		headers = ops
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Body)
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("%s %s: not JSON: %s", method, path, body)
	}
	return rec.Code, env, string(body)
}

func TestSessionStatus(t *testing.T) {
	s, auth := newTestServer(t)
	h := s.routes()
	code, env, body := call(t, h, "GET", "/telegram/session-status/7")
	data, _ := env["data"].(map[string]any)
	if code != 200 || data["usable"] != true || data["sessionId"] != sid || data["transport"] != "binding" || strings.Contains(body, "SECRET") {
		t.Errorf("usable: %d %s", code, body)
	}
	if _, env, _ := call(t, h, "GET", "/telegram/session-status/7"); env["data"].(map[string]any)["source"] != "cache" {
		t.Errorf("second status not from the cache: %v", env)
	}
	code, env, body = call(t, h, "GET", "/telegram/session-status/8")
	if code != 200 || env["data"].(map[string]any)["reason"] != "SESSION_NOT_FOUND" {
		t.Errorf("no session: %d %s", code, body)
	}
	for _, bad := range []string{"abc", "-1", "0", "1e400", "9007199254740992"} {
		code, env, body := call(t, h, "GET", "/telegram/session-status/"+bad)
		if e, _ := env["error"].(map[string]any); code != 400 || e["code"] != "INVALID_ARGUMENT" {
			t.Errorf("%s: %d %s", bad, code, body)
		}
	}
	auth.down = true
	s.client.ClearCache()
	code, env, body = call(t, h, "GET", "/telegram/session-status/7")
	if e, _ := env["error"].(map[string]any); code != 503 || e["code"] != "UNAVAILABLE" {
		t.Errorf("auth-telegram down: %d %s", code, body)
	}
}

func TestRevokeThroughTheClient(t *testing.T) {
	s, auth := newTestServer(t)
	h := s.routes()
	call(t, h, "GET", "/telegram/session-status/7") // cached now
	for _, tc := range []struct {
		path    string
		headers []string
		status  int
		code    string
	}{
		{"/telegram/sessions/" + sid, []string{"X-Service-ID", "ops"}, 401, "UNAUTHENTICATED"},
		{"/telegram/sessions/" + sid, []string{"Authorization", "ApiKey wrong", "X-Service-ID", "ops"}, 401, "UNAUTHENTICATED"},
		{"/telegram/sessions/" + sid, reader, 403, "FORBIDDEN"},
		{"/telegram/sessions/not-a-session", ops, 400, "INVALID_ARGUMENT"},
		{"/telegram/sessions/ses_zzzzzzzzzzzzzzzzzzzzzzzzzz", ops, 404, "SESSION_NOT_FOUND"},
	} {
		code, env, body := call(t, h, "DELETE", tc.path, tc.headers...)
		if e, _ := env["error"].(map[string]any); code != tc.status || e["code"] != tc.code || strings.Contains(body, "ops-key") {
			t.Errorf("%s %v: %d %s", tc.path, tc.headers, code, body)
		}
	}
	if auth.revoked[sid] {
		t.Fatal("a refused revocation reached auth-telegram")
	}
	if code, _, body := call(t, h, "DELETE", "/telegram/sessions/"+sid, ops...); code != 200 || !strings.Contains(body, `"revokedAt":"2027-01-15T08:00:00.000Z"`) {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if _, env, _ := call(t, h, "GET", "/telegram/session-status/7"); env["data"].(map[string]any)["reason"] != "SESSION_REVOKED" {
		t.Errorf("the cached session survived the revocation: %v", env)
	}
}

func TestUnconfiguredClientAnswers503(t *testing.T) {
	s, _ := newTestServer(t)
	s.Sessions = nil
	s.ClientErr = &authclient.ConfigError{Problems: []authclient.Problem{{Var: "TELEGRAM_AUTH_TRANSPORT", Reason: "must be auto, binding or http"}}}
	h := s.routes()
	code, _, body := call(t, h, "GET", "/telegram/session-status/7")
	if code != 503 || !strings.Contains(body, "TELEGRAM_AUTH_TRANSPORT") {
		t.Errorf("status: %d %s", code, body)
	}
	code, _, body = call(t, h, "GET", "/health", "X-Anonymous", "1")
	if code != 503 || !strings.Contains(body, `"config":{"status":"fail","detail":"TELEGRAM_AUTH_TRANSPORT unusable (the logs say why)"}`) ||
		strings.Contains(body, "must be") || !strings.Contains(body, `"d1":{"status":"ok"}`) {
		t.Errorf("health: %d %s", code, body)
	}
}

// Bad Telegram credentials stop only what needs Telegram: sessions are still
// reported, and health names the variable (never its value).
func TestBadTelegramCredentialsKeepSessionRoutes(t *testing.T) {
	s, _ := newTestServer(t)
	s.TelegramErr = &tgclient.ConfigError{Problems: []string{"TELEGRAM_API_HASH must be 32 hexadecimal characters (a secret, not shown)"}}
	h := s.routes()
	if code, _, body := call(t, h, "GET", "/telegram/session-status/7"); code != 200 {
		t.Errorf("status: %d %s", code, body)
	}
	code, _, body := call(t, h, "GET", "/health", "X-Anonymous", "1")
	if code != 503 || !strings.Contains(body, `"telegram_config":{"status":"fail","detail":"TELEGRAM_API_HASH unusable (the logs say why)"}`) {
		t.Errorf("health: %d %s", code, body)
	}
}

func TestParseCallers(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	if c, err := ParseCallers(env(nil)); err != nil || c.Keys.Len() != 0 || len(c.Policy) != 0 {
		t.Errorf("unset: %v, %+v", err, c)
	}
	hash := httpapi.HashAPIKey("ops-key")
	c, err := ParseCallers(env(map[string]string{EnvAPIKeys: `{"ops":"` + hash + `"}`, EnvAccessPolicy: `{"operate":["ops"]}`}))
	if err != nil || !c.Keys.Verify("ops", "ops-key") || !c.Policy.Allows(PermOperate, "ops") || c.Policy.Allows(PermRead, "ops") {
		t.Errorf("valid: %v", err)
	}
	for _, bad := range []map[string]string{
		{EnvAPIKeys: `{"ops":"ops-key-in-clear"}`},
		{EnvAPIKeys: `not json`},
		{EnvAPIKeys: `{}`},
		{EnvAccessPolicy: `{"write":["ops"]}`},
		{EnvAccessPolicy: `{"read":["ops"],"read":[]}`},
	} {
		_, err := ParseCallers(env(bad))
		var name string
		for k := range bad {
			name = k
		}
		if err == nil || !strings.HasPrefix(err.Error(), name) || strings.Contains(err.Error(), "SERVICE_API_KEYS") ||
			strings.Contains(err.Error(), "ops-key-in-clear") {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

// Every route but health needs a caller with the route's permission: 401
// without credentials, 403 without the permission, and either way nothing
// reaches auth-telegram.
func TestEveryRouteNeedsACaller(t *testing.T) {
	s, auth := newTestServer(t)
	h := s.routes()
	routes := []struct{ method, path, perm string }{
		{"GET", "/telegram/session-status/7", PermRead},
		{"GET", "/telegram/me/7", PermRead},
		{"GET", "/telegram/client-stats", PermRead},
		{"DELETE", "/telegram/sessions/" + sid, PermOperate},
	}
	for _, r := range routes {
		for _, c := range []struct {
			name    string
			headers []string
			status  int
		}{
			{"no credentials", []string{"X-Anonymous", "1"}, 401},
			{"no service id", []string{"Authorization", "ApiKey ops-key"}, 401},
			{"a wrong key", []string{"Authorization", "ApiKey reader-key", "X-Service-ID", "ops"}, 401},
			{"a malformed service id", []string{"Authorization", "ApiKey ops-key", "X-Service-ID", "ops\x01"}, 401},
			{"no permission", nobody, 403},
		} {
			code, env, body := call(t, h, r.method, r.path, c.headers...)
			e, _ := env["error"].(map[string]any)
			want := map[int]string{401: "UNAUTHENTICATED", 403: "FORBIDDEN"}[c.status]
			if code != c.status || e["code"] != want || strings.Contains(body, "-key") {
				t.Errorf("%s %s, %s: %d %s", r.method, r.path, c.name, code, body)
			}
		}
	}
	if auth.calls != 0 {
		t.Errorf("auth-telegram was called %d times", auth.calls)
	}
	// Health needs nothing and names no caller.
	code, _, body := call(t, h, "GET", "/health", "X-Anonymous", "1")
	if code != 200 || strings.Contains(body, "ops") || strings.Contains(body, "reader") {
		t.Errorf("health: %d %s", code, body)
	}
	// An encoded slash is refused before any route.
	if code, _, body := call(t, h, "GET", "/telegram/session-status/7%2F8"); code != 400 || !strings.Contains(body, "encoded slash") {
		t.Errorf("encoded slash: %d %s", code, body)
	}
}

// client-stats carries the session client's counters as before and the
// isolate's memory and bridge counters under "memory" and "bridge": null when
// they cannot be read.
func TestClientStatsIsolate(t *testing.T) {
	s, _ := newTestServer(t)
	code, env, body := call(t, s.routes(), "GET", "/telegram/client-stats", reader...)
	data, _ := env["data"].(map[string]any)
	if code != 200 || data["transport"] != "binding" || data["memory"] != nil || data["bridge"] != nil {
		t.Fatalf("without a reader: %d %s", code, body)
	}
	for _, k := range []string{"memory", "bridge"} {
		if _, ok := data[k]; !ok {
			t.Errorf("no %s member: %s", k, body)
		}
	}

	heap := uint64(7 << 20)
	s.Isolate = func(context.Context) (workers.Isolate, error) {
		return workers.Isolate{
			Memory: workers.Memory{WasmMemory: 20 << 20, GoHeapInuse: 5 << 20, GoSys: 12 << 20, JSHeap: &heap},
			Bridge: workers.Bridge{JSPI: true, SuspendedCalls: 41, WaitsReported: 0, GoInstances: 1, Goroutines: 9},
		}, nil
	}
	code, env, body = call(t, s.routes(), "GET", "/telegram/client-stats", reader...)
	data, _ = env["data"].(map[string]any)
	m, _ := data["memory"].(map[string]any)
	b, _ := data["bridge"].(map[string]any)
	if code != 200 || data["cacheCapacity"] == nil || m["wasmMemoryBytes"] != float64(20<<20) || m["goHeapInuseBytes"] != float64(5<<20) ||
		m["goSysBytes"] != float64(12<<20) || m["jsHeapBytes"] != float64(7<<20) {
		t.Errorf("memory with a reader: %d %s", code, body)
	}
	if b["jspi"] != true || b["suspendedCalls"] != float64(41) || b["waitsReported"] != float64(0) || b["goInstances"] != float64(1) || b["goroutines"] != float64(9) {
		t.Errorf("bridge with a reader: %d %s", code, body)
	}

	s.Isolate = func(context.Context) (workers.Isolate, error) { return workers.Isolate{}, errors.New("not a worker") }
	code, env, body = call(t, s.routes(), "GET", "/telegram/client-stats", reader...)
	data, _ = env["data"].(map[string]any)
	if code != 200 || data["memory"] != nil || data["bridge"] != nil || data["transport"] != "binding" {
		t.Errorf("with a failing reader: %d %s", code, body)
	}
}
