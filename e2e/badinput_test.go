package e2e

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/communicator/communicator/httpapi"
)

// testBadInput sends every kind of bad input the brief lists to both
// services and checks each answer, and that no stored session changed.
func testBadInput(t *testing.T, sys *system) {
	before := sys.sessionsSnapshot(t)

	badUserIDs := []string{"abc", "-1", "0", "1e400", "9007199254740992", "%20", "99999999999999999999999"}
	for _, id := range badUserIDs {
		_, env, r := sys.status(t, id)
		if r.Status != 400 || env.Error == nil || env.Error.Code != "INVALID_ARGUMENT" || !strings.Contains(env.Error.Message, "userId") {
			t.Errorf("ingestor session-status/%s: %d %s", id, r.Status, r.Body)
		}
		var e envelope
		r = get(t, sys.auth+"/api/telegram-auth/sessions/user/"+id, sys.authHeaders()...)
		if r.json(t, &e); r.Status != 400 || e.Error == nil || e.Error.Code != "INVALID_ARGUMENT" {
			t.Errorf("auth-telegram sessions/user/%s: %d %s", id, r.Status, r.Body)
		}
	}
	// An empty userId matches no route.
	if r := get(t, sys.ingestor+"/telegram/session-status/"); r.Status != 404 {
		t.Errorf("ingestor empty userId: %d %s", r.Status, r.Body)
	}
	if r := get(t, sys.auth+"/api/telegram-auth/sessions/user/", sys.authHeaders()...); r.Status != 400 || !contains(string(r.Body), `"INVALID_ARGUMENT"`) {
		t.Errorf("auth-telegram empty userId: %d %s", r.Status, r.Body)
	}

	// A 1 MB body is refused before it is read whole.
	big := bytes.Repeat([]byte("x"), 1<<20)
	body, _ := json.Marshal(map[string]any{"userId": 50, "sessionString": string(big)})
	var e envelope
	r := do(t, "POST", sys.auth+"/api/telegram-auth/sessions/import", bytes.NewReader(body), sys.authHeaders()...)
	if r.json(t, &e); r.Status != 413 || e.Error == nil || e.Error.Code != "INVALID_ARGUMENT" {
		t.Errorf("1 MB body: %d %s", r.Status, r.Body)
	}

	// Garbage where a session string belongs; the answer never echoes it.
	garbage := "1" + strings.Repeat("QUJD", 90) + "not-base64!"
	if _, r := sys.importSession(t, 51, garbage); r.Status != 400 || !strings.Contains(string(r.Body), "INVALID_ARGUMENT") || strings.Contains(string(r.Body), "QUJDQUJD") {
		t.Errorf("garbage session: %d %s", r.Status, r.Body)
	}
	for _, raw := range []string{`{"userId":"52","sessionString":"x"}`, `{"userId":1.5,"sessionString":"x"}`, `[1,2]`, `not json`, ``} {
		r := do(t, "POST", sys.auth+"/api/telegram-auth/sessions/import", strings.NewReader(raw), sys.authHeaders()...)
		if r.json(t, &e); r.Status != 400 || e.Error == nil || e.Error.Code != "INVALID_ARGUMENT" {
			t.Errorf("import %q: %d %s", raw, r.Status, r.Body)
		}
	}

	// Authentication.
	for name, h := range map[string][]string{
		"wrong key":              {"Authorization", "ApiKey wrong-key", "X-Service-ID", "ingestor-service"},
		"missing X-Service-ID":   {"Authorization", "ApiKey " + sys.apiKey},
		"missing Authorization":  {"X-Service-ID", "ingestor-service"},
		"key of another service": {"Authorization", "ApiKey " + sys.apiKey, "X-Service-ID", "stranger-service"},
	} {
		r := get(t, sys.auth+"/api/telegram-auth/sessions/user/42", h...)
		if r.json(t, &e); r.Status != 401 || e.Error == nil || e.Error.Code != "UNAUTHENTICATED" || strings.Contains(string(r.Body), sys.apiKey) {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// Refused authentications are counted per claimed service, address and
	// minute: the first of each writes its row at once (later ones are added
	// when the bucket is written again), so each claim has one row, or two
	// if the minute changed in between.
	rows := sys.d1(t, "auth-telegram", "SELECT caller, error_code, channel, attempts FROM access_log WHERE action = 'authenticate' ORDER BY id")
	claims := map[string]int{}
	for _, r := range rows {
		if r["error_code"] != "UNAUTHENTICATED" || r["channel"] != "http" || r["attempts"].(float64) < 1 {
			t.Errorf("a refused authentication in the access log: %v", r)
		}
		claims[r["caller"].(string)]++
	}
	for _, c := range []string{"ingestor-service", httpapi.UnknownServiceID, ""} { // stranger-service has no key: "unknown"
		if claims[c] < 1 || claims[c] > 2 {
			t.Errorf("refused authentications claiming %q: %d rows, want 1 (or 2 across a minute): %v", c, claims[c], rows)
		}
	}

	if after := sys.sessionsSnapshot(t); after != before {
		t.Errorf("bad input changed stored sessions:\nbefore %s\nafter  %s", before, after)
	}

	t.Run("TamperedSealedRow", func(t *testing.T) {
		id, r := sys.importSession(t, 77, sys.newSession())
		if r.Status != 201 {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
		// Flip the last byte of the sealed session (its GCM tag).
		sys.d1(t, "auth-telegram", "UPDATE sessions SET sealed = CAST(substr(sealed, 1, length(sealed) - 1) || CASE WHEN substr(sealed, -1) = x'00' THEN x'01' ELSE x'00' END AS BLOB) WHERE id = '"+id+"'")
		tampered := sys.sessionsSnapshot(t)

		_, env, r := sys.status(t, "77")
		if r.Status != 502 || env.Error == nil || env.Error.Code != "INTERNAL" {
			t.Errorf("ingestor: %d %s", r.Status, r.Body)
		}
		var e envelope
		r = get(t, sys.auth+"/api/telegram-auth/sessions/user/77", sys.authHeaders()...)
		if r.json(t, &e); r.Status != 500 || e.Error == nil || e.Error.Code != "INTERNAL" || strings.Contains(string(r.Body), "sessionString") {
			t.Errorf("auth-telegram: %d %s", r.Status, r.Body)
		}
		if after := sys.sessionsSnapshot(t); after != tampered {
			t.Errorf("a refused hand-out changed the row")
		}
		rows := sys.d1(t, "auth-telegram", "SELECT success, error_code, session_id FROM access_log WHERE user_id = 77 AND action = 'get_session'")
		if len(rows) != 2 || rows[0]["success"] != float64(0) || rows[0]["error_code"] != "INTERNAL" || rows[0]["session_id"] != id {
			t.Errorf("access log: %v", rows)
		}
	})
}

// testJavaScriptCaller calls auth-telegram's RPC methods from a plain
// JavaScript worker: the contract as JavaScript sees it.
func testJavaScriptCaller(t *testing.T, sys *system) {
	call := func(binding, method string, args ...any) callResult {
		t.Helper()
		return callJS(t, sys.jscaller, binding, method, args...)
	}
	wantError := func(res callResult, code string) {
		t.Helper()
		if res.OK || res.Error == nil || res.Error.Name != "TelegramAuthError" || res.Error.Code != code ||
			!strings.HasPrefix(res.Error.Message, code) || !res.Error.IsError {
			t.Errorf("want %s, got %+v %s", code, res.Error, res.Value)
		}
	}

	sessionString := sys.newSession()
	res := call("TELEGRAM_AUTH", "importSession", 44, sessionString)
	var info struct{ SessionID, Status string }
	if json.Unmarshal(res.Value, &info); !res.OK || info.Status != "active" {
		t.Fatalf("importSession: %+v %s", res.Error, res.Value)
	}
	res = call("TELEGRAM_AUTH", "getSessionByUserId", 44)
	var sess struct {
		SessionString, SessionID, ExpiresAt string
		UserID                              int64
	}
	if json.Unmarshal(res.Value, &sess); !res.OK || sess.SessionString != sessionString || sess.SessionID != info.SessionID || sess.UserID != 44 || !strings.HasSuffix(sess.ExpiresAt, "Z") {
		t.Errorf("getSessionByUserId: %+v", res.Error)
	}
	res = call("TELEGRAM_AUTH", "listSessions", 44)
	if !res.OK || !strings.Contains(string(res.Value), info.SessionID) || strings.Contains(string(res.Value), "sessionString") {
		t.Errorf("listSessions: %+v %s", res.Error, res.Value)
	}

	// Errors carry name, code and sessionId as own properties.
	res = call("TELEGRAM_AUTH", "getSessionByUserId", 42) // revoked earlier
	wantError(res, "SESSION_REVOKED")
	if res.Error != nil && !strings.HasPrefix(res.Error.SessionID, "ses_") {
		t.Errorf("sessionId missing: %+v", res.Error)
	}
	wantError(call("TELEGRAM_AUTH", "getSessionByUserId", 4242), "SESSION_NOT_FOUND")

	// Bad arguments, including what only JavaScript can send.
	for _, args := range [][]any{{"abc"}, {-1}, {0}, {1.5}, {map[string]string{"$": "Infinity"}}, {map[string]string{"$": "NaN"}},
		{map[string]string{"$": "2^53"}}, {map[string]string{"$": "bigint"}}, {map[string]string{"$": "undefined"}}, {}, {nil}, {42, "extra"}} {
		res := call("TELEGRAM_AUTH", "getSessionByUserId", args...)
		if res.OK || res.Error == nil || res.Error.Code != "INVALID_ARGUMENT" || res.Error.Name != "TelegramAuthError" {
			t.Errorf("getSessionByUserId(%v): %+v", args, res.Error)
		}
	}
	wantError(call("TELEGRAM_AUTH", "revokeSession", "not-a-session"), "INVALID_ARGUMENT")
	wantError(call("TELEGRAM_AUTH", "revokeSession", "ses_"+strings.Repeat("a", 26)), "SESSION_NOT_FOUND")
	wantError(call("TELEGRAM_AUTH", "importSession", 45, "garbage"), "INVALID_ARGUMENT")

	// Callers are who their binding's props say; without props, or unknown,
	// FORBIDDEN. The row names the user the call asked for.
	wantError(call("TELEGRAM_AUTH_NO_PROPS", "getSessionByUserId", 44), "FORBIDDEN")
	wantError(call("TELEGRAM_AUTH_STRANGER", "getSessionByUserId", 44), "FORBIDDEN")
	rows := sys.d1(t, "auth-telegram", "SELECT caller, channel, error_code FROM access_log WHERE user_id = 44 AND success = 0 ORDER BY id")
	if len(rows) != 2 || rows[0]["caller"] != "" || rows[1]["caller"] != "stranger-service" || rows[1]["channel"] != "service-binding" || rows[1]["error_code"] != "FORBIDDEN" {
		t.Errorf("refusals in the access log: %v", rows)
	}
}
