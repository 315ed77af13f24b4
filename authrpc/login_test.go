package authrpc

import (
	"context"
	"fmt"
	"strings"
	"testing"

	. "github.com/communicator/communicator/telegramauth"
)

func (f *fakeService) StartLogin(ctx context.Context, userID int64, phone string) (LoginStart, error) {
	f.calls = append(f.calls, fmt.Sprint("start ", userID, " ", len(phone)))
	return LoginStart{LoginID: "lgn_1", CodeType: CodeTypeApp, NextType: CodeTypeSMS, TimeoutSeconds: 60, ExpiresAt: expires}, f.err
}

func (f *fakeService) CompleteLogin(ctx context.Context, loginID, code string) (LoginResult, error) {
	f.calls = append(f.calls, "code "+loginID)
	return LoginResult{LoginID: loginID, Status: LoginPasswordNeeded, Hint: "xkcd", ExpiresAt: &expires}, f.err
}

func (f *fakeService) SubmitPassword(ctx context.Context, loginID, password string) (LoginResult, error) {
	f.calls = append(f.calls, "password "+loginID)
	info := SessionInfo{SessionID: "s-4", UserID: 7, CreatedAt: created, ExpiresAt: expires, Status: StatusActive}
	return LoginResult{LoginID: loginID, Status: LoginDone, Session: &info}, f.err
}

func (f *fakeService) ResendCode(ctx context.Context, loginID string) (LoginStart, error) {
	f.calls = append(f.calls, "resend "+loginID)
	return LoginStart{LoginID: loginID, CodeType: CodeTypeSMS, ExpiresAt: expires}, f.err
}

func (f *fakeService) CancelLogin(ctx context.Context, loginID string) error {
	f.calls = append(f.calls, "cancel "+loginID)
	return f.err
}

func (f *fakeService) StartQRLogin(ctx context.Context, userID int64) (QRLogin, error) {
	f.calls = append(f.calls, fmt.Sprint("qr ", userID))
	return QRLogin{LoginID: "lgn_2", URL: "tg://login?token=AAA", ExpiresAt: expires}, f.err
}

func (f *fakeService) PollLogin(ctx context.Context, loginID string) (LoginResult, error) {
	f.calls = append(f.calls, "poll "+loginID)
	return LoginResult{LoginID: loginID, Status: LoginWaiting, URL: "tg://login?token=BBB", ExpiresAt: &expires}, f.err
}

func (f *fakeService) ReportSessionRejected(ctx context.Context, sessionID, reason string) (SessionInfo, error) {
	f.calls = append(f.calls, "reject "+sessionID+" "+reason)
	return SessionInfo{SessionID: sessionID, UserID: 7, CreatedAt: created, ExpiresAt: expires, Status: StatusRejected, RejectedReason: reason}, f.err
}

// The login methods cross with their results as the .d.ts says; a flood
// wait keeps its reason and retryAfter as own properties of the error.
func TestLoginOverRPC(t *testing.T) {
	f := &fakeService{}
	h := NewServiceHandler(f)
	method := func(name string) int {
		for i := range serviceMethodNames {
			if ServiceMethod(i) == name {
				return i
			}
		}
		t.Fatalf("no method %s", name)
		return 0
	}
	for _, c := range []struct{ method, args, want string }{
		{"startLogin", `[7,"+15550101002"]`, `"loginId":"lgn_1","codeType":"app","nextType":"sms","timeoutSeconds":60`},
		{"completeLogin", `["lgn_1","01002"]`, `"status":"password_needed","hint":"xkcd"`},
		{"submitPassword", `["lgn_1","pw"]`, `"status":"done","session":{"sessionId":"s-4"`},
		{"startQrLogin", `[7]`, `"url":"tg://login?token=AAA"`},
		{"pollLogin", `["lgn_2"]`, `"status":"waiting"`},
		{"reportSessionRejected", `["ses_x","AUTH_KEY_UNREGISTERED"]`, `"status":"rejected","rejectedReason":"AUTH_KEY_UNREGISTERED"`},
	} {
		out, err := h.ServeRPC(context.Background(), method(c.method), []byte(c.args), nil)
		if err != nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%s: %s %v, want %s", c.method, out, err, c.want)
		}
	}
	if out, err := h.ServeRPC(context.Background(), method("cancelLogin"), []byte(`["lgn_1"]`), nil); err != nil {
		t.Errorf("cancelLogin: %s %v", out, err)
	}
	f.err = &Error{Code: CodeFloodWait, Message: "wait", Reason: "FLOOD_WAIT", RetryAfter: 30}
	_, err := h.ServeRPC(context.Background(), method("startLogin"), []byte(`[7,"1"]`), nil)
	js := string(h.AppendError(nil, err))
	if !strings.Contains(js, `"code":"FLOOD_WAIT"`) || !strings.Contains(js, `"reason":"FLOOD_WAIT","retryAfter":30`) {
		t.Fatalf("error: %s", js)
	}
}
