package authhttp

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/telegramauth"
)

const (
	testService  = "ingestor-service"
	testKey      = "tk_live_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA"
	rotatedOld   = "old-key-0123456789abcdef"
	rotatedNew   = "new-key-fedcba9876543210"
	adminService = "admin-cli"
	// testSecret is a session string; it must appear only in data.sessionString.
	testSecret = "1AQAOMTQ5LjE1NC4xNjcuNTEAUMtQWhS3cretSessionMaterial=="
)

func testAPIKeys(t testing.TB) httpapi.APIKeys {
	t.Helper()
	keys, err := httpapi.ParseAPIKeys("SERVICE_API_KEYS", `{"`+testService+`":"`+httpapi.HashAPIKey(testKey)+`",
		"`+adminService+`":["`+httpapi.HashAPIKey(rotatedOld)+`","`+strings.ToUpper(httpapi.HashAPIKey(rotatedNew))+`"]}`)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

type denial struct {
	serviceID, clientIP, route string
	code                       telegramauth.Code
}

type harness struct {
	t      *testing.T
	fake   *fakeService
	srv    *httptest.Server
	url    string // srv.URL + DefaultBasePath
	mu     sync.Mutex
	denied []denial
	health map[string]httpapi.Check
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, fake: newFakeService()}
	handler := NewHandler(HandlerConfig{
		Service:    h.fake,
		APIKeys:    testAPIKeys(t),
		Version:    "1.2.3",
		WithCaller: testWithCaller,
		Health: func(ctx context.Context) map[string]httpapi.Check {
			h.mu.Lock()
			defer h.mu.Unlock()
			return h.health
		},
		OnDenied: func(ctx context.Context, serviceID, clientIP, route string, code telegramauth.Code) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.denied = append(h.denied, denial{serviceID, clientIP, route, code})
		},
	})
	h.srv = httptest.NewServer(handler)
	t.Cleanup(h.srv.Close)
	h.url = h.srv.URL + DefaultBasePath
	return h
}

func (h *harness) denials() []denial {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]denial(nil), h.denied...)
}

func (h *harness) client() *Client {
	h.t.Helper()
	c, err := NewClient(ClientConfig{Endpoint: h.url, APIKey: testKey, ServiceID: testService, Transport: h.srv.Client().Transport})
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// response is a raw response with its envelope decoded loosely.
type response struct {
	status int
	header http.Header
	body   string
	env    struct {
		Success *bool           `json:"success"`
		Data    json.RawMessage `json:"data"`
		Error   *struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			SessionID string `json:"sessionId"`
		} `json:"error"`
	}
}

func authHeaders() map[string]string {
	return map[string]string{"Authorization": "ApiKey " + testKey, "X-Service-ID": testService}
}

// do sends a raw request; headers nil means authHeaders(). path is appended
// to the base URL as is (already escaped).
func (h *harness) do(method, path string, headers map[string]string, body io.Reader) *response {
	h.t.Helper()
	return rawRequest(h.t, h.srv.Client(), method, h.url+path, headers, body)
}

func rawRequest(t testing.TB, hc *http.Client, method, url string, headers map[string]string, body io.Reader) *response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if headers == nil {
		headers = authHeaders()
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := &response{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if method != http.MethodHead {
		if err := json.Unmarshal(b, &r.env); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v: %q", method, url, err, b)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("%s %s: Content-Type %q", method, url, ct)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s %s: Cache-Control %q", method, url, cc)
		}
	}
	return r
}

// wantError checks an error response: status, code, that the message contains
// each of parts, and that no secret is in the body.
func (r *response) wantError(t testing.TB, status int, code telegramauth.Code, parts ...string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d (body %s)", r.status, status, r.body)
	}
	if r.env.Success == nil || *r.env.Success {
		t.Errorf("success is not false: %s", r.body)
	}
	if r.env.Error == nil {
		t.Fatalf("no error in %s", r.body)
	}
	if r.env.Error.Code != string(code) {
		t.Errorf("code %q, want %q (body %s)", r.env.Error.Code, code, r.body)
	}
	for _, p := range parts {
		if !strings.Contains(r.env.Error.Message, p) {
			t.Errorf("message %q does not contain %q", r.env.Error.Message, p)
		}
	}
	r.noSecrets(t)
}

func (r *response) noSecrets(t testing.TB) {
	t.Helper()
	for _, s := range []string{testKey, rotatedOld, rotatedNew, httpapi.HashAPIKey(testKey), testSecret, "hunter2"} {
		if strings.Contains(r.body, s) {
			t.Errorf("body contains a secret: %s", r.body)
		}
	}
}

func (r *response) wantOK(t testing.TB, status int, data any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (body %s)", r.status, status, r.body)
	}
	if r.env.Success == nil || !*r.env.Success || r.env.Error != nil {
		t.Fatalf("not a success envelope: %s", r.body)
	}
	if data != nil {
		if err := json.Unmarshal(r.env.Data, data); err != nil {
			t.Fatalf("data: %v: %s", err, r.env.Data)
		}
	}
}
