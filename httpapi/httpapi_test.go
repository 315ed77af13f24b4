package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/communicator/communicator/telegramauth"
)

func TestParseID(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "userId is missing",
		"abc":                   `userId must be a positive base-10 integer (digits only, no sign, spaces or exponent), got "abc"`,
		"0":                     `userId must be positive, got "0"`,
		"05":                    `userId must not have leading zeros, got "05"`,
		"9007199254740992":      `userId must be at most 9007199254740991, got "9007199254740992"`,
		strings.Repeat("9", 40): `userId must be at most 9007199254740991, got "999999999999999999999999"...`,
	} {
		if _, e := ParseUserID(in); e == nil || e.Code != telegramauth.CodeInvalidArgument || e.Message != want {
			t.Errorf("ParseUserID(%q) = %v, want %q", in, e, want)
		}
	}
	if id, e := ParseUserID("9007199254740991"); e != nil || id != telegramauth.MaxUserID {
		t.Errorf("largest: %d, %v", id, e)
	}
	if _, e := ParseID("beforeId", "9223372036854775808"); e == nil || !strings.HasPrefix(e.Message, "beforeId must be at most") {
		t.Errorf("beforeId beyond int64: %v", e)
	}
}

func TestCheckSessionID(t *testing.T) {
	if e := CheckSessionID("ses_abcdefghijklmnopqrstuvwxyz"); e != nil {
		t.Error(e)
	}
	for _, id := range []string{"", "ses_", "ses_ABCDEFGHIJKLMNOPQRSTUVWXYZ", "x"} {
		if e := CheckSessionID(id); e == nil || e.Code != telegramauth.CodeInvalidArgument || !strings.Contains(e.Message, "sessionId") {
			t.Errorf("CheckSessionID(%q) = %v", id, e)
		}
	}
}

func TestDecodeObject(t *testing.T) {
	if m, e := DecodeObject([]byte(`{"a":1,"b":"x"}`), "an object"); e != nil || len(m) != 2 {
		t.Errorf("DecodeObject = %v, %v", m, e)
	}
	for in, want := range map[string]string{
		``:                    "request body is empty: expected an object",
		`{"a":`:               "request body is not valid JSON: expected an object",
		`[]`:                  "request body is not a JSON object: expected an object",
		`{} {}`:               "request body has data after the JSON object: expected an object",
		`{"a":1,"a":2}`:       `request body: member "a" appears more than once`,
		`{"a":{"b":1},"a":1}`: `request body: member "a" appears more than once`,
	} {
		if _, e := DecodeObject([]byte(in), "an object"); e == nil || e.Code != telegramauth.CodeInvalidArgument || e.Message != want {
			t.Errorf("DecodeObject(%s) = %v, want %q", in, e, want)
		}
	}
}

func TestRefuseEncodedSlashes(t *testing.T) {
	reached := 0
	h := RefuseEncodedSlashes(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ }))
	for _, p := range []string{"/a%2Fb", "/a%2fb", "/a/b%5Cc", "/sessions%2Fuser%2F1001"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != 400 || !strings.Contains(w.Body.String(), "encoded slash") {
			t.Errorf("%s: %d %s", p, w.Code, w.Body)
		}
	}
	if reached != 0 {
		t.Error("an encoded slash reached the handler")
	}
	for _, p := range []string{"/a/b", "/a%20b", "/a/%41"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	if reached != 3 {
		t.Errorf("reached %d times", reached)
	}
}

func TestAuthenticate(t *testing.T) {
	keys, err := ParseAPIKeys("KEYS", `{"svc.a_1":"`+HashAPIKey("k1")+`"}`)
	if err != nil {
		t.Fatal(err)
	}
	req := func(auth string, ids ...string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		if auth != "" {
			r.Header.Set(HeaderAuthorization, auth)
		}
		for _, id := range ids {
			r.Header.Add(HeaderServiceID, id)
		}
		return r
	}
	if id, claimed, e := Authenticate(req("ApiKey k1", "svc.a_1"), keys); e != nil || id != "svc.a_1" || claimed != id {
		t.Errorf("good key: %q %q %v", id, claimed, e)
	}
	for _, c := range []struct {
		r             *http.Request
		claimed, want string
	}{
		{req("", "svc.a_1"), "svc.a_1", "missing Authorization"},
		{req("Bearer k1", "svc.a_1"), "svc.a_1", "malformed Authorization"},
		{req("ApiKey k1"), "", "missing X-Service-ID"},
		{req("ApiKey k1", "svc a\n<script>"), InvalidServiceID, "malformed X-Service-ID"},
		{req("ApiKey k1", strings.Repeat("x", 65)), InvalidServiceID, "malformed X-Service-ID"},
		{req("ApiKey k1", "svc.a_1", "svc.a_1"), InvalidServiceID, "malformed X-Service-ID"},
		{req("ApiKey k2", "svc.a_1"), "svc.a_1", "invalid API key"},
		{req("ApiKey k1", "other"), UnknownServiceID, "invalid API key"},
		{req("", "made-up-1"), UnknownServiceID, "missing Authorization"},
	} {
		_, claimed, e := Authenticate(c.r, keys)
		if e == nil || e.Code != telegramauth.CodeUnauthenticated || !strings.Contains(e.Message, c.want) || claimed != c.claimed {
			t.Errorf("%v: claimed %q, %v; want %q, %q", c.r.Header, claimed, e, c.claimed, c.want)
		}
	}
}

func TestCheckAPIKey(t *testing.T) {
	for key, want := range map[string]string{"k": "", "": "is empty", strings.Repeat("k", 1025): "longer than 1024",
		"a b": "not visible ASCII", "ké": "not visible ASCII"} {
		if got := CheckAPIKey(key); (want == "") != (got == "") || !strings.Contains(got, want) || (key != "" && strings.Contains(got, key+" ")) {
			t.Errorf("CheckAPIKey(%.10q) = %q, want %q", key, got, want)
		}
	}
}

func TestWriteHealthAndErrors(t *testing.T) {
	w := httptest.NewRecorder()
	WriteHealth(w, Health{Service: "s", Version: "v", Checks: map[string]Check{"d1": OK(""), "config": Fail("X is missing")}})
	var env struct {
		Success bool
		Data    Health
		Error   ErrorBody
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || w.Code != 503 || env.Success || env.Data.Status != "degraded" ||
		env.Error.Code != "UNAVAILABLE" || env.Error.Message != "degraded: failing checks: config" {
		t.Errorf("degraded: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	WriteHealth(w, Health{Service: "s", Checks: map[string]Check{"d1": OK("")}})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"status":"ok"`) {
		t.Errorf("ok: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	yes := true
	WriteErrorBody(w, 429, ErrorBody{Code: "TELEGRAM_FLOOD_WAIT", Message: "wait", Retryable: &yes, RetryAfter: 30})
	if w.Code != 429 || w.Header().Get("Retry-After") != "30" ||
		w.Body.String() != `{"success":false,"error":{"code":"TELEGRAM_FLOOD_WAIT","message":"wait","retryable":true,"retryAfter":30}}`+"\n" {
		t.Errorf("error body: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	WriteError(w, 0, &telegramauth.CausedError{Err: telegramauth.NewError(telegramauth.CodeUnavailable, "down"), Cause: http.ErrHandlerTimeout})
	if w.Code != 503 || strings.Contains(w.Body.String(), "timeout") {
		t.Errorf("a caused error: %d %s", w.Code, w.Body)
	}
}

// What SetAPIKey sends is what Authenticate accepts.
func TestSetAPIKey(t *testing.T) {
	keys, err := ParseAPIKeys("KEYS", `{"ops":"`+HashAPIKey("ops-key")+`"}`)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	SetAPIKey(r.Header, "ops", "ops-key")
	if id, _, aerr := Authenticate(r, keys); aerr != nil || id != "ops" {
		t.Errorf("Authenticate = %q, %v", id, aerr)
	}
}
