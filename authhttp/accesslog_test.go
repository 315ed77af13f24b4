package authhttp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/communicator/communicator/telegramauth"
)

func TestAccessLogRouteAndClient(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	ctx := context.Background()
	if _, err := c.ListSessions(ctx, 5); err != nil {
		t.Fatal(err)
	}
	entries, err := c.AccessLog(ctx, telegramauth.AccessLogQuery{UserID: 5, SessionID: "ses_abcdefghijklmnopqrstuvwxyz", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Action != "AccessLog" || entries[0].UserID != 5 || entries[0].SessionID != "ses_abcdefghijklmnopqrstuvwxyz" ||
		entries[0].Caller != testService || entries[0].At.IsZero() {
		t.Errorf("entries = %+v", entries)
	}
	r := h.do("GET", "/access-log?beforeId=2", nil, nil)
	if r.status != 200 || !strings.Contains(r.body, `"action":"ListSessions"`) || !strings.Contains(r.body, `"at":"2026-11-26T22:22:44.123Z"`) {
		t.Errorf("GET /access-log: %d %s", r.status, r.body)
	}
	for _, bad := range []string{"userId=abc", "userId=0", "sessionId=nope", "limit=0", "limit=1001", "limit=x", "beforeId=-1", "beforeId=1e3"} {
		h.do("GET", "/access-log?"+bad, nil, nil).wantError(t, 400, telegramauth.CodeInvalidArgument)
	}
	h.do("GET", "/access-log", map[string]string{}, nil).wantError(t, 401, telegramauth.CodeUnauthenticated)
}

func TestSessionReadsOff(t *testing.T) {
	fake := newFakeService()
	var denied []telegramauth.Code
	srv := httptest.NewServer(NewHandler(HandlerConfig{
		Service: fake, APIKeys: testAPIKeys(t), SessionReadsOff: true, WithCaller: testWithCaller,
		OnDenied: func(ctx context.Context, serviceID, clientIP, route string, code telegramauth.Code) {
			if code == telegramauth.CodeForbidden && (serviceID != testService || route != "GET /api/telegram-auth/sessions/user/:userId") {
				t.Errorf("denied %q %q", serviceID, route)
			}
			denied = append(denied, code)
		},
	}))
	defer srv.Close()
	get := func(path string) *response {
		return rawRequest(t, srv.Client(), "GET", srv.URL+DefaultBasePath+path, authHeaders(), nil)
	}
	get("/sessions/user/5").wantError(t, 403, telegramauth.CodeForbidden, "service binding")
	if len(denied) != 1 || denied[0] != telegramauth.CodeForbidden || len(fake.calls) != 0 {
		t.Errorf("denied %v, service calls %v", denied, fake.calls)
	}
	// Everything else stays.
	if r := get("/sessions/list/5"); r.status != http.StatusOK {
		t.Errorf("list: %d %s", r.status, r.body)
	}
	if r := get("/health"); r.status != http.StatusOK {
		t.Errorf("health: %d %s", r.status, r.body)
	}
	// Unauthenticated callers still get 401 first.
	rawRequest(t, srv.Client(), "GET", srv.URL+DefaultBasePath+"/sessions/user/5", map[string]string{}, nil).wantError(t, 401, telegramauth.CodeUnauthenticated)
}
