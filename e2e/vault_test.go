package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/internal/devstack"
)

// vault is auth-telegram on its own, with a plain JavaScript RPC caller and
// the earlier TypeScript HTTP client, on a state directory that outlives the
// stack so that it can be restarted with other settings.
type vault struct {
	*devstack.Stack
	auth, jscaller, seedclient string
	keys                       map[string]string // service id -> API key
	secrets                    []string
}

func startVault(t *testing.T, state string, vars map[string]string, keys map[string]string) *vault {
	t.Helper()
	v := &vault{keys: keys}
	apiKeys := map[string]string{}
	for id, k := range keys {
		apiKeys[id] = httpapi.HashAPIKey(k)
		v.secrets = append(v.secrets, k)
	}
	kj, _ := json.Marshal(apiKeys)
	all := map[string]string{"SERVICE_API_KEYS": string(kj)}
	for k, val := range vars {
		all[k] = val
		if strings.HasPrefix(k, "SESSION_SECRET") {
			v.secrets = append(v.secrets, val)
		}
	}
	v.Stack = start(t, devstack.Options{
		StateDir: state,
		Workers: []devstack.Worker{
			{Name: "e2e-seedclient", Dir: path("e2e", "seedclient")},
			{Name: "auth-telegram", Dir: path("services", "auth-telegram"), Migrate: true, Vars: all},
			{Name: "e2e-jscaller", Dir: path("e2e", "jscaller")},
		},
		Processes: []devstack.Process{{Workers: []string{"e2e-seedclient", "auth-telegram", "e2e-jscaller"}, Routed: true}},
	})
	v.auth, v.jscaller, v.seedclient = v.URL["auth-telegram"], v.URL["e2e-jscaller"], v.URL["e2e-seedclient"]
	t.Cleanup(func() { assertNoSecretInLogs(t, v.Logs().Lines(), v.secrets) })
	return v
}

func (v *vault) as(service string) []string {
	return []string{"Authorization", "ApiKey " + v.keys[service], "X-Service-ID", service, "Content-Type", "application/json"}
}

func (v *vault) importSession(t *testing.T, userID int64) (id, sessionString string) {
	t.Helper()
	sessionString = devstack.RandomSession()
	v.secrets = append(v.secrets, sessionString)
	body, _ := json.Marshal(map[string]any{"userId": userID, "sessionString": sessionString})
	r := do(t, "POST", v.auth+"/api/telegram-auth/sessions/import", bytes.NewReader(body), v.as("ingestor-service")...)
	var e struct{ Data struct{ SessionID string } }
	if r.json(t, &e); r.Status != 201 {
		t.Fatalf("import %d: %d %s", userID, r.Status, r.Body)
	}
	return e.Data.SessionID, sessionString
}

func (v *vault) getSession(t *testing.T, userID int64) (string, response) {
	t.Helper()
	r := get(t, fmt.Sprintf("%s/api/telegram-auth/sessions/user/%d", v.auth, userID), v.as("ingestor-service")...)
	var e struct {
		Data struct{ SessionString string }
	}
	r.json(t, &e)
	return e.Data.SessionString, r
}

func (v *vault) d1(t *testing.T, sql string) []map[string]any {
	t.Helper()
	rows, err := v.D1(t.Context(), "auth-telegram", sql)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func (v *vault) rpc(t *testing.T, binding, method string, args ...any) callResult {
	t.Helper()
	return callJS(t, v.jscaller, binding, method, args...)
}

func keyIDs(rows []map[string]any) map[string]bool {
	ids := map[string]bool{}
	for _, r := range rows {
		ids[fmt.Sprint(r["key_id"])] = true
	}
	return ids
}

// TestSecretRotation follows docs/operations.md: sessions sealed under the
// old secret open while it is SESSION_SECRET_PREVIOUS, are resealed on read
// and by the daily job, and still open once the old secret is gone.
func TestSecretRotation(t *testing.T) {
	state := t.TempDir()
	oldSecret, newSecret := devstack.RandomHex(32), devstack.RandomHex(32)
	keys := map[string]string{"ingestor-service": "e2e-" + devstack.RandomHex(16)}
	sessions := map[int64]string{}

	v := startVault(t, state, map[string]string{"SESSION_SECRET": oldSecret}, keys)
	for u := int64(101); u <= 104; u++ {
		_, sessions[u] = v.importSession(t, u)
	}
	before := keyIDs(v.d1(t, "SELECT key_id FROM sessions"))
	v.Stop()

	// 1. The new secret, the old one as previous: everything still opens.
	v = startVault(t, state, map[string]string{"SESSION_SECRET": newSecret, "SESSION_SECRET_PREVIOUS": oldSecret}, keys)
	if got, r := v.getSession(t, 101); r.Status != 200 || got != sessions[101] {
		t.Fatalf("user 101 during the rotation: %d %s", r.Status, r.Body)
	}
	var health struct {
		Data struct {
			Checks map[string]struct{ Status, Detail string }
		}
	}
	get(t, v.auth+"/health").json(t, &health)
	if d := health.Data.Checks["sealing"].Detail; !strings.HasPrefix(d, "3 sessions are not sealed under the current key yet") {
		t.Errorf("health during the rotation: %q", d)
	}
	// 2. The daily job reseals the rest (here fired by hand).
	if r := get(t, v.auth+"/__scheduled?cron=17+3+*+*+*"); r.Status != 200 {
		t.Fatalf("scheduled: %d %s", r.Status, r.Body)
	}
	after := keyIDs(v.d1(t, "SELECT key_id FROM sessions"))
	if len(after) != 1 || len(before) != 1 {
		t.Fatalf("key ids before %v, after %v", before, after)
	}
	for k := range after {
		if before[k] {
			t.Fatalf("rows are still under the old key: %v", after)
		}
	}
	get(t, v.auth+"/health").json(t, &health)
	if d := health.Data.Checks["sealing"].Detail; d != "every session is sealed under the current key" {
		t.Errorf("health after the job: %q", d)
	}
	v.Stop()

	// 3. The old secret removed: every session still opens.
	v = startVault(t, state, map[string]string{"SESSION_SECRET": newSecret}, keys)
	for u, want := range sessions {
		if got, r := v.getSession(t, u); r.Status != 200 || got != want {
			t.Errorf("user %d after the rotation: %d %s", u, r.Status, r.Body)
		}
	}
}

// TestVaultRefusesAndRecords: callers off the allow-list are refused over
// RPC and HTTP and both refusals are logged; a sealed row moved to another
// user is refused and reported; operators read the log over HTTP and RPC; the
// daily job prunes it; the earlier TypeScript HTTP client still gets sessions.
func TestVaultRefusesAndRecords(t *testing.T) {
	keys := map[string]string{
		"ingestor-service": "e2e-" + devstack.RandomHex(16),
		"other-service":    "e2e-" + devstack.RandomHex(16),
		"ops-service":      "e2e-" + devstack.RandomHex(16),
	}
	policy := `{"get_session":["ingestor-service"],"list_sessions":["ingestor-service","ops-service"],` +
		`"revoke_session":["ingestor-service","ops-service"],"import_session":["ingestor-service"],"read_access_log":["ops-service"]}`
	v := startVault(t, t.TempDir(), map[string]string{"SESSION_SECRET": devstack.RandomHex(32), "ACCESS_POLICY": policy}, keys)
	id, sessionString := v.importSession(t, 201)

	t.Run("AllowList", func(t *testing.T) {
		r := get(t, v.auth+"/api/telegram-auth/sessions/user/201", v.as("other-service")...)
		if r.Status != 403 || !contains(string(r.Body), `"FORBIDDEN"`) || contains(string(r.Body), sessionString) {
			t.Errorf("HTTP: %d %s", r.Status, r.Body)
		}
		if res := v.rpc(t, "TELEGRAM_AUTH_STRANGER", "getSessionByUserId", 201); res.OK || res.Error.Code != "FORBIDDEN" {
			t.Errorf("RPC: %+v", res.Error)
		}
		rows := v.d1(t, "SELECT caller, channel FROM access_log WHERE user_id = 201 AND action = 'get_session' AND error_code = 'FORBIDDEN' ORDER BY id")
		if len(rows) != 2 || rows[0]["caller"] != "other-service" || rows[0]["channel"] != "http" ||
			rows[1]["caller"] != "stranger-service" || rows[1]["channel"] != "service-binding" {
			t.Errorf("refusals in the access log: %v", rows)
		}
		// Listing is allowed to ops-service by this policy.
		if r := get(t, v.auth+"/api/telegram-auth/sessions/list/201", v.as("ops-service")...); r.Status != 200 {
			t.Errorf("ops-service list: %d %s", r.Status, r.Body)
		}
	})

	t.Run("RowMovedToAnotherUser", func(t *testing.T) {
		moved := "ses_" + strings.Repeat("m", 26)
		v.d1(t, "INSERT INTO sessions (id, user_id, sealed, key_id, dc_id, created_at, expires_at) "+
			"SELECT '"+moved+"', 202, sealed, key_id, dc_id, created_at, expires_at FROM sessions WHERE id = '"+id+"'")
		r := get(t, v.auth+"/api/telegram-auth/sessions/user/202", v.as("ingestor-service")...)
		if r.Status != 500 || !contains(string(r.Body), "session could not be opened") || contains(string(r.Body), sessionString) {
			t.Errorf("moved row: %d %s", r.Status, r.Body)
		}
		rows := v.d1(t, "SELECT success, error_code, session_id FROM access_log WHERE user_id = 202 AND action = 'get_session'")
		if len(rows) != 1 || rows[0]["success"] != float64(0) || rows[0]["error_code"] != "INTERNAL" || rows[0]["session_id"] != moved {
			t.Errorf("access log: %v", rows)
		}
		if !v.Logs().WaitFor(`"session_id":"`+moved+`"`, 10*time.Second) {
			t.Errorf("the refused row is not reported in the logs")
		}
		if got, r := v.getSession(t, 201); r.Status != 200 || got != sessionString {
			t.Errorf("the original row: %d %s", r.Status, r.Body)
		}
	})

	t.Run("OperatorsReadTheLog", func(t *testing.T) {
		r := get(t, v.auth+"/api/telegram-auth/access-log?userId=201&limit=50", v.as("ops-service")...)
		var e struct{ Data []map[string]any }
		if r.json(t, &e); r.Status != 200 || len(e.Data) < 3 || e.Data[0]["userId"] != float64(201) {
			t.Errorf("HTTP: %d %s", r.Status, r.Body)
		}
		if contains(string(r.Body), sessionString) {
			t.Error("the access log holds a session")
		}
		res := v.rpc(t, "TELEGRAM_AUTH_OPS", "accessLog", map[string]any{"sessionId": id, "limit": 5})
		var entries []map[string]any
		if json.Unmarshal(res.Value, &entries); !res.OK || len(entries) == 0 || entries[0]["sessionId"] != id {
			t.Errorf("RPC: %+v %s", res.Error, res.Value)
		}
		if r := get(t, v.auth+"/api/telegram-auth/access-log", v.as("ingestor-service")...); r.Status != 403 {
			t.Errorf("ingestor-service reading the log: %d %s", r.Status, r.Body)
		}
		if res := v.rpc(t, "TELEGRAM_AUTH_OPS", "accessLog", map[string]any{"userId": "x"}); res.OK || res.Error.Code != "INVALID_ARGUMENT" {
			t.Errorf("bad query: %+v", res.Error)
		}
	})

	t.Run("TheOriginalPlansClient", func(t *testing.T) {
		q := url.Values{"endpoint": {v.auth + "/api/telegram-auth"}, "apiKey": {v.keys["ingestor-service"]}, "serviceId": {"ingestor-service"}}
		var out struct {
			OK      bool
			Message string
			Session struct {
				SessionString, SessionID, ExpiresAt string
				UserID                              int64
			}
		}
		get(t, v.seedclient+"/session/201?"+q.Encode()).json(t, &out)
		if !out.OK || out.Session.SessionString != sessionString || out.Session.UserID != 201 || out.Session.SessionID != id {
			t.Errorf("the TypeScript client: %+v", out)
		}
		if _, err := time.Parse(time.RFC3339, out.Session.ExpiresAt); err != nil {
			t.Errorf("expiresAt %q: %v", out.Session.ExpiresAt, err)
		}
		q.Set("apiKey", "wrong")
		get(t, v.seedclient+"/session/201?"+q.Encode()).json(t, &out)
		if out.OK || !strings.HasPrefix(out.Message, "Failed to get session: 401 Unauthorized - ") || contains(out.Message, v.keys["ingestor-service"]) {
			t.Errorf("wrong key: %+v", out)
		}
		q.Set("apiKey", v.keys["ingestor-service"])
		get(t, v.seedclient+"/session/9999?"+q.Encode()).json(t, &out)
		if out.OK || !strings.Contains(out.Message, "404 Not Found") || !strings.Contains(out.Message, "SESSION_NOT_FOUND") {
			t.Errorf("no session: %+v", out)
		}
	})

	t.Run("DailyJobPrunesTheLog", func(t *testing.T) {
		old := time.Now().Add(-200 * 24 * time.Hour).UnixMilli()
		v.d1(t, fmt.Sprintf("INSERT INTO access_log (at, caller, action, success, channel) VALUES (%d, 'old', 'get_session', 1, 'http'), (%d, 'old', 'get_session', 1, 'http')", old, old))
		before := v.d1(t, "SELECT count(*) AS n FROM access_log")[0]["n"].(float64)
		if r := get(t, v.auth+"/__scheduled?cron=17+3+*+*+*"); r.Status != 200 {
			t.Fatalf("scheduled: %d %s", r.Status, r.Body)
		}
		after := v.d1(t, "SELECT count(*) AS n FROM access_log")[0]["n"].(float64)
		if after != before-2 || len(v.d1(t, "SELECT id FROM access_log WHERE caller = 'old'")) != 0 {
			t.Errorf("rows before %v, after %v", before, after)
		}
	})
}

// TestHTTPSessionReadsOff: once the binding is live, HTTP_SESSION_READS=off
// stops hand-outs over HTTP; the binding, listing and health stay.
func TestHTTPSessionReadsOff(t *testing.T) {
	t.Parallel() // alongside TestLogin
	keys := map[string]string{"ingestor-service": "e2e-" + devstack.RandomHex(16)}
	v := startVault(t, t.TempDir(), map[string]string{"SESSION_SECRET": devstack.RandomHex(32), "HTTP_SESSION_READS": "off"}, keys)
	v.importSession(t, 301)
	if _, r := v.getSession(t, 301); r.Status != 403 || !contains(string(r.Body), "service binding") {
		t.Errorf("HTTP read: %d %s", r.Status, r.Body)
	}
	if res := v.rpc(t, "TELEGRAM_AUTH", "getSessionByUserId", 301); !res.OK {
		t.Errorf("RPC read: %+v", res.Error)
	}
	if r := get(t, v.auth+"/api/telegram-auth/sessions/list/301", v.as("ingestor-service")...); r.Status != 200 {
		t.Errorf("list: %d %s", r.Status, r.Body)
	}
	if r := get(t, v.auth+"/health"); r.Status != 200 {
		t.Errorf("health: %d %s", r.Status, r.Body)
	}
	rows := v.d1(t, "SELECT caller, channel, error_code FROM access_log WHERE action = 'get_session' AND success = 0")
	if len(rows) != 1 || rows[0]["error_code"] != "FORBIDDEN" || rows[0]["channel"] != "http" {
		t.Errorf("refusal in the access log: %v", rows)
	}
}
