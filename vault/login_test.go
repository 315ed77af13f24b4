//go:build !js

package vault

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/mtproto/sessionstring"
	"github.com/communicator/communicator/telegramauth"
)

// scriptedTelegram is a Telegram whose answers a test sets; the real one
// (tglogin against the local Telegram) is tested in mtproto/tglogin and e2e.
type scriptedTelegram struct {
	calls  []string
	signIn error
	logOut error // what LogOut answers; nil: Telegram no longer knows the key
}

func (s *scriptedTelegram) NewKey(ctx context.Context, dc int) (TelegramKey, error) {
	s.calls = append(s.calls, "newKey")
	k, _ := testSession(uint64(len(s.calls)))
	return TelegramKey{Session: k, Salt: 7}, nil
}
func (s *scriptedTelegram) SendCode(ctx context.Context, k TelegramKey, phone string) (SentCode, error) {
	s.calls = append(s.calls, "sendCode "+phone)
	return SentCode{Hash: "hash-" + phone, Type: telegramauth.CodeTypeApp}, nil
}
func (s *scriptedTelegram) ResendCode(ctx context.Context, k TelegramKey, phone, hash string) (SentCode, error) {
	return SentCode{Hash: hash, Type: telegramauth.CodeTypeSMS}, nil
}
func (s *scriptedTelegram) CancelCode(ctx context.Context, k TelegramKey, phone, hash string) error {
	s.calls = append(s.calls, "cancelCode")
	return nil
}
func (s *scriptedTelegram) SignIn(ctx context.Context, k TelegramKey, phone, hash, code string) (SignIn, error) {
	s.calls = append(s.calls, "signIn "+code)
	return SignIn{}, s.signIn
}
func (s *scriptedTelegram) CheckPassword(ctx context.Context, k TelegramKey, password string) error {
	return nil
}
func (s *scriptedTelegram) ExportLoginToken(ctx context.Context, k TelegramKey) (LoginToken, error) {
	return LoginToken{Token: []byte("token"), Expires: time.Now().Add(30 * time.Second)}, nil
}
func (s *scriptedTelegram) ImportLoginToken(ctx context.Context, k TelegramKey, token []byte) (LoginToken, error) {
	return LoginToken{Done: true}, nil
}
func (s *scriptedTelegram) LogOut(ctx context.Context, sess sessionstring.Session) error {
	s.calls = append(s.calls, "logOut")
	if s.logOut != nil {
		return s.logOut
	}
	return &TelegramError{Type: "AUTH_KEY_UNREGISTERED"}
}

var loginApp = WithCaller(context.Background(), Caller{ServiceID: "login-app", Channel: ChannelHTTP, ClientIP: "192.0.2.1"})

func loginFixture(t *testing.T) (*fixture, *scriptedTelegram) {
	tg := &scriptedTelegram{}
	pol := DefaultPolicy()
	pol[string(telegramauth.ActionLogin)] = []string{"login-app", "other-app"}
	f := newFixture(t, Options{Policy: pol, Telegram: tg})
	return f, tg
}

// Each bad input is answered with its code before Telegram is asked,
// writes one access-log row and no login, and quotes nothing of the input.
func TestLoginBadInput(t *testing.T) {
	f, tg := loginFixture(t)
	start := func(phone string, want telegramauth.Code, msg string) {
		t.Helper()
		n := f.logCount()
		_, err := f.svc.StartLogin(loginApp, 5, phone)
		if e := f.wantErr(err, want); !strings.Contains(e.Message, msg) || (len(phone) > 3 && strings.Contains(e.Message, phone)) {
			t.Fatalf("phone %q: %v", phone, e)
		}
		f.lastLog(n)
	}
	start("", telegramauth.CodePhoneNumberInvalid, "phone is empty")
	start("+1 555 abc", telegramauth.CodePhoneNumberInvalid, "only digits")
	start("12345", telegramauth.CodePhoneNumberInvalid, "5 digits")
	start(strings.Repeat("1", 16), telegramauth.CodePhoneNumberInvalid, "16 digits")
	start(strings.Repeat("1", 100), telegramauth.CodePhoneNumberInvalid, "100 bytes")
	start("0044 20 7946 0000", telegramauth.CodePhoneNumberInvalid, "country code")
	start("1555+0101002", telegramauth.CodePhoneNumberInvalid, "only digits")
	_, err := f.svc.StartLogin(loginApp, 0, "15550101002")
	f.wantErr(err, telegramauth.CodeInvalidArgument)
	_, err = f.svc.StartLogin(ingestor, 5, "15550101002")
	f.wantErr(err, telegramauth.CodeForbidden)
	if len(tg.calls) != 0 {
		t.Fatalf("Telegram was asked: %v", tg.calls)
	}

	s, err := f.svc.StartLogin(loginApp, 5, "+1 (555) 010-1002")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.logRows(); got[len(got)-1].Action != string(telegramauth.ActionStartLogin) {
		t.Fatal(got[len(got)-1])
	}
	for _, c := range []struct {
		code, msg string
	}{{"", "code is empty"}, {strings.Repeat("1", 100), "a login code has 5 or 6"}, {"12a45", "only digits"}, {"12", "2 digits"}} {
		_, err := f.svc.CompleteLogin(loginApp, s.LoginID, c.code)
		if e := f.wantErr(err, telegramauth.CodeInvalidArgument); !strings.Contains(e.Message, c.msg) {
			t.Fatalf("code %q: %v", c.code, e)
		}
	}
	for _, id := range []string{"", "lgn_x", s.LoginID + "a", "ses_" + s.LoginID[4:]} {
		_, err := f.svc.CompleteLogin(loginApp, id, "01002")
		f.wantErr(err, telegramauth.CodeInvalidArgument)
	}
	// A well-formed id no login has, and another service's login.
	_, err = f.svc.CompleteLogin(loginApp, "lgn_"+strings.Repeat("a", 26), "01002")
	f.wantErr(err, telegramauth.CodeLoginNotFound)
	other := WithCaller(context.Background(), Caller{ServiceID: "other-app", Channel: ChannelHTTP})
	_, err = f.svc.CompleteLogin(other, s.LoginID, "01002")
	f.wantErr(err, telegramauth.CodeLoginNotFound)
	_, err = f.svc.SubmitPassword(loginApp, s.LoginID, "")
	f.wantErr(err, telegramauth.CodeInvalidArgument)
	_, err = f.svc.SubmitPassword(loginApp, s.LoginID, "pw")
	f.wantErr(err, telegramauth.CodeInvalidArgument) // the login waits for a code
	_, err = f.svc.PollLogin(loginApp, s.LoginID)
	f.wantErr(err, telegramauth.CodeInvalidArgument) // not a QR login
	for _, c := range tg.calls {
		if strings.HasPrefix(c, "signIn") {
			t.Fatalf("Telegram was asked to sign in: %v", tg.calls)
		}
	}
	// Nothing of the phone in the log or the stored row but its last four digits.
	if n := f.column("SELECT count(*) FROM logins"); n != int64(1) {
		t.Fatalf("%v logins stored", n)
	}
	sealed := f.column("SELECT sealed FROM logins").([]byte)
	if bytes.Contains(sealed, []byte("15550101002")) || bytes.Contains(sealed, []byte("hash-")) {
		t.Fatal("the login's state is stored in the clear")
	}
	if d := f.column("SELECT detail FROM access_log WHERE action = 'start_login' AND success = 1"); !strings.HasSuffix(d.(string), "phone …1002") {
		t.Fatalf("detail %q", d)
	}
	if strings.Contains(f.logBuf.String(), "15550101002") {
		t.Fatal("the phone is in the log")
	}
}

// One live login per user and phone: a new start replaces the old one.
func TestLoginReplacedByANewStart(t *testing.T) {
	f, _ := loginFixture(t)
	a, err := f.svc.StartLogin(loginApp, 5, "15550101002")
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.svc.StartLogin(loginApp, 5, "+15550101002")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.StartLogin(loginApp, 6, "15550101002"); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CompleteLogin(loginApp, a.LoginID, "01002")
	f.wantErr(err, telegramauth.CodeLoginNotFound)
	if n := f.column("SELECT count(*) FROM logins"); n != int64(2) {
		t.Fatalf("%v logins", n)
	}
	if _, err := f.svc.CompleteLogin(loginApp, b.LoginID, "01002"); err != nil {
		t.Fatal(err)
	}
}

// A login ends with its lifetime, and its row is deleted.
func TestLoginExpires(t *testing.T) {
	f, tg := loginFixture(t)
	s, err := f.svc.StartLogin(loginApp, 5, "15550101002")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.t = f.clock.t.Add(DefaultLoginLifetime)
	_, err = f.svc.CompleteLogin(loginApp, s.LoginID, "01002")
	f.wantErr(err, telegramauth.CodeLoginExpired)
	if n := f.column("SELECT count(*) FROM logins"); n != int64(0) {
		t.Fatalf("%v logins left", n)
	}
	_, err = f.svc.CompleteLogin(loginApp, s.LoginID, "01002")
	f.wantErr(err, telegramauth.CodeLoginNotFound)
	if strings.Contains(strings.Join(tg.calls, ","), "signIn") {
		t.Fatal("an expired login reached Telegram")
	}
	// The daily job deletes the ones nobody touched.
	if _, err := f.svc.StartLogin(loginApp, 5, "15550101002"); err != nil {
		t.Fatal(err)
	}
	f.clock.t = f.clock.t.Add(DefaultLoginLifetime)
	if n, err := f.svc.PruneLogins(context.Background()); err != nil || n != 1 {
		t.Fatalf("pruned %d: %v", n, err)
	}
}

// A login's state opens only as that login's: moved to another login's row
// (or read as a session), it does not open, and the login ends.
func TestLoginStateBoundToItsRow(t *testing.T) {
	f, _ := loginFixture(t)
	a, _ := f.svc.StartLogin(loginApp, 5, "15550101002")
	b, _ := f.svc.StartLogin(loginApp, 5, "15550101003")
	if _, err := f.db.Exec("UPDATE logins SET sealed = (SELECT sealed FROM logins WHERE id = ?) WHERE id = ?", a.LoginID, b.LoginID); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.CompleteLogin(loginApp, b.LoginID, "01003")
	f.wantErr(err, telegramauth.CodeInternal)
	if n := f.column("SELECT count(*) FROM logins WHERE id = ?", b.LoginID); n != int64(0) {
		t.Fatal("a login whose state does not open was kept")
	}
	if !strings.Contains(f.logBuf.String(), "does not open") {
		t.Fatal("not reported")
	}
}

// Wrong codes count; the fifth ends the login, and no session is stored.
func TestLoginAttempts(t *testing.T) {
	f, tg := loginFixture(t)
	tg.signIn = &TelegramError{Type: "PHONE_CODE_INVALID"}
	s, _ := f.svc.StartLogin(loginApp, 5, "15550101002")
	for i := 1; i < telegramauth.MaxLoginAttempts; i++ {
		_, err := f.svc.CompleteLogin(loginApp, s.LoginID, "11111")
		if e := f.wantErr(err, telegramauth.CodePhoneCodeInvalid); e.Reason != "PHONE_CODE_INVALID" {
			t.Fatal(e)
		}
	}
	_, err := f.svc.CompleteLogin(loginApp, s.LoginID, "11111")
	f.wantErr(err, telegramauth.CodeLoginExpired)
	if n := f.column("SELECT count(*) FROM sessions"); n != int64(0) {
		t.Fatal("a session was stored")
	}
	tg.signIn = &TelegramError{Type: "FLOOD_WAIT", Arg: 30}
	s, _ = f.svc.StartLogin(loginApp, 5, "15550101002")
	_, err = f.svc.CompleteLogin(loginApp, s.LoginID, "01002")
	if e := f.wantErr(err, telegramauth.CodeFloodWait); e.RetryAfter != 30 {
		t.Fatal(e)
	}
	// A flood wait does not count, and frees the login for the next step.
	tg.signIn = nil
	if res, err := f.svc.CompleteLogin(loginApp, s.LoginID, "01002"); err != nil || res.Status != telegramauth.LoginDone {
		t.Fatalf("%+v %v", res, err)
	}
}

// A rejected session is never handed out again, and says why.
func TestReportSessionRejected(t *testing.T) {
	f, tg := loginFixture(t)
	_, str := testSession(3)
	info := f.importSession(ingestor, 9, str)

	_, err := f.svc.ReportSessionRejected(ingestor, info.SessionID, "not a reason")
	f.wantErr(err, telegramauth.CodeInvalidArgument)
	_, err = f.svc.ReportSessionRejected(ingestor, "ses_x", "AUTH_KEY_UNREGISTERED")
	f.wantErr(err, telegramauth.CodeInvalidArgument)
	_, err = f.svc.ReportSessionRejected(ingestor, "ses_"+strings.Repeat("a", 26), "AUTH_KEY_UNREGISTERED")
	f.wantErr(err, telegramauth.CodeSessionNotFound)
	_, err = f.svc.ReportSessionRejected(loginApp, info.SessionID, "AUTH_KEY_UNREGISTERED")
	f.wantErr(err, telegramauth.CodeForbidden)

	n := f.logCount()
	got, err := f.svc.ReportSessionRejected(ingestor, info.SessionID, "AUTH_KEY_UNREGISTERED")
	if err != nil || got.Status != telegramauth.StatusRejected || got.RejectedReason != "AUTH_KEY_UNREGISTERED" {
		t.Fatalf("%+v %v", got, err)
	}
	checkLog(t, f.lastLog(n), AccessLogEntry{SessionID: info.SessionID, UserID: 9, Caller: telegramauth.IngestorService,
		Action: string(telegramauth.ActionReportRejected), Success: true, Channel: ChannelServiceBinding})
	// Reported again with another reason: the first stands.
	if got, _ := f.svc.ReportSessionRejected(ingestor, info.SessionID, "SESSION_REVOKED"); got.RejectedReason != "AUTH_KEY_UNREGISTERED" {
		t.Fatal(got)
	}
	_, err = f.svc.GetSessionByUserID(ingestor, 9)
	if e := f.wantErr(err, telegramauth.CodeSessionRejected); e.Reason != "AUTH_KEY_UNREGISTERED" || e.SessionID != info.SessionID {
		t.Fatal(e)
	}
	// Revoking it asks Telegram to log out; a key Telegram no longer knows is logged out.
	if _, err := f.svc.RevokeSession(ingestor, info.SessionID); err != nil {
		t.Fatal(err)
	}
	list, _ := f.svc.ListSessions(ingestor, 9)
	if list[0].Status != telegramauth.StatusRevoked || list[0].TelegramLogout != telegramauth.LogoutConfirmed || !strings.Contains(strings.Join(tg.calls, ","), "logOut") {
		t.Fatalf("%+v %v", list[0], tg.calls)
	}
}

// A revoked session's telegramLogout: pending while the daily job will ask
// Telegram again, confirmed once Telegram answers, and unconfirmed once
// nothing will ask: its 7 days of retries are over, or the vault has no
// Telegram at all (it used to say pending there for ever).
func TestTelegramLogoutStates(t *testing.T) {
	f, tg := loginFixture(t)
	logout := func(svc *Service, user int64) string {
		t.Helper()
		list, err := svc.ListSessions(ingestor, user)
		if err != nil || len(list) != 1 {
			t.Fatalf("%+v %v", list, err)
		}
		return list[0].TelegramLogout
	}
	revoke := func(user int64) {
		t.Helper()
		_, str := testSession(uint64(user))
		info := f.importSession(ingestor, user, str)
		if got := logout(f.svc, user); got != "" {
			t.Fatalf("an active session's telegramLogout is %q", got)
		}
		if _, err := f.svc.RevokeSession(ingestor, info.SessionID); err != nil {
			t.Fatal(err)
		}
	}

	tg.logOut = errors.New("connection reset") // Telegram does not answer
	revoke(21)
	if got := logout(f.svc, 21); got != telegramauth.LogoutPending {
		t.Fatalf("after a failed logOut: %q, want pending", got)
	}
	f.clock.Advance(24 * time.Hour)
	if confirmed, pending, err := f.svc.RetryLogouts(context.Background(), 20); err != nil || confirmed != 0 || pending != 1 {
		t.Fatalf("RetryLogouts = %d, %d, %v; want 0 confirmed, 1 pending", confirmed, pending, err)
	}
	if got := logout(f.svc, 21); got != telegramauth.LogoutPending {
		t.Fatalf("a day later: %q, want pending", got)
	}
	// Without Telegram (no credentials), nothing will ask.
	noTelegram := f.service(mustSealer(t, secretA, nil), Options{})
	if got := logout(noTelegram, 21); got != telegramauth.LogoutUnconfirmed {
		t.Fatalf("in a vault without Telegram: %q, want unconfirmed", got)
	}
	// The last day of the window: still asked, still pending.
	f.clock.Advance(6*24*time.Hour - time.Minute)
	if _, pending, _ := f.svc.RetryLogouts(context.Background(), 20); pending != 1 || logout(f.svc, 21) != telegramauth.LogoutPending {
		t.Fatalf("on the 7th day: %d pending, %q", pending, logout(f.svc, 21))
	}
	// Past it: no longer asked, and the list says so.
	f.clock.Advance(2 * time.Minute)
	if confirmed, pending, err := f.svc.RetryLogouts(context.Background(), 20); err != nil || confirmed+pending != 0 {
		t.Fatalf("RetryLogouts past the window = %d, %d, %v; want nothing tried", confirmed, pending, err)
	}
	if got := logout(f.svc, 21); got != telegramauth.LogoutUnconfirmed {
		t.Fatalf("past the window: %q, want unconfirmed", got)
	}

	// Telegram answers the daily job: confirmed.
	revoke(22)
	tg.logOut = nil
	if confirmed, _, err := f.svc.RetryLogouts(context.Background(), 20); err != nil || confirmed != 1 {
		t.Fatalf("RetryLogouts = %d confirmed, %v; want 1", confirmed, err)
	}
	if got := logout(f.svc, 22); got != telegramauth.LogoutConfirmed {
		t.Fatalf("after Telegram confirmed: %q", got)
	}
	if got := logout(noTelegram, 22); got != telegramauth.LogoutConfirmed {
		t.Fatalf("a confirmed logout read by a vault without Telegram: %q", got)
	}
}

// A step finds its login and holds it in one statement. A login another
// step holds answers LOGIN_BUSY, logged against its user, and reaches no
// Telegram; once the hold has lapsed (a step that died), the next step runs.
func TestLoginStepHeld(t *testing.T) {
	f, tg := loginFixture(t)
	s, err := f.svc.StartLogin(loginApp, 5, "15550101002")
	if err != nil {
		t.Fatal(err)
	}
	if row, err := f.svc.store.holdLogin(context.Background(), s.LoginID, "login-app", f.clock.Now().UnixMilli(),
		f.clock.Now().Add(stepHold).UnixMilli()); err != nil || row == nil || row.ID != s.LoginID || row.UserID != 5 {
		t.Fatalf("holdLogin = %+v, %v", row, err)
	}
	calls := len(tg.calls)
	n := f.logCount()
	_, err = f.svc.CompleteLogin(loginApp, s.LoginID, "01002")
	f.wantErr(err, telegramauth.CodeLoginBusy)
	checkLog(t, f.lastLog(n), AccessLogEntry{UserID: 5, Caller: "login-app", Action: string(telegramauth.ActionCompleteLogin),
		Success: false, ErrorCode: telegramauth.CodeLoginBusy, Channel: ChannelHTTP, ClientIP: "192.0.2.1"})
	if d := f.column("SELECT detail FROM access_log WHERE error_code = 'LOGIN_BUSY'"); d != "login "+s.LoginID {
		t.Fatalf("detail %q", d)
	}
	// Another service's step does not learn that the login exists.
	other := WithCaller(context.Background(), Caller{ServiceID: "other-app", Channel: ChannelHTTP})
	_, err = f.svc.CompleteLogin(other, s.LoginID, "01002")
	f.wantErr(err, telegramauth.CodeLoginNotFound)
	if len(tg.calls) != calls {
		t.Fatalf("refused steps reached Telegram: %v", tg.calls[calls:])
	}

	f.clock.Advance(stepHold)
	if _, err := f.svc.CompleteLogin(loginApp, s.LoginID, "01002"); err != nil {
		t.Fatalf("after the hold lapsed: %v", err)
	}
	if n := f.column("SELECT count(*) FROM logins"); n != int64(0) {
		t.Fatalf("%v logins left after the login ended", n)
	}
}
