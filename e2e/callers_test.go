package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communicator/communicator/internal/devstack"
)

// stageIngestorWithoutProps copies the ingestor's wrangler.toml without its
// props lines into a temporary directory: the ingestor bound to
// auth-telegram by entrypoint alone, as a deployment by Pulumi binds it.
func stageIngestorWithoutProps(t *testing.T) string {
	t.Helper()
	toml, err := os.ReadFile(path("services", "ingestor", "wrangler.toml"))
	if err != nil {
		t.Fatal(err)
	}
	props := regexp.MustCompile(`(?m)^\s*props\s*=.*\n`)
	if !bytes.Contains(toml, []byte(`entrypoint = "IngestorEntrypoint"`)) || !props.Match(toml) {
		t.Fatal("services/ingestor/wrangler.toml no longer binds IngestorEntrypoint with props: update this test")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "wrangler.toml"), props.ReplaceAll(toml, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// logEntry is an access-log entry as the RPC method accessLog returns it.
type logEntry struct {
	ID                                 int64
	At, SessionID                      string
	UserID                             int64
	Caller, Action, ErrorCode, Channel string
	ClientIP                           string
	Success                            bool
	Attempts                           int
}

// accessLog reads auth-telegram's access log, newest first, over RPC as
// ops-service (which the test's ACCESS_POLICY lets read it).
func (s *system) accessLog(t *testing.T, query map[string]any) []logEntry {
	t.Helper()
	res := callJS(t, s.jscaller, "TELEGRAM_AUTH_OPS", "accessLog", query)
	var out []logEntry
	if !res.OK || json.Unmarshal(res.Value, &out) != nil {
		t.Fatalf("accessLog(%v): %+v %s", query, res.Error, res.Value)
	}
	return out
}

// newest is the newest access-log entry (the zero entry if there is none).
func (s *system) newest(t *testing.T) logEntry {
	t.Helper()
	if l := s.accessLog(t, map[string]any{"limit": 1}); len(l) == 1 {
		return l[0]
	}
	return logEntry{}
}

// wantNoSessions fails the test if auth-telegram holds a session of userID.
func (s *system) wantNoSessions(t *testing.T, userID int64) {
	t.Helper()
	if res := callJS(t, s.jscaller, "TELEGRAM_AUTH", "listSessions", userID); !res.OK || string(res.Value) != "[]" {
		t.Errorf("sessions of user %d: %+v %s", userID, res.Error, res.Value)
	}
}

// TestCallersAndRefusals runs auth-telegram, an ingestor bound to it by
// entrypoint without props, and a plain JavaScript caller in one workerd,
// and checks who auth-telegram takes its callers for, that callers are
// checked before their arguments, that a flood of bad credentials is counted
// rather than logged one row each while hand-outs go on, and that the HTTP
// API refuses encoded slashes and repeated JSON members. One stack serves
// every check; the flood's exact count, which waits for the minute to
// change, comes last, so that the other checks take part of the wait.
func TestCallersAndRefusals(t *testing.T) {
	otherKey, opsKey := "e2e-other-"+devstack.RandomHex(16), "e2e-ops-"+devstack.RandomHex(16)
	sys := startSystem(t, systemOptions{
		ingestorDir: stageIngestorWithoutProps(t),
		// The ingestor's routes will take credentials: sent, and allowed.
		ingestorVars: map[string]string{"INGESTOR_ACCESS_POLICY": `{"read":["e2e-operator"],"operate":["e2e-operator"]}`},
		authKeys:     map[string]string{"other-service": otherKey, "ops-service": opsKey},
		authVars: map[string]string{"ACCESS_POLICY": `{"get_session":["ingestor-service"],"list_sessions":["ingestor-service","ops-service"],` +
			`"revoke_session":["ingestor-service"],"import_session":["ingestor-service"],"read_access_log":["ops-service"],"read_stats":["ops-service"]}`},
	})
	as := func(service, key string) []string {
		return []string{"Authorization", "ApiKey " + key, "X-Service-ID", service, "Content-Type", "application/json"}
	}
	other := as("other-service", otherKey)

	sessionString := sys.newSession()
	id, r := sys.importSession(t, 501, sessionString)
	if r.Status != 201 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}

	var flood *floodResult
	t.Run("Flood", func(t *testing.T) { flood = testFlood(t, sys, 501, sessionString) })

	t.Run("NamedEntrypoint", func(t *testing.T) {
		wantForbidden := func(res callResult, what string) {
			t.Helper()
			if res.OK || res.Error == nil || res.Error.Name != "TelegramAuthError" || res.Error.Code != "FORBIDDEN" || !res.Error.IsError {
				t.Errorf("%s: want TelegramAuthError FORBIDDEN, got %+v %s", what, res.Error, res.Value)
			}
		}
		// Bound to IngestorEntrypoint without props: the caller is ingestor-service.
		res := callJS(t, sys.jscaller, "TELEGRAM_AUTH_INGESTOR_ENTRYPOINT", "getSessionByUserId", 501)
		var sess struct{ SessionString, SessionID string }
		if json.Unmarshal(res.Value, &sess); !res.OK || sess.SessionString != sessionString || sess.SessionID != id {
			t.Fatalf("getSessionByUserId over IngestorEntrypoint: %+v", res.Error)
		}
		handOut := sys.newest(t)
		if e := handOut; e.Action != "get_session" || e.Caller != "ingestor-service" || e.Channel != "service-binding" ||
			!e.Success || e.UserID != 501 || e.SessionID != id || e.Attempts != 1 {
			t.Errorf("the hand-out's access-log entry: %+v", e)
		}
		if !logged(sys, "[ingestor] ", `"msg":"rpc"`, `"caller":"ingestor-service"`, `"entrypoint":"IngestorEntrypoint"`, `"outcome":"ok"`) {
			t.Error("auth-telegram did not log the call with its entrypoint")
		}

		// The same entrypoint with props claiming another service: refused and logged.
		before := sys.newest(t).ID
		wantForbidden(callJS(t, sys.jscaller, "TELEGRAM_AUTH_INGESTOR_ENTRYPOINT_STRANGER", "getSessionByUserId", 501), "props that disagree")
		wantForbidden(callJS(t, sys.jscaller, "TELEGRAM_AUTH_INGESTOR_ENTRYPOINT_STRANGER", "importSession", 502, sys.newSession()), "props that disagree, import")
		l := sys.accessLog(t, map[string]any{"limit": 10})
		if len(l) < 2 || l[1].ID <= before || l[1].Action != "get_session" || l[1].UserID != 501 || l[0].Action != "import_session" || l[0].UserID != 502 {
			t.Fatalf("the refusals' access-log entries: %+v", l)
		}
		for _, e := range l[:2] {
			if e.Caller != "ingestor-service" || e.Channel != "service-binding" || e.Success || e.ErrorCode != "FORBIDDEN" || e.Attempts != 1 {
				t.Errorf("a refusal's access-log entry: %+v", e)
			}
		}
		if !logged(sys, "[ingestor] ", `"msg":"rpc"`, `"entrypoint":"IngestorEntrypoint"`, `"outcome":"FORBIDDEN"`, `"props_service_id":"\"stranger-service\""`) {
			t.Error("auth-telegram did not log the disagreeing props")
		}
		sys.wantNoSessions(t, 502)

		// The default entrypoint without props: nobody, refused as before.
		before = sys.newest(t).ID
		wantForbidden(callJS(t, sys.jscaller, "TELEGRAM_AUTH_NO_PROPS", "getSessionByUserId", 501), "default entrypoint without props")
		if e := sys.newest(t); e.ID <= before || e.Caller != "" || e.Action != "get_session" || e.UserID != 501 || e.ErrorCode != "FORBIDDEN" || e.Channel != "service-binding" {
			t.Errorf("the refusal's access-log entry: %+v", e)
		}
		// No refusal handed the session out.
		if l := sys.accessLog(t, map[string]any{"sessionId": id, "limit": 1}); len(l) != 1 || l[0].ID != handOut.ID {
			t.Errorf("the session's newest entry: %+v, want the hand-out %d", l, handOut.ID)
		}
	})

	t.Run("IngestorByEntrypointWithoutProps", func(t *testing.T) {
		id, r := sys.importSession(t, 503, sys.newSession())
		if r.Status != 201 {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
		r = get(t, sys.ingestor+"/telegram/session-status/503", sys.operatorHeaders()...)
		var env struct {
			Success bool
			Data    status
		}
		if r.json(t, &env); r.Status != 200 || !env.Success || !env.Data.Usable || env.Data.SessionID != id || env.Data.Transport != "binding" || env.Data.Source != "binding" {
			t.Fatalf("session-status: %d %s", r.Status, r.Body)
		}
		// Its binding has no props: only the entrypoint can have named it.
		l := sys.accessLog(t, map[string]any{"userId": 503, "limit": 5})
		if len(l) != 2 || l[0].Action != "get_session" || l[0].Caller != "ingestor-service" || l[0].Channel != "service-binding" || !l[0].Success || l[0].SessionID != id {
			t.Errorf("access log: %+v", l)
		}
	})

	// Each service reports its isolate's memory and bridge counters to an
	// operator: the ingestor's Go caller waited for auth-telegram's answers
	// inside the call (JSPI), and auth-telegram answered them as callJSON.
	t.Run("IsolateStats", func(t *testing.T) {
		if st, _, r := sys.status(t, "501"); r.Status != 200 || !st.Usable {
			t.Fatalf("session-status: %d %s", r.Status, r.Body)
		}
		type isolate struct {
			Memory *struct{ WasmMemoryBytes, GoHeapInuseBytes uint64 }
			Bridge *struct {
				JSPI                                                 bool `json:"jspi"`
				GoInstances, SuspendedCalls, JSONCalls, JSONServed   uint64
				WaitsReported, LiveRequests, InflightOps, Goroutines uint64
			}
		}
		read := func(url string, headers []string) (isolate, response) {
			t.Helper()
			r := get(t, url, headers...)
			var env struct{ Data isolate }
			r.json(t, &env)
			if r.Status != 200 || env.Data.Memory == nil || env.Data.Bridge == nil || env.Data.Memory.WasmMemoryBytes == 0 {
				t.Fatalf("%s: %d %s", url, r.Status, r.Body)
			}
			return env.Data, r
		}
		ing, r := read(sys.ingestor+"/telegram/client-stats", sys.operator())
		if b := ing.Bridge; !b.JSPI || b.GoInstances != 1 || b.SuspendedCalls == 0 || b.JSONCalls == 0 || b.WaitsReported != 0 || b.LiveRequests != 1 || b.Goroutines == 0 {
			t.Errorf("the ingestor's bridge: %s", r.Body)
		}
		auth, r := read(sys.auth+"/api/telegram-auth/stats", as("ops-service", opsKey))
		if b := auth.Bridge; !b.JSPI || b.GoInstances != 1 || b.JSONServed == 0 || b.WaitsReported != 0 || b.InflightOps != 0 {
			t.Errorf("auth-telegram's bridge: %s", r.Body)
		}
		// Only with read_stats.
		if r := get(t, sys.auth+"/api/telegram-auth/stats", other...); r.Status != 403 || strings.Contains(string(r.Body), "wasmMemoryBytes") {
			t.Errorf("stats as other-service: %d %s", r.Status, r.Body)
		}
	})

	t.Run("CallerBeforeArguments", func(t *testing.T) {
		// Over RPC: a stranger's malformed arguments are FORBIDDEN, not INVALID_ARGUMENT.
		for _, c := range []struct {
			binding, method string
			args            []any
		}{
			{"TELEGRAM_AUTH_STRANGER", "getSessionByUserId", []any{"not a number"}},
			{"TELEGRAM_AUTH_STRANGER", "revokeSession", []any{42}},
			{"TELEGRAM_AUTH_STRANGER", "importSession", []any{}},
			{"TELEGRAM_AUTH_INGESTOR_ENTRYPOINT_STRANGER", "listSessions", []any{map[string]string{"$": "NaN"}}},
		} {
			before := sys.newest(t).ID
			res := callJS(t, sys.jscaller, c.binding, c.method, c.args...)
			if res.OK || res.Error == nil || res.Error.Code != "FORBIDDEN" {
				t.Errorf("%s.%s(%v): want FORBIDDEN, got %+v", c.binding, c.method, c.args, res.Error)
			}
			e := sys.newest(t)
			want := map[string]string{"TELEGRAM_AUTH_STRANGER": "stranger-service", "TELEGRAM_AUTH_INGESTOR_ENTRYPOINT_STRANGER": "ingestor-service"}[c.binding]
			if e.ID <= before || e.Caller != want || e.ErrorCode != "FORBIDDEN" || e.Channel != "service-binding" {
				t.Errorf("%s.%s: access-log entry %+v", c.binding, c.method, e)
			}
		}
		// An allowed caller's malformed arguments are INVALID_ARGUMENT.
		if res := callJS(t, sys.jscaller, "TELEGRAM_AUTH_INGESTOR_ENTRYPOINT", "getSessionByUserId", "not a number"); res.OK || res.Error.Code != "INVALID_ARGUMENT" {
			t.Errorf("allowed caller, bad argument: %+v", res.Error)
		}

		// Over HTTP: other-service has a good key but may not import; its
		// malformed bodies (and a good one) are 403, each with a row.
		for _, body := range []string{`{"userId":`, `{"userId":"x","userId":1}`, `[]`, `{"userId":504,"sessionString":"` + sys.newSession() + `"}`} {
			before := sys.newest(t).ID
			r := do(t, "POST", sys.auth+"/api/telegram-auth/sessions/import", strings.NewReader(body), other...)
			var e envelope
			if r.json(t, &e); r.Status != 403 || e.Error == nil || e.Error.Code != "FORBIDDEN" {
				t.Errorf("import %.20q as other-service: %d %s", body, r.Status, r.Body)
			}
			if l := sys.newest(t); l.ID <= before || l.Caller != "other-service" || l.Action != "import_session" || l.ErrorCode != "FORBIDDEN" || l.Channel != "http" || l.ClientIP == "" {
				t.Errorf("import %.20q as other-service: access-log entry %+v", body, l)
			}
		}
		if r := get(t, sys.auth+"/api/telegram-auth/sessions/user/abc", other...); r.Status != 403 {
			t.Errorf("GET sessions/user/abc as other-service: %d %s", r.Status, r.Body)
		}
		sys.wantNoSessions(t, 504)
	})

	// Encoded slashes and repeated members: 400, nothing changes, no row.
	sessions, last := sys.sessionsSnapshot(t), sys.newest(t).ID
	t.Run("EncodedSlashes", func(t *testing.T) {
		ingestor := sys.authHeaders()
		for _, c := range []struct {
			method, path string
			headers      []string
		}{
			{"GET", "/sessions%2Fuser%2F501", ingestor},
			{"GET", "/sessions%2fuser%2f501", ingestor},
			{"GET", "/sessions/user%2F501", ingestor},
			{"GET", "/sessions%5Cuser%5C501", ingestor},
			{"GET", "/sessions%2Flist%2F501", ingestor},
			{"DELETE", "/sessions%2F" + id, ingestor},
			{"DELETE", "/sessions/" + id + "%2F", ingestor},
			{"GET", "/sessions%2Fuser%2F501", []string{"Authorization", "ApiKey wrong", "X-Service-ID", "ingestor-service"}},
		} {
			r := do(t, c.method, sys.auth+"/api/telegram-auth"+c.path, nil, c.headers...)
			var e envelope
			if r.json(t, &e); r.Status != 400 || e.Error == nil || e.Error.Code != "INVALID_ARGUMENT" || !contains(e.Error.Message, "encoded slash") {
				t.Errorf("%s %s: %d %s", c.method, c.path, r.Status, r.Body)
			}
		}
		if e := sys.newest(t); e.ID != last {
			t.Errorf("encoded slashes wrote to the access log: %+v", e)
		}
	})
	t.Run("RepeatedMembers", func(t *testing.T) {
		s1, s2 := sys.newSession(), sys.newSession()
		for body, member := range map[string]string{
			`{"userId":510,"userId":511,"sessionString":"` + s1 + `"}`:                     "userId",
			`{"userId":510,"sessionString":"` + s1 + `","sessionString":"` + s2 + `"}`:     "sessionString",
			`{"userId":510,"user\u0049d":511,"sessionString":"` + s1 + `"}`:                "userId",
			`{"sessionString":"` + s1 + `","userId":510,"extra":1,"extra":2}`:              "extra",
			`{"userId":510,"sessionString":"` + s1 + `","userId":510,"sessionString":"x"}`: "userId",
		} {
			r := do(t, "POST", sys.auth+"/api/telegram-auth/sessions/import", strings.NewReader(body), sys.authHeaders()...)
			var e envelope
			if r.json(t, &e); r.Status != 400 || e.Error == nil || e.Error.Code != "INVALID_ARGUMENT" ||
				!contains(e.Error.Message, `member "`+member+`" appears more than once`) || contains(string(r.Body), s1[5:30]) || contains(string(r.Body), s2[5:30]) {
				t.Errorf("%.50s…: %d %s", body, r.Status, r.Body)
			}
		}
		if e := sys.newest(t); e.ID != last {
			t.Errorf("repeated members wrote to the access log: %+v", e)
		}
	})
	if after := sys.sessionsSnapshot(t); after != sessions {
		t.Errorf("encoded slashes or repeated members changed stored sessions:\nbefore %s\nafter  %s", sessions, after)
	}

	t.Run("FloodCountedExactly", func(t *testing.T) {
		if flood == nil {
			t.Skip("the flood did not run")
		}
		flood.countExactly(t, sys)
	})
}

// A flood source: what a stream of bad credentials claims and where it
// comes from, and what the access log must say for it.
type floodSource struct {
	serviceID, ip, wantCaller string
	auth                      string // the Authorization header, "" for none
	sent                      int
	// varyID and varyIP make each request claim another service id, or come
	// from another address of the /64 of ip; wantIP is the address the
	// rows record (ip when empty).
	varyID, varyIP bool
	wantIP         string
}

// header is the X-Service-ID and CF-Connecting-IP of the source's n-th request.
func (s *floodSource) header(n int) (serviceID, ip string) {
	serviceID, ip = s.serviceID, s.ip
	if s.varyID {
		serviceID = fmt.Sprintf("%s-%04d", s.serviceID, n)
	}
	if s.varyIP {
		ip = fmt.Sprintf("%s%x", s.ip, n+1)
	}
	return serviceID, ip
}

func (s *floodSource) recordedIP() string {
	if s.wantIP != "" {
		return s.wantIP
	}
	return s.ip
}

type floodResult struct {
	sources        []*floodSource
	first, last    int64 // unix minutes the flood spanned
	handOutSession string
}

const (
	floodRequests    = 1000
	floodConcurrency = 32
	floodHandOuts    = 10
)

// testFlood sends floodRequests requests with bad credentials from three
// sources, floodConcurrency at a time, with floodHandOuts hand-outs of
// userID's session among them, and checks that the hand-outs succeed and are
// logged one row each while the refusals cost one row per source and minute
// and at most two writes per row.
func testFlood(t *testing.T, sys *system, userID int64, sessionString string) *floodResult {
	f := &floodResult{sources: []*floodSource{
		// Services auth-telegram does not know, a new one each request, with
		// a key: recorded as "unknown", so made-up ids make no new rows.
		{serviceID: "probe", varyID: true, ip: "203.0.113.10", wantCaller: "unknown", auth: "ApiKey wrong-" + devstack.RandomHex(8)},
		// A service it knows, with the wrong key.
		{serviceID: "ingestor-service", ip: "203.0.113.11", wantCaller: "ingestor-service", auth: "ApiKey wrong-" + devstack.RandomHex(8)},
		// A malformed service id, without a key, from a new address of one
		// IPv6 /64 each request: recorded as "invalid" from the /64.
		{serviceID: "not a service id; DROP TABLE access_log", ip: "2001:db8::", varyIP: true, wantIP: "2001:db8::/64", wantCaller: "invalid"},
	}}
	// Count the access log's writes for refused authentications (inserts and
	// updates of attempts) with triggers in the local D1.
	sys.d1(t, "auth-telegram", "CREATE TABLE e2e_writes (kind TEXT); "+
		"CREATE TRIGGER e2e_inserts AFTER INSERT ON access_log WHEN NEW.action = 'authenticate' BEGIN INSERT INTO e2e_writes VALUES ('insert'); END; "+
		"CREATE TRIGGER e2e_updates AFTER UPDATE OF attempts ON access_log BEGIN INSERT INTO e2e_writes VALUES ('update'); END")

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: floodConcurrency}}
	defer client.CloseIdleConnections()
	url := sys.auth + fmt.Sprintf("/api/telegram-auth/sessions/user/%d", userID)
	type job struct {
		src     *floodSource // nil: a hand-out
		n       int          // the source's n-th request
		handOut bool
	}
	jobs := make(chan job)
	type outcome struct {
		handOut bool
		status  int
		body    []byte
		err     error
		took    time.Duration
	}
	outcomes := make(chan outcome, floodRequests+floodHandOuts)
	var wg sync.WaitGroup
	for range floodConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				req, _ := http.NewRequest("GET", url, nil)
				if j.handOut {
					for i := 0; i+1 < len(sys.authHeaders()); i += 2 {
						req.Header.Set(sys.authHeaders()[i], sys.authHeaders()[i+1])
					}
				} else {
					id, ip := j.src.header(j.n)
					req.Header.Set("X-Service-ID", id)
					req.Header.Set("CF-Connecting-IP", ip)
					if j.src.auth != "" {
						req.Header.Set("Authorization", j.src.auth)
					}
				}
				start := time.Now()
				resp, err := client.Do(req)
				o := outcome{handOut: j.handOut, err: err}
				if err == nil {
					o.status = resp.StatusCode
					o.body, o.err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				o.took = time.Since(start)
				outcomes <- o
			}
		}()
	}
	start := time.Now()
	f.first = start.Unix() / 60
	bad := 0
	for i := 0; bad < floodRequests; i++ {
		if i%101 == 50 && i/101 < floodHandOuts { // a hand-out every 100 refusals
			jobs <- job{handOut: true}
			continue
		}
		src := f.sources[bad%len(f.sources)]
		bad++
		jobs <- job{src: src, n: src.sent}
		src.sent++
	}
	close(jobs)
	wg.Wait()
	took := time.Since(start)
	f.last = time.Now().Unix() / 60
	close(outcomes)

	var handOuts, refused int
	var slowest time.Duration
	for o := range outcomes {
		switch {
		case o.err != nil:
			t.Fatalf("a request of the flood failed: %v", o.err)
		case o.handOut:
			var e struct {
				Data struct{ SessionString string }
			}
			if json.Unmarshal(o.body, &e); o.status != 200 || e.Data.SessionString != sessionString {
				t.Errorf("a hand-out during the flood: %d %.200s", o.status, o.body)
			}
			handOuts++
			slowest = max(slowest, o.took)
		default:
			if o.status != 401 || !bytes.Contains(o.body, []byte(`"UNAUTHENTICATED"`)) {
				t.Errorf("a bad credential: %d %.200s", o.status, o.body)
			}
			refused++
		}
	}
	t.Logf("flood: %d refused and %d hand-outs in %v (%d at a time, minutes %d-%d); slowest hand-out %v",
		refused, handOuts, took.Round(time.Millisecond), floodConcurrency, f.first, f.last, slowest.Round(time.Millisecond))
	if handOuts != floodHandOuts || refused != floodRequests {
		t.Fatalf("%d hand-outs and %d refusals answered", handOuts, refused)
	}

	rows, attempts, handOutRows := f.checkRows(t, sys, 0, userID)
	writes := sys.d1(t, "auth-telegram", "SELECT count(*) AS n FROM e2e_writes")[0]["n"].(float64)
	t.Logf("flood: %d access-log rows hold %s attempts so far, after %v writes", rows, f.say(attempts), writes)
	// One insert per bucket, and at most one update: the bucket's flush
	// when a later minute starts (the flood is shorter than 30 s, the
	// interval of the in-minute flushes; otherwise allow one more per row).
	if limit := 2 * rows * (1 + int(took/(30*time.Second))); int(writes) > limit {
		t.Errorf("%v writes for %d rows (at most %d)", writes, rows, limit)
	}
	if handOutRows != floodHandOuts {
		t.Errorf("%d hand-outs logged, want %d", handOutRows, floodHandOuts)
	}
	if sys.Logs().Contains("counting refused authentications failed") {
		t.Error("auth-telegram could not write a count")
	}
	return f
}

// checkRows checks the flood's access-log rows, read over RPC: exactly one
// per source and minute of the flood (extra minutes more, for the rows of
// the requests that came after it), each a refused authentication stamped
// with its minute. It returns the rows, the attempts they hold per source,
// and how many rows are successful HTTP hand-outs of userID.
func (f *floodResult) checkRows(t *testing.T, sys *system, extra, userID int64) (rows int, attempts map[*floodSource]int, handOuts int) {
	t.Helper()
	var got []logEntry
	for _, e := range sys.accessLog(t, map[string]any{"limit": 1000}) {
		switch {
		case e.Action == "authenticate" && (e.ClientIP == f.sources[0].recordedIP() || e.ClientIP == f.sources[1].recordedIP() || e.ClientIP == f.sources[2].recordedIP()):
			got = append(got, e)
		case e.Action == "get_session" && e.UserID == userID && e.Success && e.Caller == "ingestor-service" && e.Channel == "http":
			handOuts++
		}
	}
	perBucket := map[string]int{}
	attempts = map[*floodSource]int{}
	for _, r := range got {
		stamp, _ := time.Parse(time.RFC3339Nano, r.At)
		at := stamp.UnixMilli()
		key := r.Caller + " " + r.ClientIP
		var src *floodSource
		for _, s := range f.sources {
			if key == s.wantCaller+" "+s.recordedIP() {
				src = s
			}
		}
		if src == nil || r.Success || r.ErrorCode != "UNAUTHENTICATED" || r.Channel != "http" || r.UserID != 0 || r.SessionID != "" ||
			at%60_000 != 0 || at/60_000 < f.first || at/60_000 > f.last+extra {
			t.Errorf("a row of the flood: %+v (minutes %d-%d)", r, f.first, f.last+extra)
			continue
		}
		perBucket[fmt.Sprint(key, " ", at)]++
		attempts[src] += r.Attempts
	}
	for k, n := range perBucket {
		if n != 1 {
			t.Errorf("%s: %d rows in one minute", k, n)
		}
	}
	minutes := int(f.last-f.first+1) + int(extra)
	for _, s := range f.sources {
		n := 0
		for k := range perBucket {
			if strings.HasPrefix(k, s.wantCaller+" "+s.recordedIP()+" ") {
				n++
			}
		}
		if n == 0 || n > minutes {
			t.Errorf("%s from %s: %d rows over %d minutes", s.wantCaller, s.ip, n, minutes)
		}
	}
	for _, line := range sys.Logs().Lines() {
		if strings.Contains(line, "DROP TABLE") {
			t.Errorf("a malformed X-Service-ID reached the logs: %.200s", line)
			break
		}
	}
	return len(got), attempts, handOuts
}

// countExactly waits for the minute after the flood, sends one more bad
// credential per source, and expects every refusal counted. A refusal in a
// later minute writes out what the isolate still holds of every earlier
// bucket, so the total is exact as long as one isolate served the flood and
// no write failed (both true of a local workerd: a failed write is an ERROR
// line, checked). Waiting is cheaper than it looks: this runs last, after
// the other checks have used up most of the minute.
func (f *floodResult) countExactly(t *testing.T, sys *system) {
	wait := time.Until(time.Unix((f.last+1)*60, 0).Add(100 * time.Millisecond))
	t.Logf("waiting %v for the minute after the flood", wait.Round(time.Millisecond))
	time.Sleep(wait)
	for _, s := range f.sources {
		id, ip := s.header(s.sent)
		h := []string{"X-Service-ID", id, "CF-Connecting-IP", ip}
		if s.auth != "" {
			h = append(h, "Authorization", s.auth)
		}
		if r := get(t, sys.auth+"/api/telegram-auth/sessions/user/501", h...); r.Status != 401 {
			t.Errorf("a bad credential after the flood: %d %s", r.Status, r.Body)
		}
		s.sent++
	}
	extra := time.Now().Unix()/60 - f.last
	rows, attempts, _ := f.checkRows(t, sys, extra, 0)
	writes := sys.d1(t, "auth-telegram", "SELECT count(*) AS n FROM e2e_writes")[0]["n"].(float64)
	t.Logf("after the flood and one more refusal per source: %d rows hold %s attempts, after %v writes", rows, f.say(attempts), writes)
	for _, s := range f.sources {
		if attempts[s] != s.sent {
			t.Errorf("%s from %s: %d attempts counted, %d sent", s.wantCaller, s.ip, attempts[s], s.sent)
		}
	}
	if sys.Logs().Contains("counting refused authentications failed") {
		t.Error("auth-telegram could not write a count")
	}
}

// say lists attempts per source: "1+1+1".
func (f *floodResult) say(attempts map[*floodSource]int) string {
	parts := make([]string, len(f.sources))
	for i, s := range f.sources {
		parts[i] = fmt.Sprint(attempts[s])
	}
	return strings.Join(parts, "+")
}
