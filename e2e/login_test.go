package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communicator/communicator/authhttp"
	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/internal/devstack"
	"github.com/communicator/communicator/mtproto/sessionstring"
	"github.com/communicator/communicator/telegramauth"
)

// loginApp is the service that logs users in over auth-telegram's HTTP API;
// ops-service (the JavaScript caller's TELEGRAM_AUTH_OPS binding) does it over RPC.
const loginApp = "login-app"

// loginPolicy is auth-telegram's ACCESS_POLICY in these tests.
const loginPolicy = `{"get_session":["ingestor-service"],"list_sessions":["ingestor-service"],"revoke_session":["ingestor-service"],` +
	`"import_session":["ingestor-service"],"report":["ingestor-service"],"login":["login-app","ops-service"],"read_access_log":["login-app"]}`

// loginSystem is the system with auth-telegram talking to the local Telegram.
type loginSystem struct {
	*telegramSystem                  // the system and its local Telegram
	login           *authhttp.Client // login-app over HTTP
	appKey          string
}

func startLoginSystem(t *testing.T, fake *faketelegram.Server, state, secret, appKey string) *loginSystem {
	t.Helper()
	vars := fake.EndpointVars()
	vars["TELEGRAM_CALL_TIMEOUT"] = "10000"
	vars["TELEGRAM_API_ID"] = "17349"
	vars["TELEGRAM_API_HASH"] = "344583e45741c457fe1862106095a5eb"
	authVars := fake.EndpointVars()
	for k, v := range vars {
		authVars[k] = v
	}
	authVars["ACCESS_POLICY"] = loginPolicy
	sys := startSystem(t, systemOptions{
		ingestorVars: vars, authVars: authVars, authKeys: map[string]string{loginApp: appKey},
		stateDir: state, sessionSecret: secret,
	})
	c, err := authhttp.NewClient(authhttp.ClientConfig{Endpoint: sys.auth + "/api/telegram-auth", APIKey: appKey, ServiceID: loginApp, Timeout: time.Minute, Transport: http.DefaultTransport})
	if err != nil {
		t.Fatal(err)
	}
	return &loginSystem{telegramSystem: &telegramSystem{system: sys, tg: fake}, login: c, appKey: appKey}
}

func startFakeTelegram(t *testing.T) *faketelegram.Server {
	t.Helper()
	fake, err := faketelegram.Start(context.Background(), faketelegram.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	return fake
}

// code is the last code the local Telegram sent to the phone.
func (s *loginSystem) code(t *testing.T, phone string) string {
	t.Helper()
	c, ok := s.tg.LastCode(phone)
	if !ok {
		t.Fatalf("no code was sent to %s", phone)
	}
	return c.Code
}

// telegramUser is the Telegram account /telegram/me answers for the user,
// through the ingestor and the session auth-telegram hands it.
func (s *loginSystem) telegramUser(t *testing.T, userID int64) int64 {
	t.Helper()
	r, me, e := s.me(t, userID)
	if e != nil || r.Status != 200 {
		t.Fatalf("/telegram/me/%d: %d %s", userID, r.Status, r.Body)
	}
	return me.Telegram.ID
}

// handOut is the session string auth-telegram hands the ingestor; it joins
// the secrets no log may hold.
func (s *loginSystem) handOut(t *testing.T, userID int64) string {
	t.Helper()
	r := get(t, fmt.Sprintf("%s/api/telegram-auth/sessions/user/%d", s.auth, userID), s.authHeaders()...)
	var env struct {
		Data struct{ SessionString, SessionID string }
	}
	if r.json(t, &env); r.Status != 200 {
		t.Fatalf("hand-out of %d: %d %s", userID, r.Status, r.Body)
	}
	s.secrets = append(s.secrets, env.Data.SessionString)
	return env.Data.SessionString
}

func (s *loginSystem) sessions(t *testing.T, userID int64) []telegramauth.SessionInfo {
	t.Helper()
	r := get(t, fmt.Sprintf("%s/api/telegram-auth/sessions/list/%d", s.auth, userID), s.authHeaders()...)
	var env struct{ Data []telegramauth.SessionInfo }
	if r.json(t, &env); r.Status != 200 {
		t.Fatalf("list of %d: %d %s", userID, r.Status, r.Body)
	}
	return env.Data
}

// stored is every login and session row, to show that bad input changed
// nothing (one wrangler d1 call: each takes seconds).
func (s *loginSystem) stored(t *testing.T) string {
	rows := s.d1(t, "auth-telegram", "SELECT 'login' AS t, id, user_id, attempts, hex(sealed) AS sealed, expires_at FROM logins"+
		" UNION ALL SELECT 'session', id, user_id, revoked_at, hex(sealed), expires_at FROM sessions ORDER BY 1, 2")
	b, _ := json.Marshal(rows)
	return string(b)
}

// accessLog is the access log of a user, newest first, read over the HTTP
// API by login-app (which the test's policy lets read it).
func (s *loginSystem) accessLog(t *testing.T, userID int64) []telegramauth.AccessLogEntry {
	t.Helper()
	entries, err := s.login.AccessLog(context.Background(), telegramauth.AccessLogQuery{UserID: userID})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// logged finds the access-log entry of the user with the action.
func (s *loginSystem) logged(t *testing.T, userID int64, action telegramauth.Action, success bool) telegramauth.AccessLogEntry {
	t.Helper()
	for _, e := range s.accessLog(t, userID) {
		if e.Action == string(action) && e.Success == success {
			return e
		}
	}
	t.Fatalf("no %s row of user %d (success %v)", action, userID, success)
	return telegramauth.AccessLogEntry{}
}

func wantCode(t *testing.T, err error, code telegramauth.Code) *telegramauth.Error {
	t.Helper()
	var e *telegramauth.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("got %v, want %s", err, code)
	}
	return e
}

// TestLogin logs fixture users in through auth-telegram in workerd, against
// the local Telegram, and uses the sessions through the ingestor.
//
// It runs in parallel with a few short system tests (go test -parallel is
// the number of cores): each stack has its own ports, state and wrangler
// registry, and nothing here depends on timing but generous timeouts.
func TestLogin(t *testing.T) {
	t.Parallel()
	fake := startFakeTelegram(t)
	// The state directory and secrets outlive the stack: the last subtest
	// restarts it.
	state, secret, key := t.TempDir(), devstack.RandomHex(32), "login-app-"+devstack.RandomHex(16)
	s := startLoginSystem(t, fake, state, secret, key)
	ctx := context.Background()
	passwords := []string{"correct horse battery staple", "Tr0ub4dor&3"}
	phones := []string{"15550101003", "15550101002", "15550101005", "15550101004", "15550101008", "15550101009"}
	s.secrets = append(s.secrets, passwords...)
	s.secrets = append(s.secrets, phones...)
	t.Cleanup(func() {
		// Codes: as JSON or as a form value would carry them.
		for _, line := range s.Logs().Lines() {
			for _, c := range []string{`"01003"`, `"01002"`, `"01005"`, `"01004"`, `"01008"`, `=01003`} {
				if strings.Contains(line, c) {
					t.Errorf("a login code appears in the logs: %.160s", line)
				}
			}
		}
	})

	t.Run("CodeWithoutPassword", func(t *testing.T) {
		start, err := s.login.StartLogin(ctx, 301, "+1 555 010 1003")
		if err != nil {
			t.Fatal(err)
		}
		if start.CodeType != telegramauth.CodeTypeApp || !start.ExpiresAt.After(time.Now()) {
			t.Fatalf("start: %+v", start)
		}
		res, err := s.login.CompleteLogin(ctx, start.LoginID, s.code(t, "15550101003"))
		if err != nil || res.Status != telegramauth.LoginDone || res.Session == nil || res.Session.UserID != 301 {
			t.Fatalf("complete: %+v %v", res, err)
		}
		if id := s.telegramUser(t, 301); id != 1003 {
			t.Fatalf("/telegram/me/301 is Telegram user %d, want 1003", id)
		}
		s.handOut(t, 301)
		// The access log keeps the phone's last four digits and nothing more.
		if e := s.logged(t, 301, telegramauth.ActionStartLogin, true); e.Caller != loginApp || e.Detail != "login "+start.LoginID+", phone …1003" {
			t.Fatalf("access log: %+v", e)
		}
	})

	t.Run("TwoFactorWrongThenRightPassword", func(t *testing.T) {
		start, err := s.login.StartLogin(ctx, 302, "15550101002")
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.login.CompleteLogin(ctx, start.LoginID, s.code(t, "15550101002"))
		if err != nil || res.Status != telegramauth.LoginPasswordNeeded || res.Hint != "xkcd" {
			t.Fatalf("code: %+v %v", res, err)
		}
		_, err = s.login.SubmitPassword(ctx, start.LoginID, passwords[1])
		if e := wantCode(t, err, telegramauth.CodePasswordHashInvalid); e.Reason != "PASSWORD_HASH_INVALID" || !strings.Contains(e.Message, "4 attempts left") {
			t.Fatal(e)
		}
		res, err = s.login.SubmitPassword(ctx, start.LoginID, passwords[0])
		if err != nil || res.Status != telegramauth.LoginDone {
			t.Fatalf("password: %+v %v", res, err)
		}
		if id := s.telegramUser(t, 302); id != 1002 {
			t.Fatalf("Telegram user %d, want 1002", id)
		}
		s.handOut(t, 302)
	})

	t.Run("PhoneThatMigrates", func(t *testing.T) {
		before := fake.KeyExchanges()
		start, err := s.login.StartLogin(ctx, 303, "15550101005")
		if err != nil {
			t.Fatal(err)
		}
		if n := fake.KeyExchanges() - before; n != 2 {
			t.Fatalf("%d key exchanges, want 2 (data centers 2 and 4, both ours)", n)
		}
		if res, err := s.login.CompleteLogin(ctx, start.LoginID, s.code(t, "15550101005")); err != nil || res.Status != telegramauth.LoginDone {
			t.Fatalf("complete: %+v %v", res, err)
		}
		if id := s.telegramUser(t, 303); id != 1005 {
			t.Fatalf("Telegram user %d, want 1005", id)
		}
		sess, _, err := sessionstring.Parse(s.handOut(t, 303))
		if err != nil || sess.DC != 4 {
			t.Fatalf("stored for data center %d, want 4 (%v)", sess.DC, err)
		}
	})

	t.Run("QROverRPC", func(t *testing.T) {
		r := callJS(t, s.jscaller, "TELEGRAM_AUTH_OPS", "startQrLogin", 304)
		var qr telegramauth.QRLogin
		if !r.OK || json.Unmarshal(r.Value, &qr) != nil || !strings.HasPrefix(qr.URL, "tg://login?token=") {
			t.Fatalf("startQrLogin: %+v %s", r.Error, r.Value)
		}
		r = callJS(t, s.jscaller, "TELEGRAM_AUTH_OPS", "pollLogin", qr.LoginID)
		var res telegramauth.LoginResult
		if !r.OK || json.Unmarshal(r.Value, &res) != nil || res.Status != telegramauth.LoginWaiting {
			t.Fatalf("poll: %+v %s", r.Error, r.Value)
		}
		token, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(res.URL, "tg://login?token="))
		if err != nil {
			t.Fatal(err)
		}
		if err := fake.ScanLoginToken(token, 1003); err != nil {
			t.Fatal(err)
		}
		r = callJS(t, s.jscaller, "TELEGRAM_AUTH_OPS", "pollLogin", qr.LoginID)
		if !r.OK || json.Unmarshal(r.Value, &res) != nil || res.Status != telegramauth.LoginDone || res.Session.UserID != 304 {
			t.Fatalf("poll after the scan: %+v %s", r.Error, r.Value)
		}
		if id := s.telegramUser(t, 304); id != 1003 {
			t.Fatalf("Telegram user %d, want 1003", id)
		}
		s.handOut(t, 304)
		// login-app cannot continue ops-service's logins, nor the other way.
		_, err = s.login.PollLogin(ctx, qr.LoginID)
		wantCode(t, err, telegramauth.CodeLoginNotFound)
	})

	t.Run("Expiry", func(t *testing.T) {
		start, err := s.login.StartLogin(ctx, 305, "15550101004")
		if err != nil {
			t.Fatal(err)
		}
		// Time passes: the login's expiry is now in the past.
		s.d1(t, "auth-telegram", "UPDATE logins SET expires_at = created_at + 1 WHERE id = '"+start.LoginID+"'")
		_, err = s.login.CompleteLogin(ctx, start.LoginID, s.code(t, "15550101004"))
		wantCode(t, err, telegramauth.CodeLoginExpired)
		// Its row is gone: the next step does not find it.
		_, err = s.login.CompleteLogin(ctx, start.LoginID, s.code(t, "15550101004"))
		wantCode(t, err, telegramauth.CodeLoginNotFound)
	})

	t.Run("FiveWrongCodes", func(t *testing.T) {
		start, err := s.login.StartLogin(ctx, 306, "15550101004")
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < telegramauth.MaxLoginAttempts; i++ {
			_, err := s.login.CompleteLogin(ctx, start.LoginID, "99999")
			if e := wantCode(t, err, telegramauth.CodePhoneCodeInvalid); e.Reason != "PHONE_CODE_INVALID" {
				t.Fatal(e)
			}
		}
		_, err = s.login.CompleteLogin(ctx, start.LoginID, "99999")
		wantCode(t, err, telegramauth.CodeLoginExpired)
		_, err = s.login.CompleteLogin(ctx, start.LoginID, s.code(t, "15550101004"))
		wantCode(t, err, telegramauth.CodeLoginNotFound)
		if len(s.sessions(t, 306)) != 0 {
			t.Fatal("a session was stored")
		}
	})

	t.Run("ConcurrentCompleteOneWins", func(t *testing.T) {
		start, err := s.login.StartLogin(ctx, 307, "15550101008")
		if err != nil {
			t.Fatal(err)
		}
		code := s.code(t, "15550101008")
		errs := make([]error, 4)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.login.CompleteLogin(ctx, start.LoginID, code)
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch c := telegramauth.CodeOf(err); {
			case err == nil:
				won++
			case c != telegramauth.CodeLoginBusy && c != telegramauth.CodeLoginNotFound:
				t.Errorf("a losing step: %v", err)
			}
		}
		if won != 1 || len(s.sessions(t, 307)) != 1 {
			t.Fatalf("%d steps won, %d sessions stored; want 1 and 1", won, len(s.sessions(t, 307)))
		}
	})

	t.Run("BadInput", func(t *testing.T) {
		// A live login, to continue as another service.
		start, err := s.login.StartLogin(ctx, 308, "15550101009")
		if err != nil {
			t.Fatal(err)
		}
		before := s.stored(t)
		for _, phone := range []string{"", "abc", "12345", strings.Repeat("1", 16), "0044 20 7946 0000"} {
			_, err := s.login.StartLogin(ctx, 308, phone)
			wantCode(t, err, telegramauth.CodePhoneNumberInvalid)
		}
		_, err = s.login.StartLogin(ctx, 308, "15550109999") // no such account
		if e := wantCode(t, err, telegramauth.CodePhoneNumberInvalid); e.Reason == "" {
			t.Fatal("Telegram's reason is missing")
		}
		for _, c := range []string{"", strings.Repeat("7", 100)} {
			_, err := s.login.CompleteLogin(ctx, "lgn_"+strings.Repeat("a", 26), c)
			wantCode(t, err, telegramauth.CodeInvalidArgument)
		}
		for _, id := range []string{"", "lgn_", "ses_" + strings.Repeat("a", 26), "lgn_" + strings.Repeat("A", 26)} {
			_, err := s.login.CompleteLogin(ctx, id, "01002")
			wantCode(t, err, telegramauth.CodeInvalidArgument)
		}
		_, err = s.login.CompleteLogin(ctx, "lgn_"+strings.Repeat("a", 26), "01002")
		wantCode(t, err, telegramauth.CodeLoginNotFound)
		// Another service's login is not found, whoever's it is.
		if r := callJS(t, s.jscaller, "TELEGRAM_AUTH_OPS", "completeLogin", start.LoginID, "01009"); r.OK || r.Error.Code != "LOGIN_NOT_FOUND" {
			t.Fatalf("foreign login: %+v", r)
		}
		// A caller without the login permission: FORBIDDEN, whatever it sent.
		if r := callJS(t, s.jscaller, "TELEGRAM_AUTH", "startLogin", 308, "15550101009"); r.OK || r.Error.Code != "FORBIDDEN" {
			t.Fatalf("ingestor-service logging in: %+v", r)
		}
		// Oversized and malformed bodies.
		h := []string{"Authorization", "ApiKey " + s.appKey, "X-Service-ID", loginApp, "Content-Type", "application/json"}
		big := `{"loginId":"` + start.LoginID + `","code":"` + strings.Repeat("1", 8<<10) + `"}`
		if r := do(t, "POST", s.auth+"/api/telegram-auth/login/code", strings.NewReader(big), h...); r.Status != 413 {
			t.Fatalf("oversized body: %d %s", r.Status, r.Body)
		}
		if r := do(t, "POST", s.auth+"/api/telegram-auth/login/start", strings.NewReader(`{"userId":308,"phone":"1555","phone":"1"}`), h...); r.Status != 400 {
			t.Fatalf("a member twice: %d %s", r.Status, r.Body)
		}
		if r := do(t, "POST", s.auth+"/api/telegram-auth/login/code", bytes.NewReader(nil), h...); r.Status != 400 {
			t.Fatalf("empty body: %d %s", r.Status, r.Body)
		}
		if after := s.stored(t); after != before {
			t.Fatalf("bad input changed the logins or sessions:\n%s\n%s", before, after)
		}
		if err := s.login.CancelLogin(ctx, start.LoginID); err != nil {
			t.Fatal(err)
		}
		_, err = s.login.CompleteLogin(ctx, start.LoginID, "01009")
		wantCode(t, err, telegramauth.CodeLoginNotFound)
	})

	t.Run("RejectedSessionReported", func(t *testing.T) {
		// Telegram forgets 301's key; the ingestor's next call is refused,
		// and it tells auth-telegram, which stops handing the session out.
		if err := fake.RevokeSession(s.handOut(t, 301)); err != nil {
			t.Fatal(err)
		}
		r, _, e := s.me(t, 301)
		if r.Status != 410 || e == nil || e.Code != "TELEGRAM_SESSION_REJECTED" {
			t.Fatalf("/telegram/me/301: %d %s", r.Status, r.Body)
		}
		list := s.sessions(t, 301)
		if list[0].Status != telegramauth.StatusRejected || list[0].RejectedReason != "AUTH_KEY_UNREGISTERED" {
			t.Fatalf("after the report: %+v", list[0])
		}
		g := get(t, s.auth+"/api/telegram-auth/sessions/user/301", s.authHeaders()...)
		if g.Status != 410 || !contains(string(g.Body), `"SESSION_REJECTED"`) {
			t.Fatalf("hand-out of a rejected session: %d %s", g.Status, g.Body)
		}
		if e := s.logged(t, 301, telegramauth.ActionReportRejected, true); e.Caller != "ingestor-service" || e.Detail != "reason AUTH_KEY_UNREGISTERED" {
			t.Fatalf("access log: %+v", e)
		}
	})

	t.Run("RevocationLogsOut", func(t *testing.T) {
		list := s.sessions(t, 302)
		r := do(t, "DELETE", s.auth+"/api/telegram-auth/sessions/"+list[0].SessionID, nil, s.authHeaders()...)
		if r.Status != 200 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		if list := s.sessions(t, 302); list[0].TelegramLogout != telegramauth.LogoutConfirmed {
			t.Fatalf("after the revocation: %+v", list[0])
		}
		if r, _, _ := s.me(t, 302); r.Status != 404 && r.Status != 410 {
			t.Fatalf("/telegram/me/302 after the revocation: %d %s", r.Status, r.Body)
		}
	})

	// One login continued in a new workerd (a new isolate, as when steps
	// land on different ones): its state is in D1, not in memory.
	t.Run("ContinuedAcrossARestart", func(t *testing.T) {
		start, err := s.login.StartLogin(ctx, 401, "15550101007")
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.login.CompleteLogin(ctx, start.LoginID, s.code(t, "15550101007"))
		if err != nil || res.Status != telegramauth.LoginPasswordNeeded || res.Hint != "open" {
			t.Fatalf("code: %+v %v", res, err)
		}
		s.Stop()

		// auth-telegram alone on the same state: a new workerd, a new isolate.
		vars := fake.EndpointVars()
		vars["SESSION_SECRET"], vars["ACCESS_POLICY"], vars["TELEGRAM_CALL_TIMEOUT"] = secret, loginPolicy, "10000"
		vars["TELEGRAM_API_ID"], vars["TELEGRAM_API_HASH"] = "17349", "344583e45741c457fe1862106095a5eb"
		v := startVault(t, state, vars, map[string]string{loginApp: key, "ingestor-service": "e2e-" + devstack.RandomHex(16)})
		password := "sesame-🔑 öffne dich"
		v.secrets = append(v.secrets, password, "15550101007")
		c, err := authhttp.NewClient(authhttp.ClientConfig{Endpoint: v.auth + "/api/telegram-auth", APIKey: key, ServiceID: loginApp,
			Timeout: time.Minute, Transport: http.DefaultTransport})
		if err != nil {
			t.Fatal(err)
		}
		res, err = c.SubmitPassword(ctx, start.LoginID, password)
		if err != nil || res.Status != telegramauth.LoginDone {
			t.Fatalf("password after the restart: %+v %v", res, err)
		}
		// The session handed out is logged in at Telegram as 1007.
		str, r := v.getSession(t, 401)
		if r.Status != 200 {
			t.Fatalf("hand-out after the restart: %d %s", r.Status, r.Body)
		}
		v.secrets = append(v.secrets, str)
		sess, _, err := sessionstring.Parse(str)
		if err != nil {
			t.Fatal(err)
		}
		if id, ok := fake.LoggedIn(sess.AuthKeyID()); !ok || id != 1007 {
			t.Fatalf("the new session is logged in as %d (%v), want 1007", id, ok)
		}
	})
}
