package authhttp

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/telegramauth"
)

func wantCode(t testing.TB, err error, code telegramauth.Code, parts ...string) *telegramauth.Error {
	t.Helper()
	var e *telegramauth.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *telegramauth.Error", err, err)
	}
	if e.Code != code {
		t.Errorf("code %s, want %s (%v)", e.Code, code, err)
	}
	if !errors.Is(err, &telegramauth.Error{Code: code}) {
		t.Errorf("errors.Is(%v, %s) is false", err, code)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
	for _, s := range []string{testKey, testSecret} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error contains a secret: %v", err)
		}
	}
	return e
}

func TestClientServerRoundTrip(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	ctx := context.Background()

	_, err := c.GetSessionByUserID(ctx, 42)
	wantCode(t, err, telegramauth.CodeSessionNotFound, "no active session")

	info, err := c.ImportSession(ctx, 42, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	wantCreated := time.Date(2026, 11, 26, 22, 22, 45, 123000000, time.UTC)
	if !telegramauth.ValidSessionID(info.SessionID) || info.UserID != 42 || !info.CreatedAt.Equal(wantCreated) ||
		!info.ExpiresAt.Equal(wantCreated.Add(30*24*time.Hour)) || info.LastUsedAt != nil || info.RevokedAt != nil || info.Status != "active" {
		t.Errorf("import: %+v", info)
	}

	s, err := c.GetSessionByUserID(ctx, 42)
	if err != nil {
		t.Fatal(err)
	}
	if s.SessionString != testSecret || s.SessionID != info.SessionID || s.UserID != 42 || !s.ExpiresAt.Equal(info.ExpiresAt) {
		t.Errorf("session: %+v", s)
	}

	list, err := c.ListSessions(ctx, 42)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].SessionID != info.SessionID || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(wantCreated) {
		t.Errorf("list: %+v", list)
	}
	if list, err := c.ListSessions(ctx, 7); err != nil || list == nil || len(list) != 0 {
		t.Errorf("empty list: %#v %v", list, err)
	}

	rev, err := c.RevokeSession(ctx, info.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	if rev.SessionID != info.SessionID || !rev.RevokedAt.Equal(wantCreated.Add(time.Minute)) {
		t.Errorf("revoke: %+v", rev)
	}
	again, err := c.RevokeSession(ctx, info.SessionID)
	if err != nil || !again.RevokedAt.Equal(rev.RevokedAt) {
		t.Errorf("revoke again: %+v %v", again, err)
	}
	list, _ = c.ListSessions(ctx, 42)
	if len(list) != 1 || list[0].RevokedAt == nil || list[0].Status != "revoked" {
		t.Errorf("list after revoke: %+v", list)
	}
	_, err = c.GetSessionByUserID(ctx, 42)
	wantCode(t, err, telegramauth.CodeSessionNotFound)

	missing := newSessionID()
	_, err = c.RevokeSession(ctx, missing)
	if e := wantCode(t, err, telegramauth.CodeSessionNotFound, "no such session"); e.SessionID != missing {
		t.Errorf("SessionID %q", e.SessionID)
	}

	// Every call carried the caller.
	h.fake.mu.Lock()
	for _, cl := range h.fake.callers {
		if cl != (caller{testService, "127.0.0.1"}) {
			t.Errorf("caller %+v", cl)
		}
	}
	h.fake.mu.Unlock()
}

func TestClientErrorCodes(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	ctx := context.Background()
	sid := newSessionID()
	calls := map[string]func() error{
		"get":    func() error { _, err := c.GetSessionByUserID(ctx, 42); return err },
		"list":   func() error { _, err := c.ListSessions(ctx, 42); return err },
		"revoke": func() error { _, err := c.RevokeSession(ctx, sid); return err },
		"import": func() error { _, err := c.ImportSession(ctx, 42, testSecret); return err },
	}
	for _, code := range telegramauth.Codes {
		h.fake.setErr(&telegramauth.Error{Code: code, Message: "why " + string(code), SessionID: sid})
		for name, call := range calls {
			err := call()
			e := wantCode(t, err, code)
			if e.Message != "why "+string(code) || e.SessionID != sid {
				t.Errorf("%s %s: %+v", name, code, e)
			}
			if _, ok := err.(*telegramauth.Error); !ok {
				t.Errorf("%s %s: %T, want a bare *telegramauth.Error", name, code, err)
			}
		}
	}
	h.fake.setErr(errors.New("hunter2"))
	_, err := c.GetSessionByUserID(ctx, 42)
	wantCode(t, err, telegramauth.CodeInternal, "internal error")
	if strings.Contains(err.Error(), "hunter2") {
		t.Error(err)
	}

	// Authentication failures arrive as UNAUTHENTICATED.
	for _, cfg := range []ClientConfig{
		{APIKey: testKey + "x", ServiceID: testService},
		{APIKey: testKey, ServiceID: "nobody"},
	} {
		cfg.Endpoint, cfg.Transport = h.url, h.srv.Client().Transport
		bad, err := NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = bad.GetSessionByUserID(ctx, 42)
		wantCode(t, err, telegramauth.CodeUnauthenticated, "invalid API key")
		if strings.Contains(err.Error(), cfg.APIKey) {
			t.Error(err)
		}
	}
}

// roundTripFunc is an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestClientRequests(t *testing.T) {
	type seen struct{ method, url, auth, service, ctype, body string }
	var got []seen
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
		}
		got = append(got, seen{r.Method, r.URL.String(), r.Header.Get("Authorization"), r.Header.Get("X-Service-ID"), r.Header.Get("Content-Type"), string(body)})
		return &http.Response{StatusCode: 500, Body: io.NopCloser(strings.NewReader(`{"success":false,"error":{"code":"INTERNAL","message":"x"}}`))}, nil
	})
	c, err := NewClient(ClientConfig{Endpoint: "https://auth.example.com/api/telegram-auth/", APIKey: testKey, ServiceID: testService, Transport: rt})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sid := newSessionID()
	c.GetSessionByUserID(ctx, 9007199254740991)
	c.ListSessions(ctx, 5)
	c.RevokeSession(ctx, sid)
	c.ImportSession(ctx, 42, "1ab\"c")
	auth := "ApiKey " + testKey
	want := []seen{
		{"GET", "https://auth.example.com/api/telegram-auth/sessions/user/9007199254740991", auth, testService, "", ""},
		{"GET", "https://auth.example.com/api/telegram-auth/sessions/list/5", auth, testService, "", ""},
		{"DELETE", "https://auth.example.com/api/telegram-auth/sessions/" + sid, auth, testService, "", ""},
		{"POST", "https://auth.example.com/api/telegram-auth/sessions/import", auth, testService, "application/json", `{"userId":42,"sessionString":"1ab\"c"}`},
	}
	if len(got) != len(want) {
		t.Fatalf("requests %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d: %+v\nwant %+v", i, got[i], want[i])
		}
	}

	// Bad arguments never leave the client.
	got = nil
	for _, err := range []error{
		func() error { _, err := c.GetSessionByUserID(ctx, 0); return err }(),
		func() error { _, err := c.GetSessionByUserID(ctx, -1); return err }(),
		func() error { _, err := c.ListSessions(ctx, telegramauth.MaxUserID+1); return err }(),
		func() error { _, err := c.RevokeSession(ctx, "../../health"); return err }(),
		func() error { _, err := c.RevokeSession(ctx, ""); return err }(),
		func() error { _, err := c.ImportSession(ctx, 0, testSecret); return err }(),
		func() error { _, err := c.ImportSession(ctx, 1, ""); return err }(),
	} {
		wantCode(t, err, telegramauth.CodeInvalidArgument)
	}
	if len(got) != 0 {
		t.Errorf("requests were sent: %+v", got)
	}
}

func TestClientBadResponses(t *testing.T) {
	var status int
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	c, err := NewClient(ClientConfig{Endpoint: srv.URL + "/api/telegram-auth", APIKey: testKey, ServiceID: testService, Transport: srv.Client().Transport})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		status int
		body   string
		code   telegramauth.Code
		want   string
	}{
		{502, "<html>Bad gateway " + testSecret + "</html>", "UNAVAILABLE", "HTTP 502 Bad Gateway without a response envelope"},
		{503, "", "UNAVAILABLE", "HTTP 503 Service Unavailable without a response envelope"},
		{500, `{"error":"boom"}`, "UNAVAILABLE", "HTTP 500 Internal Server Error without a response envelope"},
		{200, "not json " + testSecret, "UNAVAILABLE", "HTTP 200 OK without a response envelope"},
		{200, `{"foo":1}`, "UNAVAILABLE", "without a response envelope"},
		{200, `[1,2]`, "UNAVAILABLE", "without a response envelope"},
		{200, `{"success":"yes"}`, "UNAVAILABLE", "without a response envelope"},
		{404, "404 page not found", "UNAVAILABLE", "HTTP 404 Not Found without a response envelope"},
		{429, "slow down", "UNAVAILABLE", "HTTP 429"},
		{200, `{"success":true,"data":{"sessionString":1}}`, "INTERNAL", "unexpected shape"},
		{200, `{"success":true,"data":{"expiresAt":"tomorrow"}}`, "INTERNAL", "unexpected shape"},
		{200, `{"success":true}`, "INTERNAL", "no data"},
		{500, `{"success":true,"data":{}}`, "UNAVAILABLE", "HTTP 500 Internal Server Error with a success envelope"},
		{400, `{"success":false}`, "UNAVAILABLE", "error envelope without error"},
		{400, `{"success":false,"error":{"code":"NOT_FOUND","message":"m"}}`, "INTERNAL", "unknown error code: m"},
		{502, `{"success":false,"error":{"code":"NOPE","message":"m"}}`, "UNAVAILABLE", "unknown error code: m"},
		{200, `{"success":false,"error":{"code":"FORBIDDEN","message":"not you"}}`, "FORBIDDEN", "not you"},
		{200, `{"success":true,"data":{"sessionString":"1x","sessionId":"ses_x","userId":42,"expiresAt":"2026-11-26T22:22:44.123Z"}}`, "", ""},
	} {
		status, body = tc.status, tc.body
		s, err := c.GetSessionByUserID(context.Background(), 42)
		if tc.code == "" {
			if err != nil || s.SessionString != "1x" || s.ExpiresAt.Format(isoLayout) != "2026-11-26T22:22:44.123Z" {
				t.Errorf("%d %s: %+v %v", tc.status, tc.body, s, err)
			}
			continue
		}
		wantCode(t, err, tc.code, tc.want)
		if strings.Contains(err.Error(), "html") || strings.Contains(err.Error(), "not json") || strings.Contains(err.Error(), "boom") {
			t.Errorf("error quotes the body: %v", err)
		}
	}

	// An oversized response.
	status, body = 200, `{"success":true,"data":"`+strings.Repeat("a", maxResponseBytes)+`"}`
	_, err = c.GetSessionByUserID(context.Background(), 42)
	wantCode(t, err, telegramauth.CodeUnavailable, "larger than")
}

func TestClientTransportErrors(t *testing.T) {
	// Nothing listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := NewClient(ClientConfig{Endpoint: "http://" + addr + "/api/telegram-auth", APIKey: testKey, ServiceID: testService, Transport: http.DefaultTransport})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetSessionByUserID(context.Background(), 42)
	wantCode(t, err, telegramauth.CodeUnavailable, "auth-telegram request failed")
	var oe *net.OpError // the transport's own error, unwrapped
	if !errors.As(err, &oe) {
		t.Errorf("cause not reachable: %v", err)
	}
	var ce *telegramauth.CausedError
	if !errors.As(err, &ce) || ce.Cause == nil || telegramauth.CodeOf(err) != telegramauth.CodeUnavailable || !telegramauth.CodeOf(err).Transient() {
		t.Errorf("CausedError: %#v", err)
	}

	// A slow server and the per-call timeout.
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	c, err = NewClient(ClientConfig{Endpoint: srv.URL, APIKey: testKey, ServiceID: testService, Transport: srv.Client().Transport, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListSessions(context.Background(), 42)
	wantCode(t, err, telegramauth.CodeUnavailable)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("not a deadline: %v", err)
	}
	// The caller's cancellation is visible too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.ListSessions(ctx, 42)
	if !errors.Is(err, context.Canceled) || telegramauth.CodeOf(err) != telegramauth.CodeUnavailable {
		t.Errorf("canceled: %v", err)
	}

	// A transport whose error happens to contain the key: it is redacted.
	leaky := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, errors.New("proxy refused " + r.Header.Get("Authorization"))
	})
	c, _ = NewClient(ClientConfig{Endpoint: "https://x.example", APIKey: testKey, ServiceID: testService, Transport: leaky})
	_, err = c.GetSessionByUserID(context.Background(), 1)
	wantCode(t, err, telegramauth.CodeUnavailable, "proxy refused ApiKey [redacted]")
}

func TestClientConfig(t *testing.T) {
	rt := http.DefaultTransport
	_, err := NewClient(ClientConfig{})
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 4 {
		t.Fatalf("empty config: %v", err)
	}
	for _, p := range []string{"Endpoint is empty", "APIKey is empty", "ServiceID is empty", "Transport is nil"} {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%q lacks %q", err, p)
		}
	}
	secretKey := "sec ret-key-material"
	for _, tc := range []struct {
		cfg  ClientConfig
		want string
	}{
		{ClientConfig{Endpoint: "ftp://x/y"}, "Endpoint must be an http or https URL"},
		{ClientConfig{Endpoint: "auth.example.com/api"}, "Endpoint must be an http or https URL"},
		{ClientConfig{Endpoint: "https:///api"}, "Endpoint has no host"},
		{ClientConfig{Endpoint: "https://u:" + secretKey[4:] + "@x/api"}, "Endpoint"},
		{ClientConfig{Endpoint: "https://x/api?a=1"}, "Endpoint must not have a query or fragment"},
		{ClientConfig{Endpoint: "https://x/api#f"}, "Endpoint must not have a query or fragment"},
		{ClientConfig{Endpoint: "http://[::1"}, "Endpoint is not a URL"},
		{ClientConfig{APIKey: secretKey}, "APIKey has a character that is not visible ASCII"},
		{ClientConfig{APIKey: strings.Repeat("k", 2000)}, "APIKey is longer than 1024 bytes"},
		{ClientConfig{ServiceID: "bad id"}, "ServiceID must be 1-64 characters"},
		{ClientConfig{Timeout: -1}, "Timeout is negative"},
	} {
		cfg := ClientConfig{Endpoint: "https://x.example/api/telegram-auth", APIKey: testKey, ServiceID: testService, Transport: rt}
		if tc.cfg.Endpoint != "" {
			cfg.Endpoint = tc.cfg.Endpoint
		}
		if tc.cfg.APIKey != "" {
			cfg.APIKey = tc.cfg.APIKey
		}
		if tc.cfg.ServiceID != "" {
			cfg.ServiceID = tc.cfg.ServiceID
		}
		cfg.Timeout = tc.cfg.Timeout
		_, err := NewClient(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Count(err.Error(), ";") != 0 {
			t.Errorf("%+v: %v, want only %q", tc.cfg, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "ret-key") || strings.Contains(err.Error(), "kkkk")) {
			t.Errorf("error echoes a secret: %v", err)
		}
	}
}

// A moved endpoint is an error naming the status: the client does not follow
// the redirect, so the API key goes nowhere but the configured endpoint.
func TestClientDoesNotFollowRedirects(t *testing.T) {
	var elsewhere int
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere++
		w.Write([]byte(`{"success":true,"data":{}}`))
	}))
	defer other.Close()
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer moved.Close()
	c, err := NewClient(ClientConfig{Endpoint: moved.URL + "/api/telegram-auth", APIKey: testKey, ServiceID: testService, Transport: http.DefaultTransport})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetSessionByUserID(context.Background(), 42)
	wantCode(t, err, telegramauth.CodeUnavailable, "auth-telegram answered HTTP 307 Temporary Redirect without a response envelope")
	if elsewhere != 0 {
		t.Errorf("the redirect was followed %d times", elsewhere)
	}
}
