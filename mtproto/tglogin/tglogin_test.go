//go:build !js

package tglogin_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/internal/sqlitetest"
	"github.com/communicator/communicator/mtproto/sessionstring"
	"github.com/communicator/communicator/mtproto/tgclient"
	"github.com/communicator/communicator/mtproto/tglogin"
	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/vault"
)

var app = tgclient.App{ID: 17349, Hash: "344583e45741c457fe1862106095a5eb"}

const loginService = "login-app"

// rig is the vault on SQLite with the local Telegram behind tglogin.
type rig struct {
	t     *testing.T
	srv   *faketelegram.Server
	tc    *tgclient.Client
	vault *vault.Service
	ctx   context.Context // the login service calling
	logs  *bytes.Buffer
	mu    sync.Mutex
}

var (
	sharedOnce sync.Once
	shared     *faketelegram.Server
	sharedErr  error
)

func newRig(t *testing.T) *rig {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = faketelegram.Start(context.Background(), faketelegram.Options{}) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	srv := shared
	ep := srv.Endpoint()
	ep.Others = map[int]string{}
	for dc, addr := range srv.DCAddrs() {
		if dc != ep.DC {
			ep.Others[dc] = addr
		}
	}
	ep.Timeout = 20 * time.Second
	r := &rig{t: t, srv: srv, tc: tgclient.New(app, ep, (&net.Dialer{}).DialContext), logs: &bytes.Buffer{}}
	sealer, err := vault.NewSealer([]byte("PsmBOwd8xBd1028EPXxITK5NjC2xWvlYwOSJJi63Egs="), nil)
	if err != nil {
		t.Fatal(err)
	}
	pol := vault.DefaultPolicy()
	pol[string(telegramauth.ActionLogin)] = []string{loginService}
	r.vault, err = vault.New(sqlitetest.Open(t, "../../services/auth-telegram/migrations"), sealer, vault.Options{
		Policy: pol, Telegram: tglogin.New(r.tc, app), Logger: slog.New(slog.NewTextHandler(syncWriter{r}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.ctx = vault.WithCaller(context.Background(), vault.Caller{ServiceID: loginService, Channel: vault.ChannelServiceBinding})
	return r
}

type syncWriter struct{ r *rig }

func (w syncWriter) Write(p []byte) (int, error) {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	return w.r.logs.Write(p)
}

func code(t *testing.T, err error, want telegramauth.Code) *telegramauth.Error {
	t.Helper()
	var e *telegramauth.Error
	if !errors.As(err, &e) || e.Code != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	return e
}

// me calls users.getUsers(self) with the user's newest session, as the
// ingestor would.
func (r *rig) me(userID int64) int64 {
	r.t.Helper()
	ingestor := vault.WithCaller(context.Background(), vault.Caller{ServiceID: telegramauth.IngestorService, Channel: vault.ChannelServiceBinding})
	s, err := r.vault.GetSessionByUserID(ingestor, userID)
	if err != nil {
		r.t.Fatal(err)
	}
	sess, _, err := sessionstring.Parse(s.SessionString)
	if err != nil {
		r.t.Fatal(err)
	}
	var id int64
	err = r.tc.Run(context.Background(), sess, func(ctx context.Context, api *tg.Client) error {
		users, err := api.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
		if err == nil && len(users) == 1 {
			id = users[0].(*tg.User).ID
		}
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

func TestLoginByCode(t *testing.T) {
	r := newRig(t)
	start, err := r.vault.StartLogin(r.ctx, 41, "+1 555 010 1003")
	if err != nil {
		t.Fatal(err)
	}
	if !telegramauth.ValidLoginID(start.LoginID) || start.CodeType != telegramauth.CodeTypeApp {
		t.Fatalf("start: %+v", start)
	}
	sent, ok := r.srv.LastCode("15550101003")
	if !ok {
		t.Fatal("no code was sent")
	}
	res, err := r.vault.CompleteLogin(r.ctx, start.LoginID, sent.Code)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != telegramauth.LoginDone || res.Session == nil || res.Session.UserID != 41 {
		t.Fatalf("complete: %+v", res)
	}
	if id := r.me(41); id != 1003 {
		t.Fatalf("the new session is Telegram user %d, want 1003", id)
	}
	// The login is over.
	_, err = r.vault.CompleteLogin(r.ctx, start.LoginID, sent.Code)
	code(t, err, telegramauth.CodeLoginNotFound)
}

func TestLoginWithPassword(t *testing.T) {
	r := newRig(t)
	start, err := r.vault.StartLogin(r.ctx, 42, "15550101002")
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.vault.CompleteLogin(r.ctx, start.LoginID, "01002")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != telegramauth.LoginPasswordNeeded || res.Hint != "xkcd" {
		t.Fatalf("complete: %+v", res)
	}
	_, err = r.vault.SubmitPassword(r.ctx, start.LoginID, "wrong")
	if e := code(t, err, telegramauth.CodePasswordHashInvalid); !strings.Contains(e.Message, "4 attempts left") || e.Reason != "PASSWORD_HASH_INVALID" {
		t.Fatal(e)
	}
	res, err = r.vault.SubmitPassword(r.ctx, start.LoginID, "correct horse battery staple")
	if err != nil || res.Status != telegramauth.LoginDone {
		t.Fatalf("password: %+v %v", res, err)
	}
	if id := r.me(42); id != 1002 {
		t.Fatalf("Telegram user %d, want 1002", id)
	}
	for _, secret := range []string{"correct horse", "wrong", "15550101002", "01002"} {
		if strings.Contains(r.logs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

func TestLoginMigrates(t *testing.T) {
	r := newRig(t)
	before := r.srv.KeyExchanges()
	start, err := r.vault.StartLogin(r.ctx, 43, "15550101005")
	if err != nil {
		t.Fatal(err)
	}
	// Ours on DC 2, then ours on DC 4: gotd did not follow PHONE_MIGRATE
	// with an exchange of its own.
	if n := r.srv.KeyExchanges() - before; n != 2 {
		t.Fatalf("%d key exchanges, want 2", n)
	}
	res, err := r.vault.CompleteLogin(r.ctx, start.LoginID, "01005")
	if err != nil || res.Status != telegramauth.LoginDone {
		t.Fatalf("%+v %v", res, err)
	}
	if id := r.me(43); id != 1005 {
		t.Fatalf("Telegram user %d, want 1005", id)
	}
	ingestor := vault.WithCaller(context.Background(), vault.Caller{ServiceID: telegramauth.IngestorService, Channel: vault.ChannelServiceBinding})
	s, _ := r.vault.GetSessionByUserID(ingestor, 43)
	sess, _, _ := sessionstring.Parse(s.SessionString)
	if sess.DC != 4 {
		t.Fatalf("the session is for data center %d, want 4", sess.DC)
	}
}

func TestLoginWrongCodes(t *testing.T) {
	r := newRig(t)
	start, err := r.vault.StartLogin(r.ctx, 44, "15550101004")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		_, err := r.vault.CompleteLogin(r.ctx, start.LoginID, "99999")
		code(t, err, telegramauth.CodePhoneCodeInvalid)
	}
	_, err = r.vault.CompleteLogin(r.ctx, start.LoginID, "99999")
	code(t, err, telegramauth.CodeLoginExpired)
	_, err = r.vault.CompleteLogin(r.ctx, start.LoginID, "01004")
	code(t, err, telegramauth.CodeLoginNotFound)
}

func TestLoginByQR(t *testing.T) {
	r := newRig(t)
	qr, err := r.vault.StartQRLogin(r.ctx, 45)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.vault.PollLogin(r.ctx, qr.LoginID)
	if err != nil || res.Status != telegramauth.LoginWaiting || !strings.HasPrefix(res.URL, "tg://login?token=") {
		t.Fatalf("poll: %+v %v", res, err)
	}
	if err := r.srv.ScanLoginToken(tokenOf(t, res.URL), 1003); err != nil {
		t.Fatal(err)
	}
	res, err = r.vault.PollLogin(r.ctx, qr.LoginID)
	if err != nil || res.Status != telegramauth.LoginDone {
		t.Fatalf("poll after the scan: %+v %v", res, err)
	}
	if id := r.me(45); id != 1003 {
		t.Fatalf("Telegram user %d, want 1003", id)
	}
}

func TestLoginByQRMigrates(t *testing.T) {
	r := newRig(t)
	qr, err := r.vault.StartQRLogin(r.ctx, 46)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.srv.ScanLoginToken(tokenOf(t, qr.URL), 1006); err != nil {
		t.Fatal(err)
	}
	res, err := r.vault.PollLogin(r.ctx, qr.LoginID)
	if err != nil || res.Status != telegramauth.LoginDone {
		t.Fatalf("poll after the scan: %+v %v", res, err)
	}
	if id := r.me(46); id != 1006 {
		t.Fatalf("Telegram user %d, want 1006", id)
	}
}

func TestConcurrentCompleteLogin(t *testing.T) {
	r := newRig(t)
	start, err := r.vault.StartLogin(r.ctx, 47, "15550101008")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = r.vault.CompleteLogin(r.ctx, start.LoginID, "01008")
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		if c := telegramauth.CodeOf(err); c != telegramauth.CodeLoginBusy && c != telegramauth.CodeLoginNotFound {
			t.Errorf("a losing step: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d steps won, want 1", won)
	}
	list, _ := r.vault.ListSessions(vault.WithCaller(context.Background(), vault.Caller{ServiceID: telegramauth.IngestorService, Channel: vault.ChannelServiceBinding}), 47)
	if len(list) != 1 {
		t.Fatalf("%d sessions stored, want 1", len(list))
	}
}

func TestRevokeLogsOut(t *testing.T) {
	r := newRig(t)
	start, err := r.vault.StartLogin(r.ctx, 48, "15550101009")
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.vault.CompleteLogin(r.ctx, start.LoginID, "01009")
	if err != nil {
		t.Fatal(err)
	}
	ingestor := vault.WithCaller(context.Background(), vault.Caller{ServiceID: telegramauth.IngestorService, Channel: vault.ChannelServiceBinding})
	s, _ := r.vault.GetSessionByUserID(ingestor, 48)
	sess, _, _ := sessionstring.Parse(s.SessionString)
	if _, err := r.vault.RevokeSession(ingestor, res.Session.SessionID); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.srv.LoggedIn(sess.AuthKeyID()); ok {
		t.Fatal("Telegram still knows the revoked session's key")
	}
	list, _ := r.vault.ListSessions(ingestor, 48)
	if list[0].TelegramLogout != telegramauth.LogoutConfirmed {
		t.Fatalf("logout %q", list[0].TelegramLogout)
	}
}

func tokenOf(t *testing.T, url string) []byte {
	t.Helper()
	tok, err := decodeToken(strings.TrimPrefix(url, "tg://login?token="))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func decodeToken(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func TestResendAndCancel(t *testing.T) {
	r := newRig(t)
	start, err := r.vault.StartLogin(r.ctx, 49, "15550101010")
	if err != nil {
		t.Fatal(err)
	}
	again, err := r.vault.ResendCode(r.ctx, start.LoginID)
	if err != nil || again.CodeType != telegramauth.CodeTypeSMS || again.LoginID != start.LoginID {
		t.Fatalf("resend: %+v %v", again, err)
	}
	if sent, _ := r.srv.LastCode("15550101010"); sent.Sends != 2 || sent.Type != "sms" {
		t.Fatalf("the local Telegram saw %+v", sent)
	}
	if err := r.vault.CancelLogin(r.ctx, start.LoginID); err != nil {
		t.Fatal(err)
	}
	if n := r.srv.Calls("auth.cancelCode"); n < 1 {
		t.Fatal("Telegram was not told")
	}
	_, err = r.vault.CompleteLogin(r.ctx, start.LoginID, "01010")
	code(t, err, telegramauth.CodeLoginNotFound)
}
