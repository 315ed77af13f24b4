package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/authclient"
	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/telegramauth"
)

// fakeAuth is auth-telegram as the session client sees it.
type fakeAuth struct {
	sessions map[int64]telegramauth.Session
	revoked  map[string]bool
	down     bool
	calls    int
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

func newTestServer(t *testing.T) (*server, *fakeAuth) {
	auth := &fakeAuth{
		sessions: map[int64]telegramauth.Session{7: {SessionString: "1SECRET", SessionID: sid, UserID: 7, ExpiresAt: time.Now().Add(24 * time.Hour)}},
		revoked:  map[string]bool{},
	}
	cfg := authclient.DefaultClientConfig()
	cfg.Transport = authclient.TransportBinding
	cfg.RetryDelay = time.Millisecond
	keys, err := httpapi.ParseAPIKeys("INGESTOR_API_KEYS", `{"ops":"`+httpapi.HashAPIKey("ops-key")+`"}`)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{
		log:          slog.New(slog.DiscardHandler),
		db:           okDB{},
		client:       authclient.New(cfg, authclient.Transports{Binding: auth}),
		operatorKeys: keys,
	}
	return s, auth
}

func call(t *testing.T, h http.Handler, method, path string, headers ...string) (int, map[string]any, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
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
	ops := []string{"Authorization", "ApiKey ops-key", "X-Service-ID", "ops"}
	for _, tc := range []struct {
		path    string
		headers []string
		status  int
		code    string
	}{
		{"/telegram/sessions/" + sid, nil, 401, "UNAUTHENTICATED"},
		{"/telegram/sessions/" + sid, []string{"Authorization", "ApiKey wrong", "X-Service-ID", "ops"}, 401, "UNAUTHENTICATED"},
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

	s.operatorKeys = httpapi.APIKeys{}
	if code, _, body := call(t, h, "DELETE", "/telegram/sessions/"+sid, ops...); code != 503 || !strings.Contains(body, "INGESTOR_API_KEYS") {
		t.Errorf("without INGESTOR_API_KEYS: %d %s", code, body)
	}
}

func TestUnconfiguredClientAnswers503(t *testing.T) {
	s, _ := newTestServer(t)
	s.client = nil
	s.clientErr = &authclient.ConfigError{Problems: []authclient.Problem{{Part: authclient.PartClient, Var: "TELEGRAM_AUTH_TRANSPORT", Reason: "must be auto, binding or http"}}}
	h := s.routes()
	code, _, body := call(t, h, "GET", "/telegram/session-status/7")
	if code != 503 || !strings.Contains(body, "TELEGRAM_AUTH_TRANSPORT") {
		t.Errorf("status: %d %s", code, body)
	}
	code, _, body = call(t, h, "GET", "/health")
	if code != 503 || !strings.Contains(body, "TELEGRAM_AUTH_TRANSPORT") || !strings.Contains(body, `"d1":{"status":"ok"}`) {
		t.Errorf("health: %d %s", code, body)
	}
}

// Bad Telegram credentials stop only what needs Telegram: sessions are still
// reported, and health names the variable (never its value).
func TestBadTelegramCredentialsKeepSessionRoutes(t *testing.T) {
	s, _ := newTestServer(t)
	s.telegramErr = &authclient.ConfigError{Problems: []authclient.Problem{{Part: authclient.PartTelegram, Var: "TELEGRAM_API_HASH", Reason: "must be 32 hex characters"}}}
	h := s.routes()
	if code, _, body := call(t, h, "GET", "/telegram/session-status/7"); code != 200 {
		t.Errorf("status: %d %s", code, body)
	}
	code, _, body := call(t, h, "GET", "/health")
	if code != 503 || !strings.Contains(body, `"telegram_config":{"status":"failing","detail":"`) || !strings.Contains(body, "TELEGRAM_API_HASH must be 32 hex characters") {
		t.Errorf("health: %d %s", code, body)
	}
}

func TestOperatorKeys(t *testing.T) {
	if k, err := parseOperatorKeys(""); err != nil || k.Len() != 0 {
		t.Errorf("unset: %v, %d keys", err, k.Len())
	}
	hash := httpapi.HashAPIKey("ops-key")
	if k, err := parseOperatorKeys(`{"ops":"` + hash + `"}`); err != nil || !k.Verify("ops", "ops-key") {
		t.Errorf("valid: %v", err)
	}
	for _, bad := range []string{`{"ops":"ops-key-in-clear"}`, `not json`, `{}`} {
		_, err := parseOperatorKeys(bad)
		if err == nil || !strings.Contains(err.Error(), "INGESTOR_API_KEYS") || strings.Contains(err.Error(), "SERVICE_API_KEYS") ||
			strings.Contains(err.Error(), "ops-key-in-clear") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
