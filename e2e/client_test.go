package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/communicator/communicator/internal/devstack"
	"github.com/communicator/communicator/telegramauth"
)

func (s *system) operatorHeaders() []string {
	return []string{"Authorization", "ApiKey " + s.operatorKey, "X-Service-ID", "e2e-operator"}
}

func (s *system) clientStats(t *testing.T) (stats struct {
	Transport    string
	CacheSize    int
	PerTransport map[string]struct{ CacheHits, CacheMisses, Calls, Retries, Failures uint64 }
}) {
	t.Helper()
	var env struct{ Data json.RawMessage }
	get(t, s.ingestor+"/telegram/client-stats", s.operator()...).json(t, &env)
	if err := json.Unmarshal(env.Data, &stats); err != nil {
		t.Fatal(err)
	}
	return stats
}

// TestSessionClientCacheAndRevocation: the ingestor's client serves repeated
// asks from its cache (auth-telegram's access log shows one hand-out), and a
// revocation through the client is seen at once despite the cache.
func TestSessionClientCacheAndRevocation(t *testing.T) {
	sys := startSystem(t, systemOptions{noJSCaller: true, ingestorVars: map[string]string{"TELEGRAM_SESSION_CACHE_TTL": "300000"}})
	id, r := sys.importSession(t, 60, sys.newSession())
	if r.Status != 201 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	for i, want := range []string{"binding", "cache", "cache"} {
		st, _, r := sys.status(t, "60")
		if r.Status != 200 || !st.Usable || st.Source != want || st.SessionID != id {
			t.Fatalf("status %d: %d %s (want source %s)", i, r.Status, r.Body, want)
		}
	}
	if rows := sys.d1(t, "auth-telegram", "SELECT id FROM access_log WHERE user_id = 60 AND action = 'get_session'"); len(rows) != 1 {
		t.Errorf("auth-telegram handed the session out %d times, want 1 (the rest from the cache)", len(rows))
	}
	if st := sys.clientStats(t); st.Transport != "binding" || st.PerTransport["binding"].CacheHits < 2 || st.CacheSize < 1 {
		t.Errorf("client stats: %+v", st)
	}

	// Operator input is checked before anything reaches auth-telegram.
	del := func(sessionID string, headers ...string) (envelope, response) {
		r := do(t, "DELETE", sys.ingestor+"/telegram/sessions/"+sessionID, nil, headers...)
		var e envelope
		r.json(t, &e)
		return e, r
	}
	for name, h := range map[string][]string{
		"no key":              nil,
		"wrong key":           {"Authorization", "ApiKey nope", "X-Service-ID", "e2e-operator"},
		"auth-telegram's key": {"Authorization", "ApiKey " + sys.apiKey, "X-Service-ID", "ingestor-service"},
	} {
		if e, r := del(id, h...); r.Status != 401 || e.Error == nil || e.Error.Code != "UNAUTHENTICATED" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if e, r := del("not-a-session", sys.operatorHeaders()...); r.Status != 400 || e.Error.Code != "INVALID_ARGUMENT" {
		t.Errorf("bad id: %d %s", r.Status, r.Body)
	}
	if e, r := del("ses_"+"aaaaaaaaaaaaaaaaaaaaaaaaaa", sys.operatorHeaders()...); r.Status != 404 || e.Error.Code != "SESSION_NOT_FOUND" {
		t.Errorf("unknown id: %d %s", r.Status, r.Body)
	}
	if st, _, _ := sys.status(t, "60"); !st.Usable {
		t.Fatal("refused revocations revoked the session")
	}

	// Revoked through the client: the cached session is gone at once.
	if _, r := del(id, sys.operatorHeaders()...); r.Status != 200 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	st, _, r := sys.status(t, "60")
	if r.Status != 200 || st.Usable || st.Reason != "SESSION_REVOKED" {
		t.Errorf("after revoking through the client: %d %s", r.Status, r.Body)
	}
	rows := sys.d1(t, "auth-telegram", "SELECT caller, channel, success FROM access_log WHERE session_id = '"+id+"' AND action = 'revoke_session'")
	if len(rows) != 1 || rows[0]["caller"] != "ingestor-service" || rows[0]["channel"] != "service-binding" || rows[0]["success"] != float64(1) {
		t.Errorf("revocation in the access log: %v", rows)
	}
	// This auth-telegram has no Telegram credentials: nothing will log the key
	// out at Telegram, and its list says so.
	var list struct{ Data []telegramauth.SessionInfo }
	r = get(t, sys.auth+"/api/telegram-auth/sessions/list/60", sys.authHeaders()...)
	if r.json(t, &list); r.Status != 200 || len(list.Data) != 1 ||
		list.Data[0].Status != telegramauth.StatusRevoked || list.Data[0].TelegramLogout != telegramauth.LogoutUnconfirmed {
		t.Errorf("the revoked session in the list: %d %s", r.Status, r.Body)
	}
}

// flakyProxy stands between the ingestor and auth-telegram's HTTP API and can
// be taken down (connections refused) and brought back on the same port.
type flakyProxy struct {
	addr   string
	target *url.URL
	srv    *http.Server
}

func (p *flakyProxy) up(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.srv = &http.Server{Handler: httputil.NewSingleHostReverseProxy(p.target)}
	go p.srv.Serve(l)
}

func (p *flakyProxy) down() {
	if p.srv != nil {
		p.srv.Close()
		p.srv = nil
	}
}

// TestAuthTelegramDownAndBack: over HTTP, auth-telegram going away gives the
// ingestor's clear 503 (after the configured retries), and it recovers when
// auth-telegram is back, without a restart.
func TestAuthTelegramDownAndBack(t *testing.T) {
	port := devstack.FreePort()
	sys := startSystem(t, systemOptions{noJSCaller: true,
		authEndpoint: fmt.Sprintf("http://127.0.0.1:%d/api/telegram-auth", port),
		ingestorVars: map[string]string{"TELEGRAM_AUTH_TRANSPORT": "http", "TELEGRAM_MAX_RETRIES": "2", "TELEGRAM_AUTH_CALL_TIMEOUT": "3000"}})
	target, _ := url.Parse(sys.auth)
	proxy := &flakyProxy{addr: fmt.Sprintf("127.0.0.1:%d", port), target: target}
	t.Cleanup(proxy.down)
	proxy.up(t)
	if _, r := sys.importSession(t, 61, sys.newSession()); r.Status != 201 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	if st, _, r := sys.status(t, "61"); r.Status != 200 || !st.Usable || st.Transport != "http" {
		t.Fatalf("before: %d %s", r.Status, r.Body)
	}

	proxy.down()
	start := time.Now()
	_, env, r := sys.status(t, "61")
	if r.Status != 503 || env.Error == nil || env.Error.Code != "UNAVAILABLE" || !contains(env.Error.Message, "auth-telegram is unavailable over http") {
		t.Errorf("auth-telegram down: %d %s", r.Status, r.Body)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the 503 took %v", d)
	}
	var health struct {
		Data struct {
			Status string
			Checks map[string]struct{ Status, Detail string }
		}
	}
	hr := get(t, sys.ingestor+"/health")
	hr.json(t, &health)
	if hr.Status != 503 || health.Data.Checks["auth_telegram"].Status != "fail" || health.Data.Checks["d1"].Status != "ok" {
		t.Errorf("health while auth-telegram is down: %d %s", hr.Status, hr.Body)
	}
	if st := sys.clientStats(t); st.PerTransport["http"].Retries < 2 || st.PerTransport["http"].Failures < 1 {
		t.Errorf("retries not counted: %+v", st)
	}

	proxy.up(t)
	if st, _, r := sys.status(t, "61"); r.Status != 200 || !st.Usable {
		t.Errorf("after auth-telegram came back: %d %s", r.Status, r.Body)
	}
	if hr := get(t, sys.ingestor+"/health"); hr.Status != 200 {
		t.Errorf("health after: %d %s", hr.Status, hr.Body)
	}
}
