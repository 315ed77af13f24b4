package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/internal/devstack"
	"github.com/communicator/communicator/mtproto/sessionstring"
)

// system is auth-telegram and the ingestor running as `make dev` runs them,
// with test secrets, plus a plain JavaScript RPC caller of auth-telegram.
type system struct {
	*devstack.Stack
	auth, ingestor, jscaller string
	apiKey                   string
	operatorKey              string   // the ingestor's INGESTOR_API_KEYS key for "e2e-operator"
	secrets                  []string // every secret the test used: none may appear in a log
}

type systemOptions struct {
	ingestorVars map[string]string
	noJSCaller   bool
	// authEndpoint replaces the HTTP transport's endpoint (default: auth-telegram
	// behind the local router).
	authEndpoint string
	// callers are more of the ingestor's API keys (service id -> key), with
	// no permission unless ingestorVars' INGESTOR_ACCESS_POLICY grants one.
	callers map[string]string
	// ingestorDir replaces the directory of the ingestor's wrangler.toml
	// (default services/ingestor); build/ and the migrations stay the real ones.
	ingestorDir string
	// authVars are added to auth-telegram's vars; authKeys are API keys of
	// services besides ingestor-service (service id -> key) for its
	// SERVICE_API_KEYS.
	authVars, authKeys map[string]string
	// stateDir keeps the local D1 databases beyond the stack (a restart), and
	// sessionSecret is auth-telegram's SESSION_SECRET (default: a new one).
	stateDir, sessionSecret string
}

func startSystem(t *testing.T, o systemOptions) *system {
	t.Helper()
	sys := &system{apiKey: "e2e-" + devstack.RandomHex(16), operatorKey: "e2e-operator-" + devstack.RandomHex(16)}
	secret := devstack.RandomHex(32)
	if o.sessionSecret != "" {
		secret = o.sessionSecret
	}
	sys.secrets = append(sys.secrets, sys.apiKey, sys.operatorKey, secret)
	port := devstack.FreePort()
	ingestorVars := map[string]string{
		"TELEGRAM_API_ID":                "17349",
		"TELEGRAM_API_HASH":              "344583e45741c457fe1862106095a5eb",
		"TELEGRAM_AUTH_SERVICE_ENDPOINT": fmt.Sprintf("http://127.0.0.1:%d/auth-telegram/api/telegram-auth", port),
		"INGESTOR_API_KEYS":              ingestorKeys(map[string]string{"e2e-operator": sys.operatorKey}, o.callers),
		"INGESTOR_ACCESS_POLICY":         `{"read":["e2e-operator"],"operate":["e2e-operator"]}`,
		"TELEGRAM_AUTH_SERVICE_API_KEY":  sys.apiKey,
		"TELEGRAM_SESSION_CACHE_TTL":     "0", // every status asks auth-telegram (the cache has its own tests)
		"TELEGRAM_RETRY_DELAY":           "50",
	}
	if o.authEndpoint != "" {
		ingestorVars["TELEGRAM_AUTH_SERVICE_ENDPOINT"] = o.authEndpoint
	}
	for k, v := range o.ingestorVars {
		ingestorVars[k] = v
	}
	authVars := devstack.AuthTelegramVars(secret, sys.apiKey)
	if len(o.authKeys) > 0 {
		hashes := map[string]string{"ingestor-service": httpapi.HashAPIKey(sys.apiKey)}
		for id, key := range o.authKeys {
			hashes[id] = httpapi.HashAPIKey(key)
			sys.secrets = append(sys.secrets, key)
		}
		kj, _ := json.Marshal(hashes)
		authVars["SERVICE_API_KEYS"] = string(kj)
	}
	maps.Copy(authVars, o.authVars)
	ingestor := devstack.Worker{Name: "ingestor", Dir: path("services", "ingestor"), Migrate: true, Vars: ingestorVars}
	if o.ingestorDir != "" {
		ingestor.Dir, ingestor.Build, ingestor.Migrations = o.ingestorDir, path("services", "ingestor", "build"), path("services", "ingestor", "migrations")
		messages := path("services", "ingestor", "migrations-messages")
		ingestor.MigrationsOf = map[string]string{"MESSAGES_0": messages, "MESSAGES_1": messages}
	}
	opts := devstack.Options{
		StateDir: o.stateDir,
		Workers: []devstack.Worker{
			{Name: "auth-telegram", Dir: path("services", "auth-telegram"), Migrate: true, Vars: authVars},
			ingestor,
		},
		// As make dev runs them: in one workerd, bound as in production, behind
		// the local router (/auth-telegram/... and /e2e-jscaller/...).
		Processes: []devstack.Process{{Workers: []string{"ingestor", "auth-telegram"}, Port: port, Routed: true}},
	}
	if !o.noJSCaller {
		opts.Workers = append(opts.Workers, devstack.Worker{Name: "e2e-jscaller", Dir: path("e2e", "jscaller")})
		opts.Processes[0].Workers = append(opts.Processes[0].Workers, "e2e-jscaller")
	}
	sys.Stack = start(t, opts)
	sys.ingestor = sys.URL["ingestor"]
	sys.auth = sys.URL["auth-telegram"]
	sys.jscaller = sys.URL["e2e-jscaller"]
	t.Cleanup(func() { assertNoSecretInLogs(t, sys.Logs().Lines(), sys.secrets) })
	return sys
}

// ingestorKeys is INGESTOR_API_KEYS for the keys of each map (id -> key).
func ingestorKeys(keys ...map[string]string) string {
	hashes := map[string]string{}
	for _, m := range keys {
		for id, k := range m {
			hashes[id] = httpapi.HashAPIKey(k)
		}
	}
	b, _ := json.Marshal(hashes)
	return string(b)
}

// operator is the headers of the ingestor's caller e2e-operator, which may
// read and operate.
func (s *system) operator() []string {
	return []string{"Authorization", "ApiKey " + s.operatorKey, "X-Service-ID", "e2e-operator"}
}

func (s *system) authHeaders() []string {
	return []string{"Authorization", "ApiKey " + s.apiKey, "X-Service-ID", "ingestor-service", "Content-Type", "application/json"}
}

// newSession makes a GramJS session string with a random auth key.
func (s *system) newSession() string {
	var sess sessionstring.Session
	sess.DC, sess.Addr, sess.Port = 2, "149.154.167.50", 443
	rand.Read(sess.AuthKey[:])
	str := sessionstring.Encode(sess)
	s.secrets = append(s.secrets, str, hex.EncodeToString(sess.AuthKey[:]))
	return str
}

type envelope struct {
	Success bool
	Data    json.RawMessage
	Error   *struct{ Code, Message string }
}

func (s *system) importSession(t *testing.T, userID int64, sessionString string) (string, response) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"userId": userID, "sessionString": sessionString})
	r := do(t, "POST", s.auth+"/api/telegram-auth/sessions/import", bytes.NewReader(body), s.authHeaders()...)
	var env envelope
	var info struct{ SessionID string }
	if r.json(t, &env); env.Success {
		json.Unmarshal(env.Data, &info)
	}
	return info.SessionID, r
}

type status struct {
	UserID    int64
	Usable    bool
	Reason    string
	SessionID string
	ExpiresAt string
	Transport string
	Source    string
}

func (s *system) status(t *testing.T, userID string) (status, envelope, response) {
	t.Helper()
	r := get(t, s.ingestor+"/telegram/session-status/"+userID, s.operator()...)
	var env envelope
	var st status
	if r.json(t, &env); env.Success {
		json.Unmarshal(env.Data, &st)
	}
	return st, env, r
}

func (s *system) d1(t *testing.T, worker, sql string) []map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := s.D1(ctx, worker, sql)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// sessionsSnapshot is every stored session row, to show that bad input
// changed nothing.
func (s *system) sessionsSnapshot(t *testing.T) string {
	rows := s.d1(t, "auth-telegram", "SELECT id, user_id, key_id, hex(sealed) AS sealed, created_at, expires_at, last_used_at, revoked_at FROM sessions ORDER BY id")
	b, _ := json.Marshal(rows)
	return string(b)
}

// TestSessionOverTheBinding is the point of the system: the ingestor gets a
// session imported over HTTP from auth-telegram through the TELEGRAM_AUTH
// binding by RPC, and auth-telegram's access log names the caller and channel.
func TestSessionOverTheBinding(t *testing.T) {
	t.Parallel() // alongside TestLogin
	sys := startSystem(t, systemOptions{})

	sessionString := sys.newSession()
	id, r := sys.importSession(t, 42, sessionString)
	if r.Status != 201 || id == "" {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}

	st, env, r := sys.status(t, "42")
	if r.Status != 200 || !st.Usable || st.SessionID != id || st.Transport != "binding" || st.Source != "binding" || st.ExpiresAt == "" {
		t.Fatalf("session-status: %d %s", r.Status, r.Body)
	}
	if bytes.Contains(r.Body, []byte(sessionString[1:20])) || strings.Contains(string(env.Data), "sessionString") {
		t.Errorf("session-status revealed the session: %s", r.Body)
	}

	if !logged(sys, "[ingestor] ", `"msg":"rpc"`, `"method":"getSessionByUserId"`, `"caller":"ingestor-service"`, `"outcome":"ok"`) {
		t.Errorf("auth-telegram did not log the RPC call with its caller")
	}

	rows := sys.d1(t, "auth-telegram", "SELECT caller, channel, action, success, session_id, client_ip FROM access_log WHERE user_id = 42 AND action = 'get_session'")
	if len(rows) != 1 || rows[0]["caller"] != "ingestor-service" || rows[0]["channel"] != "service-binding" ||
		rows[0]["success"] != float64(1) || rows[0]["session_id"] != id || rows[0]["client_ip"] != nil {
		t.Errorf("access log: %v", rows)
	}

	t.Run("RevokedSessionIsUnusable", func(t *testing.T) {
		r := do(t, "DELETE", sys.auth+"/api/telegram-auth/sessions/"+id, nil, sys.authHeaders()...)
		if r.Status != 200 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		st, _, r := sys.status(t, "42")
		if r.Status != 200 || st.Usable || st.Reason != "SESSION_REVOKED" || st.SessionID != id {
			t.Errorf("after revoke: %d %s", r.Status, r.Body)
		}
		// Revoking twice is not an error.
		if r := do(t, "DELETE", sys.auth+"/api/telegram-auth/sessions/"+id, nil, sys.authHeaders()...); r.Status != 200 {
			t.Errorf("second revoke: %d %s", r.Status, r.Body)
		}
	})

	t.Run("NoSession", func(t *testing.T) {
		st, _, r := sys.status(t, "4242")
		if r.Status != 200 || st.Usable || st.Reason != "SESSION_NOT_FOUND" {
			t.Errorf("%d %s", r.Status, r.Body)
		}
	})

	t.Run("CallableFromPlainJavaScript", func(t *testing.T) { testJavaScriptCaller(t, sys) })
	t.Run("BadInputChangesNothing", func(t *testing.T) { testBadInput(t, sys) })
}

// TestSessionOverHTTP: with TELEGRAM_AUTH_TRANSPORT=http the same works over
// auth-telegram's HTTP API, the old way, and the log says so.
func TestSessionOverHTTP(t *testing.T) {
	t.Parallel() // alongside TestLogin
	sys := startSystem(t, systemOptions{noJSCaller: true, ingestorVars: map[string]string{"TELEGRAM_AUTH_TRANSPORT": "http"}})
	id, r := sys.importSession(t, 43, sys.newSession())
	if r.Status != 201 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	st, _, r := sys.status(t, "43")
	if r.Status != 200 || !st.Usable || st.SessionID != id || st.Transport != "http" || st.Source != "http" {
		t.Fatalf("session-status: %d %s", r.Status, r.Body)
	}
	rows := sys.d1(t, "auth-telegram", "SELECT caller, channel, success FROM access_log WHERE user_id = 43 AND action = 'get_session'")
	if len(rows) != 1 || rows[0]["caller"] != "ingestor-service" || rows[0]["channel"] != "http" || rows[0]["success"] != float64(1) {
		t.Errorf("access log: %v", rows)
	}
	var health struct {
		Data struct {
			Status, Transport string
			Checks            map[string]struct{ Status, Detail string }
		}
	}
	get(t, sys.ingestor+"/health").json(t, &health)
	if health.Data.Transport != "http" || health.Data.Checks["auth_telegram"].Status != "ok" {
		t.Errorf("health: %+v", health)
	}
}

// logged reports whether a line that starts with prefix and contains every
// part arrives within a few seconds (workerd prints a request's logs after
// answering it).
func logged(sys *system, prefix string, parts ...string) bool {
	return sys.Logs().WaitUntil(func(line string) bool {
		if !strings.HasPrefix(line, prefix) {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(line, p) {
				return false
			}
		}
		return true
	}, 10*time.Second)
}
