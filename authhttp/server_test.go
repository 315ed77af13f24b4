package authhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/telegramauth"
)

var isoRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

func (h *harness) importRaw(userID int64, secret string) wireInfo {
	h.t.Helper()
	var info wireInfo
	h.do("POST", "/sessions/import", nil, strings.NewReader(fmt.Sprintf(`{"userId":%d,"sessionString":%q}`, userID, secret))).wantOK(h.t, 201, &info)
	return info
}

func TestWireFormat(t *testing.T) {
	h := newHarness(t)
	info := h.importRaw(42, testSecret)
	if info.UserID != 42 || !telegramauth.ValidSessionID(info.SessionID) || info.Status != "active" {
		t.Fatalf("import: %+v", info)
	}

	// The session route: every field, times as toISOString writes them.
	r := h.do("GET", "/sessions/user/42", nil, nil)
	var data map[string]any
	r.wantOK(t, 200, &data)
	if data["sessionString"] != testSecret || data["sessionId"] != info.SessionID || data["userId"] != float64(42) {
		t.Errorf("data: %v", data)
	}
	if exp, _ := data["expiresAt"].(string); exp != "2026-12-26T22:22:45.123Z" {
		t.Errorf("expiresAt %q", exp)
	}

	// The list: null for unset times, ISO for set ones, never a secret.
	r = h.do("GET", "/sessions/list/42", nil, nil)
	var list []map[string]any
	r.wantOK(t, 200, &list)
	if len(list) != 1 {
		t.Fatalf("list: %s", r.body)
	}
	if strings.Contains(r.body, testSecret) || strings.Contains(r.body, "sessionString") {
		t.Errorf("list carries a secret: %s", r.body)
	}
	want := map[string]any{
		"sessionId": info.SessionID, "userId": float64(42), "createdAt": "2026-11-26T22:22:45.123Z",
		"expiresAt": "2026-12-26T22:22:45.123Z", "lastUsedAt": "2026-11-26T22:22:45.123Z", "revokedAt": nil, "status": "active",
	}
	for k, v := range want {
		got, ok := list[0][k]
		if !ok || got != v {
			t.Errorf("list[0].%s = %v, want %v", k, got, v)
		}
	}
	if len(list[0]) != len(want) {
		t.Errorf("list[0] has fields %v", list[0])
	}

	// An empty list is [], not null.
	r = h.do("GET", "/sessions/list/7", nil, nil)
	r.wantOK(t, 200, nil)
	if string(r.env.Data) != "[]" {
		t.Errorf("empty list data %s", r.env.Data)
	}

	// Revoke.
	r = h.do("DELETE", "/sessions/"+info.SessionID, nil, nil)
	var rev map[string]any
	r.wantOK(t, 200, &rev)
	if rev["sessionId"] != info.SessionID || rev["revokedAt"] != "2026-11-26T22:23:45.123Z" || len(rev) != 2 {
		t.Errorf("revoke: %v", rev)
	}
}

func TestJSTime(t *testing.T) {
	at := time.Date(2026, 11, 26, 23, 22, 44, 123999999, time.FixedZone("CET", 3600))
	b, _ := json.Marshal(jsTime(at))
	if string(b) != `"2026-11-26T22:22:44.123Z"` {
		t.Errorf("got %s", b)
	}
	b, _ = json.Marshal(jsTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	if string(b) != `"2026-01-02T03:04:05.000Z"` {
		t.Errorf("got %s", b)
	}
	var back jsTime
	for _, s := range []string{`"2026-11-26T22:22:44.123Z"`, `"2026-11-26T23:22:44.123+01:00"`, `"2026-11-26T22:22:44.123456789Z"`} {
		if err := json.Unmarshal([]byte(s), &back); err != nil || !time.Time(back).Truncate(time.Millisecond).Equal(at.Truncate(time.Millisecond)) {
			t.Errorf("%s: %v %v", s, time.Time(back), err)
		}
	}
	for _, s := range []string{`"yesterday"`, `12`, `null`} {
		if err := json.Unmarshal([]byte(s), &back); err == nil {
			t.Errorf("%s parsed", s)
		}
	}
}

func TestErrorCodeStatus(t *testing.T) {
	h := newHarness(t)
	sid := newSessionID()
	routes := []struct{ method, path, body string }{
		{"GET", "/sessions/user/42", ""},
		{"GET", "/sessions/list/42", ""},
		{"DELETE", "/sessions/" + sid, ""},
		{"POST", "/sessions/import", `{"userId":42,"sessionString":"1abc"}`},
		{"POST", "/login/code", `{"loginId":"` + testLoginID + `","code":"01002"}`},
	}
	want := map[telegramauth.Code]int{
		"INVALID_ARGUMENT": 400, "UNAUTHENTICATED": 401, "FORBIDDEN": 403, "SESSION_NOT_FOUND": 404,
		"SESSION_EXPIRED": 410, "SESSION_REVOKED": 410, "UNAVAILABLE": 503, "INTERNAL": 500,
		"SESSION_REJECTED": 410, "PHONE_NUMBER_INVALID": 400, "PHONE_CODE_INVALID": 400, "PHONE_CODE_EXPIRED": 410,
		"PASSWORD_HASH_INVALID": 400, "FLOOD_WAIT": 429, "LOGIN_EXPIRED": 410, "LOGIN_NOT_FOUND": 404, "LOGIN_BUSY": 409,
		"LOGIN_REFUSED": 422,
	}
	if len(want) != len(telegramauth.Codes) {
		t.Fatal("a code is missing from the test")
	}
	for _, code := range telegramauth.Codes {
		for _, rt := range routes {
			h.fake.setErr(&telegramauth.Error{Code: code, Message: "the reason", SessionID: sid})
			var body io.Reader
			if rt.body != "" {
				body = strings.NewReader(rt.body)
			}
			r := h.do(rt.method, rt.path, nil, body)
			r.wantError(t, want[code], code, "the reason")
			if r.env.Error.Message != "the reason" || r.env.Error.SessionID != sid {
				t.Errorf("%s %s: error %+v", rt.method, rt.path, r.env.Error)
			}
		}
	}
}

func TestNonContractErrorsAreInternal(t *testing.T) {
	h := newHarness(t)
	for _, err := range []error{
		errors.New("d1: connect to db with password hunter2 failed"),
		&telegramauth.Error{Code: "BOGUS", Message: "hunter2"},
		context.DeadlineExceeded,
	} {
		h.fake.setErr(err)
		r := h.do("GET", "/sessions/user/42", nil, nil)
		r.wantError(t, 500, telegramauth.CodeInternal)
		if r.env.Error.Message != "internal error" {
			t.Errorf("message %q", r.env.Error.Message)
		}
	}
	// A wrapped contract error keeps its code.
	h.fake.setErr(fmt.Errorf("vault: %w", telegramauth.NewError(telegramauth.CodeSessionExpired, "the session expired")))
	h.do("GET", "/sessions/user/42", nil, nil).wantError(t, 410, telegramauth.CodeSessionExpired, "the session expired")
}

func TestBadUserID(t *testing.T) {
	h := newHarness(t)
	long := strings.Repeat("9", 300)
	cases := []struct{ segment, want string }{
		{"", "userId is missing"},
		{"abc", `got "abc"`},
		{"-1", `got "-1"`},
		{"0", "must be positive"},
		{"00", "must be positive"},
		{"1e400", `got "1e400"`},
		{"1.5", `got "1.5"`},
		{"9007199254740992", "at most 9007199254740991"},
		{"18446744073709551616", "at most 9007199254740991"},
		{"+5", `got "+5"`},
		{"05", "leading zeros"},
		{"%205", `got " 5"`},
		{"5%20", `got "5 "`},
		{"%0A5", `got "?5"`},
		{"%22%3B%FF", `got "?;?"`},
		{"0x10", `got "0x10"`},
		{long, `got "999999999999999999999999"...`},
		{"12345678901234567890123456789012345678901234567890abc", `got "123456789012345678901234"...`},
	}
	for _, route := range []string{"/sessions/user/", "/sessions/list/"} {
		for _, c := range cases {
			before := h.fake.callCount()
			r := h.do("GET", route+c.segment, nil, nil)
			r.wantError(t, 400, telegramauth.CodeInvalidArgument, "userId", c.want)
			if len(r.env.Error.Message) > 160 {
				t.Errorf("%q: message too long: %q", c.segment, r.env.Error.Message)
			}
			if strings.Contains(r.env.Error.Message, long[:30]) {
				t.Errorf("%q: message echoes too much", c.segment)
			}
			if h.fake.callCount() != before {
				t.Errorf("%s%s: the service was called", route, c.segment)
			}
		}
	}
	// The largest id is accepted.
	h.do("GET", "/sessions/list/9007199254740991", nil, nil).wantOK(t, 200, nil)
	h.do("GET", "/sessions/user/9007199254740991", nil, nil).wantError(t, 404, telegramauth.CodeSessionNotFound)
}

func TestBadSessionID(t *testing.T) {
	h := newHarness(t)
	good := newSessionID()
	cases := []string{
		"", "abc", "ses_", "ses_" + strings.Repeat("a", 25), "ses_" + strings.Repeat("a", 27),
		"ses_" + strings.Repeat("A", 26), "ses_" + strings.Repeat("a", 25) + "1", "ses_" + strings.Repeat("a", 25) + "8",
		"SES_" + good[4:], "ses-" + good[4:], good + "%00", "%20" + good, strings.Repeat("x", 2000),
		"ses_" + strings.Repeat("a", 24) + "%2E%2E",
	}
	for _, c := range cases {
		before := h.fake.callCount()
		r := h.do("DELETE", "/sessions/"+c, nil, nil)
		r.wantError(t, 400, telegramauth.CodeInvalidArgument, "sessionId")
		if len(r.env.Error.Message) > 160 {
			t.Errorf("%q: message too long: %q", c, r.env.Error.Message)
		}
		if h.fake.callCount() != before {
			t.Errorf("%q: the service was called", c)
		}
	}
	// A well-formed id that does not exist is the service's call.
	h.do("DELETE", "/sessions/"+good, nil, nil).wantError(t, 404, telegramauth.CodeSessionNotFound)
	// An escaped slash is refused before any route is matched.
	h.do("DELETE", "/sessions/ses_%2F..", nil, nil).wantError(t, 400, telegramauth.CodeInvalidArgument, "encoded slash")
}

// A path with an encoded slash would reach a route its raw path does not
// name (sessions%2Fuser%2F1001 is one segment): refused, nothing called.
func TestEncodedSlashes(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/sessions%2Fuser%2F1001", "/sessions/user%2f1001", "/sessions/list/1%5C2", "/sessions%2F" + newSessionID()} {
		for _, method := range []string{"GET", "DELETE"} {
			before, nd := h.fake.callCount(), len(h.denials())
			h.do(method, path, nil, nil).wantError(t, 400, telegramauth.CodeInvalidArgument, "encoded slash")
			if h.fake.callCount() != before || len(h.denials()) != nd {
				t.Errorf("%s %s reached the service or the access log", method, path)
			}
		}
	}
	// Other escapes are the same path: %73 is "s".
	h.do("GET", "/sessions/list/%31", nil, nil).wantOK(t, 200, nil)
}

func TestImportValidation(t *testing.T) {
	h := newHarness(t)
	s := `"sessionString":"` + testSecret + `"`
	cases := []struct{ body, want string }{
		{"", "request body is empty"},
		{"  \n", "request body is empty"},
		{"null", "is not a JSON object"},
		{"[]", "is not a JSON object"},
		{`"` + testSecret + `"`, "is not a JSON object"},
		{`{` + s, "not valid JSON"},
		{`{` + s + `,"userId":1} trailing`, "data after the JSON object"},
		{`{` + s + `,"userId":1}{}`, "data after the JSON object"},
		{`{"userId":1,` + s + `,"userId":2}`, `member "userId" appears more than once`},
		{`{"userId":1,` + s + `,` + s + `}`, `member "sessionString" appears more than once`},
		{`{` + s + `}`, "userId is required"},
		{`{"userid":42,` + s + `}`, "userId is required"},
		{`{"userId":1.5,` + s + `}`, "userId must be an integer"},
		{`{"userId":42.0,` + s + `}`, "userId must be an integer"},
		{`{"userId":1e3,` + s + `}`, "userId must be an integer"},
		{`{"userId":1e400,` + s + `}`, "userId must be an integer"},
		{`{"userId":"42",` + s + `}`, "userId must be a JSON number, not a string"},
		{`{"userId":null,` + s + `}`, "userId must be a JSON number"},
		{`{"userId":true,` + s + `}`, "userId must be a JSON number"},
		{`{"userId":[1],` + s + `}`, "userId must be a JSON number"},
		{`{"userId":-1,` + s + `}`, "userId must be positive"},
		{`{"userId":-0,` + s + `}`, "userId must be positive"},
		{`{"userId":0,` + s + `}`, "userId must be positive"},
		{`{"userId":9007199254740992,` + s + `}`, "userId must be at most 9007199254740991"},
		{`{"userId":99999999999999999999999,` + s + `}`, "userId must be at most 9007199254740991"},
		{`{"userId":42}`, "sessionString is required"},
		{`{"userId":42,"sessionString":null}`, "sessionString must be a JSON string"},
		{`{"userId":42,"sessionString":12}`, "sessionString must be a JSON string"},
		{`{"userId":42,"sessionString":["` + testSecret + `"]}`, "sessionString must be a JSON string"},
		{`{"userId":42,"sessionString":""}`, "sessionString is empty"},
	}
	for _, c := range cases {
		before := h.fake.callCount()
		r := h.do("POST", "/sessions/import", nil, strings.NewReader(c.body))
		r.wantError(t, 400, telegramauth.CodeInvalidArgument, c.want)
		if h.fake.callCount() != before {
			t.Errorf("%q: the service was called", c.body)
		}
	}

	// Unknown fields are ignored; the Content-Type is not enforced.
	hdr := authHeaders()
	hdr["Content-Type"] = "text/plain"
	r := h.do("POST", "/sessions/import", hdr, strings.NewReader(`{"userId":42,"extra":{"a":[1,2]},"sessionString":"1x"}`))
	var info wireInfo
	r.wantOK(t, 201, &info)
	if info.UserID != 42 {
		t.Errorf("import: %+v", info)
	}
	// The service's own rejection reaches the caller, without the secret.
	r = h.do("POST", "/sessions/import", nil, strings.NewReader(`{"userId":42,"sessionString":"x`+testSecret+`"}`))
	r.wantError(t, 400, telegramauth.CodeInvalidArgument, "not a GramJS")
}

func TestImportBodyLimit(t *testing.T) {
	h := newHarness(t)
	big := `{"userId":42,"sessionString":"1` + strings.Repeat("A", 1<<20) + `"}`
	before := h.fake.callCount()

	// With a Content-Length.
	r := h.do("POST", "/sessions/import", nil, strings.NewReader(big))
	r.wantError(t, 413, telegramauth.CodeInvalidArgument, "exceeds the limit of 65536 bytes")

	// Chunked, without a Content-Length: cut off while reading.
	r = h.do("POST", "/sessions/import", nil, io.MultiReader(strings.NewReader(big)))
	r.wantError(t, 413, telegramauth.CodeInvalidArgument, "exceeds the limit of 65536 bytes")

	if h.fake.callCount() != before {
		t.Error("the service was called")
	}
	// Just under the limit is fine.
	body := `{"userId":42,"sessionString":"1` + strings.Repeat("A", MaxBodyBytes-34) + `"}`
	if len(body) > MaxBodyBytes {
		t.Fatal(len(body))
	}
	h.do("POST", "/sessions/import", nil, strings.NewReader(body)).wantOK(t, 201, nil)
}

func TestAuthentication(t *testing.T) {
	h := newHarness(t)
	route := "GET /api/telegram-auth/sessions/user/:userId"
	cases := []struct {
		name    string
		headers map[string]string
		want    string
		denied  denial
	}{
		{"no headers", map[string]string{}, "missing Authorization header", denial{"", "127.0.0.1", route, "UNAUTHENTICATED"}},
		{"no Authorization", map[string]string{"X-Service-ID": testService}, "missing Authorization header", denial{testService, "127.0.0.1", route, "UNAUTHENTICATED"}},
		{"Bearer", map[string]string{"Authorization": "Bearer " + testKey, "X-Service-ID": testService}, "malformed Authorization header", denial{testService, "127.0.0.1", route, "UNAUTHENTICATED"}},
		{"key alone", map[string]string{"Authorization": testKey, "X-Service-ID": testService}, "malformed Authorization header", denial{testService, "127.0.0.1", route, "UNAUTHENTICATED"}},
		{"scheme alone", map[string]string{"Authorization": "ApiKey", "X-Service-ID": testService}, "malformed Authorization header", denial{testService, "127.0.0.1", route, "UNAUTHENTICATED"}},
		{"scheme and spaces", map[string]string{"Authorization": "ApiKey   ", "X-Service-ID": testService}, "malformed Authorization header", denial{testService, "127.0.0.1", route, "UNAUTHENTICATED"}},
		{"key with a space", map[string]string{"Authorization": "ApiKey " + testKey + " x", "X-Service-ID": testService}, "malformed Authorization header", denial{testService, "127.0.0.1", route, "UNAUTHENTICATED"}},
		{"overlong key", map[string]string{"Authorization": "ApiKey " + strings.Repeat("k", 5000), "X-Service-ID": testService}, "malformed Authorization header", denial{testService, "127.0.0.1", route, "UNAUTHENTICATED"}},
		{"no X-Service-ID", map[string]string{"Authorization": "ApiKey " + testKey}, "missing X-Service-ID header", denial{"", "127.0.0.1", route, "UNAUTHENTICATED"}},
		{"malformed X-Service-ID", map[string]string{"Authorization": "ApiKey " + testKey, "X-Service-ID": "ingestor service"}, "malformed X-Service-ID header", denial{httpapi.InvalidServiceID, "127.0.0.1", route, "UNAUTHENTICATED"}},
		{"wrong key", map[string]string{"Authorization": "ApiKey " + testKey + "x", "X-Service-ID": testService}, "invalid API key for this X-Service-ID", denial{testService, "127.0.0.1", route, "UNAUTHENTICATED"}},
		{"another service's key", map[string]string{"Authorization": "ApiKey " + rotatedNew, "X-Service-ID": testService}, "invalid API key for this X-Service-ID", denial{testService, "127.0.0.1", route, "UNAUTHENTICATED"}},
		{"unknown service", map[string]string{"Authorization": "ApiKey " + testKey, "X-Service-ID": "intruder", "CF-Connecting-IP": "203.0.113.9"}, "invalid API key for this X-Service-ID", denial{httpapi.UnknownServiceID, "203.0.113.9", route, "UNAUTHENTICATED"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, nd := h.fake.callCount(), len(h.denials())
			r := h.do("GET", "/sessions/user/42", c.headers, nil)
			r.wantError(t, 401, telegramauth.CodeUnauthenticated, c.want)
			if r.header.Get("WWW-Authenticate") != "ApiKey" {
				t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
			if strings.Contains(r.body, "5000") || strings.Contains(r.body, "kkkk") {
				t.Errorf("body echoes the key: %s", r.body)
			}
			if h.fake.callCount() != before {
				t.Error("the service was called")
			}
			d := h.denials()
			if len(d) != nd+1 || d[nd] != c.denied {
				t.Errorf("denials %+v, want %+v", d[nd:], c.denied)
			}
		})
	}

	// A wrong key and an unknown service read the same.
	a := h.do("GET", "/sessions/user/42", map[string]string{"Authorization": "ApiKey nope", "X-Service-ID": testService}, nil)
	b := h.do("GET", "/sessions/user/42", map[string]string{"Authorization": "ApiKey nope", "X-Service-ID": "nobody"}, nil)
	if a.body != b.body {
		t.Errorf("wrong key %s, unknown service %s", a.body, b.body)
	}

	// Two Authorization headers are malformed.
	req, _ := http.NewRequest("GET", h.url+"/sessions/user/42", nil)
	req.Header.Add("Authorization", "ApiKey "+testKey)
	req.Header.Add("Authorization", "ApiKey "+testKey)
	req.Header.Set("X-Service-ID", testService)
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("two Authorization headers: %d", resp.StatusCode)
	}

	// Every authenticated route is guarded, and the route is reported.
	for _, rt := range []struct{ method, path, pattern string }{
		{"GET", "/sessions/list/42", "GET /api/telegram-auth/sessions/list/:userId"},
		{"DELETE", "/sessions/" + newSessionID(), "DELETE /api/telegram-auth/sessions/:sessionId"},
		{"POST", "/sessions/import", "POST /api/telegram-auth/sessions/import"},
		{"GET", "/sessions/user/abc", route}, // authentication comes before validation
	} {
		nd := len(h.denials())
		h.do(rt.method, rt.path, map[string]string{"X-Service-ID": testService}, strings.NewReader(`{}`)).wantError(t, 401, telegramauth.CodeUnauthenticated)
		if d := h.denials(); len(d) != nd+1 || d[nd].route != rt.pattern {
			t.Errorf("%s %s: denials %+v", rt.method, rt.path, d[nd:])
		}
	}
	if n := h.fake.callCount(); n != 0 {
		t.Errorf("the service was called %d times", n)
	}

	// Rotation: both hashes of a service work; the scheme is case-insensitive.
	for _, auth := range []string{"ApiKey " + rotatedOld, "apikey " + rotatedNew, "APIKEY  " + rotatedNew} {
		h.do("GET", "/sessions/list/42", map[string]string{"Authorization": auth, "X-Service-ID": adminService}, nil).wantOK(t, 200, nil)
	}
}

func TestCallerInContext(t *testing.T) {
	h := newHarness(t)
	hdr := authHeaders()
	h.do("GET", "/sessions/list/1", hdr, nil).wantOK(t, 200, nil)
	hdr["CF-Connecting-IP"] = "2001:db8::1"
	h.do("GET", "/sessions/list/1", hdr, nil).wantOK(t, 200, nil)
	hdr["CF-Connecting-IP"] = "not an ip"
	h.do("GET", "/sessions/list/1", hdr, nil).wantOK(t, 200, nil)
	want := []caller{{testService, "127.0.0.1"}, {testService, "2001:db8::1"}, {testService, "127.0.0.1"}}
	h.fake.mu.Lock()
	defer h.fake.mu.Unlock()
	if fmt.Sprint(h.fake.callers) != fmt.Sprint(want) {
		t.Errorf("callers %v, want %v", h.fake.callers, want)
	}
}

func TestRoutingErrors(t *testing.T) {
	h := newHarness(t)
	// Unknown routes: 404 INVALID_ARGUMENT, with or without credentials.
	for _, p := range []string{"", "/", "/sessions", "/sessions/user/1/x", "/session/user/1", "/health/", "//sessions/user/1", "/sessions/list/1/"} {
		for _, hdr := range []map[string]string{nil, {}} {
			h.do("GET", p, hdr, nil).wantError(t, 404, telegramauth.CodeInvalidArgument, "no such route")
		}
	}
	for _, u := range []string{h.srv.URL + "/", h.srv.URL + "/api", h.srv.URL + "/sessions/user/1", h.srv.URL + "/api/telegram-authx/health"} {
		rawRequest(t, h.srv.Client(), "GET", u, nil, nil).wantError(t, 404, telegramauth.CodeInvalidArgument)
	}
	// Known paths, other methods: 405 with Allow.
	for _, c := range []struct{ method, path, allow string }{
		{"POST", "/sessions/user/1", "GET"},
		{"DELETE", "/sessions/list/1", "GET"},
		{"GET", "/sessions/" + newSessionID(), "DELETE"},
		{"GET", "/sessions/import", "POST"},
		{"GET", "/sessions/user", "DELETE"}, // the shape of /sessions/:sessionId
		{"DELETE", "/sessions/import", "POST"},
		{"PUT", "/sessions/import", "POST"},
		{"POST", "/health", "GET, HEAD"},
		{"OPTIONS", "/sessions/user/1", "GET"},
	} {
		r := h.do(c.method, c.path, nil, nil)
		r.wantError(t, 405, telegramauth.CodeInvalidArgument, "not allowed", c.allow)
		if r.header.Get("Allow") != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, r.header.Get("Allow"), c.allow)
		}
	}
	if n := h.fake.callCount(); n != 0 {
		t.Errorf("the service was called %d times", n)
	}
}

func TestHealth(t *testing.T) {
	h := newHarness(t)
	h.health = map[string]httpapi.Check{"db": httpapi.OK("reachable"), "secrets": httpapi.OK("")}
	for _, u := range []string{h.srv.URL + "/health", h.url + "/health"} {
		r := rawRequest(t, h.srv.Client(), "GET", u, map[string]string{}, nil)
		var data httpapi.Health
		r.wantOK(t, 200, &data)
		want := `{"status":"ok","service":"auth-telegram","version":"1.2.3","checks":{"db":{"status":"ok","detail":"reachable"},"secrets":{"status":"ok"}}}`
		if string(r.env.Data) != want {
			t.Errorf("data %s\nwant %s", r.env.Data, want)
		}
		r = rawRequest(t, h.srv.Client(), "HEAD", u, map[string]string{}, nil)
		if r.status != 200 || r.body != "" {
			t.Errorf("HEAD: %d %q", r.status, r.body)
		}
	}
	h.health["secrets"] = httpapi.Fail("SESSION_SECRET is not set")
	h.health["db"] = httpapi.Fail("unreachable")
	r := rawRequest(t, h.srv.Client(), "GET", h.url+"/health", map[string]string{}, nil)
	r.wantError(t, 503, telegramauth.CodeUnavailable, "degraded: failing checks: db, secrets")
	var data httpapi.Health
	if err := json.Unmarshal(r.env.Data, &data); err != nil || data.Status != "degraded" || data.Checks["db"].Status != "fail" {
		t.Errorf("degraded data %s", r.env.Data)
	}
	if len(h.denials()) != 0 || h.fake.callCount() != 0 {
		t.Error("health touched auth or the service")
	}

	// Without a Health hook: ok with no checks.
	srv := httptest.NewServer(NewHandler(HandlerConfig{Service: newFakeService()}))
	defer srv.Close()
	r = rawRequest(t, srv.Client(), "GET", srv.URL+"/health", map[string]string{}, nil)
	r.wantOK(t, 200, nil)
	if string(r.env.Data) != `{"status":"ok","service":"auth-telegram","version":"","checks":{}}` {
		t.Errorf("data %s", r.env.Data)
	}
}

func TestBasePathAndZeroKeys(t *testing.T) {
	for _, c := range []struct{ base, prefix string }{{"/v1/auth", "/v1/auth"}, {"/", ""}} {
		srv := httptest.NewServer(NewHandler(HandlerConfig{Service: newFakeService(), APIKeys: testAPIKeys(t), BasePath: c.base}))
		rawRequest(t, srv.Client(), "GET", srv.URL+c.prefix+"/sessions/list/1", nil, nil).wantOK(t, 200, nil)
		rawRequest(t, srv.Client(), "GET", srv.URL+c.prefix+"/health", map[string]string{}, nil).wantOK(t, 200, nil)
		rawRequest(t, srv.Client(), "GET", srv.URL+"/api/telegram-auth/sessions/list/1", nil, nil).wantError(t, 404, telegramauth.CodeInvalidArgument)
		srv.Close()
	}
	// No keys configured: every caller is denied.
	srv := httptest.NewServer(NewHandler(HandlerConfig{Service: newFakeService()}))
	defer srv.Close()
	rawRequest(t, srv.Client(), "GET", srv.URL+DefaultBasePath+"/sessions/list/1", nil, nil).wantError(t, 401, telegramauth.CodeUnauthenticated)

	for _, bad := range []HandlerConfig{{}, {Service: newFakeService(), BasePath: "api"}, {Service: newFakeService(), BasePath: "/api/"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHandler(%+v) did not panic", bad)
				}
			}()
			NewHandler(bad)
		}()
	}
}

func TestQuoteInput(t *testing.T) {
	for in, want := range map[string]string{
		"":                            `""`,
		"abc":                         `"abc"`,
		"a\"b\\c\x00\n\u00e9":         `"a?b?c????"`,
		strings.Repeat("x", 24):       `"` + strings.Repeat("x", 24) + `"`,
		strings.Repeat("x", 25) + "y": `"` + strings.Repeat("x", 24) + `"...`,
	} {
		if got := httpapi.Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// The caller is checked before the arguments: a service without the
// permission learns FORBIDDEN whatever it sent, and the service is never
// asked.
func TestAuthorizeBeforeValidation(t *testing.T) {
	fake := newFakeService()
	var asked []string
	srv := httptest.NewServer(NewHandler(HandlerConfig{
		Service: fake, APIKeys: testAPIKeys(t), WithCaller: testWithCaller,
		Authorize: func(ctx context.Context, action telegramauth.Action, userID int64, sessionID string) error {
			c := ctx.Value(callerKey{}).(caller)
			asked = append(asked, fmt.Sprintf("%s %s %d %q", c.serviceID, action, userID, sessionID))
			if c.serviceID == adminService && action != telegramauth.ActionReadAccessLog {
				return telegramauth.NewError(telegramauth.CodeForbidden, "service "+c.serviceID+" may not "+string(action))
			}
			return nil
		},
	}))
	defer srv.Close()
	admin := map[string]string{"Authorization": "ApiKey " + rotatedNew, "X-Service-ID": adminService}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/sessions/user/abc", ""},
		{"GET", "/sessions/list/-1", ""},
		{"DELETE", "/sessions/not-an-id", ""},
		{"GET", "/sessions/user/42", ""},
		{"DELETE", "/sessions/ses_" + strings.Repeat("a", 26), ""},
		{"POST", "/sessions/import", `{"userId":"x","userId":1}`},
		{"POST", "/sessions/import", `{"userId":42,"sessionString":"` + testSecret + `"}`},
	} {
		before := fake.callCount()
		r := rawRequest(t, srv.Client(), c.method, srv.URL+DefaultBasePath+c.path, admin, strings.NewReader(c.body))
		r.wantError(t, 403, telegramauth.CodeForbidden, "may not")
		if fake.callCount() != before {
			t.Errorf("%s %s: the service was called", c.method, c.path)
		}
	}
	// Allowed: its bad input is then INVALID_ARGUMENT.
	rawRequest(t, srv.Client(), "GET", srv.URL+DefaultBasePath+"/access-log?limit=0", admin, nil).wantError(t, 400, telegramauth.CodeInvalidArgument, "limit")
	rawRequest(t, srv.Client(), "GET", srv.URL+DefaultBasePath+"/sessions/user/abc", nil, nil).wantError(t, 400, telegramauth.CodeInvalidArgument, "userId")
	// The path's ids go along when they are well-formed, for the refusal's row.
	want := []string{`admin-cli get_session 0 ""`, `admin-cli list_sessions 0 ""`, `admin-cli revoke_session 0 ""`,
		`admin-cli get_session 42 ""`, `admin-cli revoke_session 0 "ses_` + strings.Repeat("a", 26) + `"`,
		`admin-cli import_session 0 ""`, `admin-cli import_session 0 ""`, `admin-cli read_access_log 0 ""`, `ingestor-service get_session 0 ""`}
	if strings.Join(asked, ",") != strings.Join(want, ",") {
		t.Errorf("Authorize asked %q, want %q", asked, want)
	}
}

// GET /stats: authenticated, then the read_stats permission, then
// HandlerConfig.Stats; without one it is UNAVAILABLE.
func TestStatsRoute(t *testing.T) {
	var asked []telegramauth.Action
	var stats func(context.Context) (any, error)
	srv := httptest.NewServer(NewHandler(HandlerConfig{
		Service: newFakeService(), APIKeys: testAPIKeys(t), WithCaller: testWithCaller,
		Authorize: func(ctx context.Context, action telegramauth.Action, userID int64, sessionID string) error {
			asked = append(asked, action)
			if c, _ := ctx.Value(callerKey{}).(caller); c.serviceID != adminService {
				return telegramauth.NewError(telegramauth.CodeForbidden, "service "+c.serviceID+" may not "+string(action))
			}
			return nil
		},
		Stats: func(ctx context.Context) (any, error) { return stats(ctx) },
	}))
	defer srv.Close()
	url := srv.URL + DefaultBasePath + "/stats"
	admin := map[string]string{"Authorization": "ApiKey " + rotatedNew, "X-Service-ID": adminService}

	rawRequest(t, srv.Client(), "GET", url, map[string]string{"X-Service-ID": adminService}, nil).wantError(t, 401, telegramauth.CodeUnauthenticated)
	rawRequest(t, srv.Client(), "GET", url, nil, nil).wantError(t, 403, telegramauth.CodeForbidden, "may not read_stats")
	stats = func(context.Context) (any, error) {
		return map[string]any{"memory": map[string]any{"wasmMemoryBytes": 1 << 20}}, nil
	}
	var got struct {
		Memory struct{ WasmMemoryBytes int }
	}
	rawRequest(t, srv.Client(), "GET", url, admin, nil).wantOK(t, 200, &got)
	if got.Memory.WasmMemoryBytes != 1<<20 {
		t.Errorf("got %+v", got)
	}
	stats = func(context.Context) (any, error) {
		return nil, telegramauth.NewError(telegramauth.CodeUnavailable, "unavailable")
	}
	rawRequest(t, srv.Client(), "GET", url, admin, nil).wantError(t, 503, telegramauth.CodeUnavailable)
	if r := rawRequest(t, srv.Client(), "POST", url, admin, nil); r.status != 405 || r.header.Get("Allow") != "GET" {
		t.Errorf("POST: %d %q", r.status, r.header.Get("Allow"))
	}
	if strings.Join(func() (s []string) {
		for _, a := range asked {
			s = append(s, string(a))
		}
		return
	}(), ",") != "read_stats,read_stats,read_stats" {
		t.Errorf("Authorize asked %q", asked)
	}

	unset := httptest.NewServer(NewHandler(HandlerConfig{Service: newFakeService(), APIKeys: testAPIKeys(t)}))
	defer unset.Close()
	rawRequest(t, unset.Client(), "GET", unset.URL+DefaultBasePath+"/stats", admin, nil).wantError(t, 503, telegramauth.CodeUnavailable, "stats")
}
