package authhttp

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/telegramauth"
)

const testLoginID = "lgn_abcdefghijklmnopqrstuvwxyz"

func (f *fakeService) StartLogin(ctx context.Context, userID int64, phone string) (telegramauth.LoginStart, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "StartLogin"); err != nil {
		return telegramauth.LoginStart{}, err
	}
	return telegramauth.LoginStart{LoginID: testLoginID, CodeType: telegramauth.CodeTypeApp, ExpiresAt: f.now.Add(5 * time.Minute)}, nil
}

func (f *fakeService) CompleteLogin(ctx context.Context, loginID, code string) (telegramauth.LoginResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "CompleteLogin"); err != nil {
		return telegramauth.LoginResult{}, err
	}
	if code != "01002" {
		return telegramauth.LoginResult{}, &telegramauth.Error{Code: telegramauth.CodePhoneCodeInvalid, Message: "the code is wrong", Reason: "PHONE_CODE_INVALID"}
	}
	exp := f.now.Add(5 * time.Minute)
	return telegramauth.LoginResult{LoginID: loginID, Status: telegramauth.LoginPasswordNeeded, Hint: "xkcd", ExpiresAt: &exp}, nil
}

func (f *fakeService) SubmitPassword(ctx context.Context, loginID, password string) (telegramauth.LoginResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "SubmitPassword"); err != nil {
		return telegramauth.LoginResult{}, err
	}
	info := telegramauth.SessionInfo{SessionID: newSessionID(), UserID: 7, CreatedAt: f.now, ExpiresAt: f.now.Add(time.Hour), Status: telegramauth.StatusActive}
	return telegramauth.LoginResult{LoginID: loginID, Status: telegramauth.LoginDone, Session: &info}, nil
}

func (f *fakeService) ResendCode(ctx context.Context, loginID string) (telegramauth.LoginStart, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "ResendCode"); err != nil {
		return telegramauth.LoginStart{}, err
	}
	return telegramauth.LoginStart{LoginID: loginID, CodeType: telegramauth.CodeTypeSMS, ExpiresAt: f.now}, nil
}

func (f *fakeService) CancelLogin(ctx context.Context, loginID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.enter(ctx, "CancelLogin")
}

func (f *fakeService) StartQRLogin(ctx context.Context, userID int64) (telegramauth.QRLogin, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "StartQRLogin"); err != nil {
		return telegramauth.QRLogin{}, err
	}
	return telegramauth.QRLogin{LoginID: testLoginID, URL: "tg://login?token=AAA", ExpiresAt: f.now}, nil
}

func (f *fakeService) PollLogin(ctx context.Context, loginID string) (telegramauth.LoginResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "PollLogin"); err != nil {
		return telegramauth.LoginResult{}, err
	}
	return telegramauth.LoginResult{LoginID: loginID, Status: telegramauth.LoginWaiting, URL: "tg://login?token=BBB"}, nil
}

func (f *fakeService) ReportSessionRejected(ctx context.Context, sessionID, reason string) (telegramauth.SessionInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "ReportSessionRejected"); err != nil {
		return telegramauth.SessionInfo{}, err
	}
	return telegramauth.SessionInfo{SessionID: sessionID, UserID: 7, CreatedAt: f.now, ExpiresAt: f.now, Status: telegramauth.StatusRejected, RejectedReason: reason}, nil
}

// The client drives every login route of the server, and Telegram's
// refusals keep their reason and retryAfter across HTTP.
func TestLoginRoutesRoundTrip(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	ctx := context.Background()
	start, err := c.StartLogin(ctx, 7, "+1 555 010 1002")
	if err != nil || start.LoginID != testLoginID || start.CodeType != "app" {
		t.Fatalf("start: %+v %v", start, err)
	}
	_, err = c.CompleteLogin(ctx, testLoginID, "99999")
	var e *telegramauth.Error
	if !errors.As(err, &e) || e.Code != telegramauth.CodePhoneCodeInvalid || e.Reason != "PHONE_CODE_INVALID" {
		t.Fatalf("wrong code: %v", err)
	}
	res, err := c.CompleteLogin(ctx, testLoginID, "01002")
	if err != nil || res.Status != telegramauth.LoginPasswordNeeded || res.Hint != "xkcd" || res.ExpiresAt == nil {
		t.Fatalf("code: %+v %v", res, err)
	}
	res, err = c.SubmitPassword(ctx, testLoginID, "hunter2")
	if err != nil || res.Status != telegramauth.LoginDone || res.Session == nil || res.Session.UserID != 7 {
		t.Fatalf("password: %+v %v", res, err)
	}
	if _, err := c.ResendCode(ctx, testLoginID); err != nil {
		t.Fatal(err)
	}
	if err := c.CancelLogin(ctx, testLoginID); err != nil {
		t.Fatal(err)
	}
	if q, err := c.StartQRLogin(ctx, 7); err != nil || q.URL != "tg://login?token=AAA" {
		t.Fatalf("qr: %+v %v", q, err)
	}
	if res, err := c.PollLogin(ctx, testLoginID); err != nil || res.Status != telegramauth.LoginWaiting {
		t.Fatalf("poll: %+v %v", res, err)
	}
	if info, err := c.ReportSessionRejected(ctx, newSessionID(), "AUTH_KEY_UNREGISTERED"); err != nil || info.Status != telegramauth.StatusRejected {
		t.Fatalf("report: %+v %v", info, err)
	}

	h.fake.setErr(&telegramauth.Error{Code: telegramauth.CodeFloodWait, Message: "wait", Reason: "FLOOD_WAIT", RetryAfter: 42})
	r := h.do(http.MethodPost, "/login/start", nil, strings.NewReader(`{"userId":7,"phone":"15550101002"}`))
	r.wantError(t, http.StatusTooManyRequests, telegramauth.CodeFloodWait)
	if r.header.Get("Retry-After") != "42" || !strings.Contains(r.body, `"reason":"FLOOD_WAIT"`) {
		t.Fatalf("flood wait: %s %v", r.body, r.header)
	}
	_, err = c.StartLogin(ctx, 7, "15550101002")
	if !errors.As(err, &e) || e.RetryAfter != 42 || e.Reason != "FLOOD_WAIT" {
		t.Fatalf("client's flood wait: %v", err)
	}
}

// Bad bodies of the login routes are refused before the service is called,
// naming what is wrong and quoting nothing of the body.
func TestLoginRoutesBadInput(t *testing.T) {
	h := newHarness(t)
	long := strings.Repeat("9", 5000)
	for _, c := range []struct {
		path, body string
		status     int
		want       string
	}{
		{"/login/start", `{"phone":"15550101002"}`, 400, "userId is required"},
		{"/login/start", `{"userId":"7","phone":"15550101002"}`, 400, "userId must be a JSON number"},
		{"/login/start", `{"userId":7}`, 400, "phone is required"},
		{"/login/start", `{"userId":7,"phone":15550101002}`, 400, "phone must be a JSON string"},
		{"/login/start", `{"userId":7,"phone":"1","phone":"2"}`, 400, "phone"},
		{"/login/start", `[7]`, 400, "JSON object"},
		{"/login/code", `{"loginId":"lgn_x","code":"01002"}`, 400, "loginId is not a login id"},
		{"/login/code", `{"loginId":"` + testLoginID + `"}`, 400, "code is required"},
		{"/login/password", `{"loginId":"` + testLoginID + `","password":null}`, 400, "password must be a JSON string"},
		{"/login/poll", `{}`, 400, "loginId is required"},
		{"/login/qr", `{"userId":0}`, 400, "userId must be positive"},
		{"/login/code", `{"loginId":"` + testLoginID + `","code":"` + long + `"}`, 413, ""},
		{"/sessions/ses_x/rejected", `{"reason":"AUTH_KEY_UNREGISTERED"}`, 400, "session"},
		{"/sessions/" + newSessionID() + "/rejected", `{}`, 400, "reason is required"},
	} {
		r := h.do(http.MethodPost, c.path, nil, strings.NewReader(c.body))
		if r.status != c.status || (c.want != "" && (r.env.Error == nil || !strings.Contains(r.env.Error.Message, c.want))) {
			t.Errorf("%s %s: %d %s, want %d %q", c.path, c.body, r.status, r.body, c.status, c.want)
		}
		if strings.Contains(r.body, "15550101002") || strings.Contains(r.body, "01002") {
			t.Errorf("%s: the answer quotes the body: %s", c.path, r.body)
		}
	}
	if n := h.fake.callCount(); n != 0 {
		t.Fatalf("the service was called %d times", n)
	}
	// GET is not a login route's method.
	h.do(http.MethodGet, "/login/start", nil, nil).wantError(t, http.StatusMethodNotAllowed, telegramauth.CodeInvalidArgument)
	// Without a key: 401, nothing called.
	h.do(http.MethodPost, "/login/start", map[string]string{}, strings.NewReader(`{"userId":7,"phone":"15550101002"}`)).
		wantError(t, http.StatusUnauthorized, telegramauth.CodeUnauthenticated)
}
