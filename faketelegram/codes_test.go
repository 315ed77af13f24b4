package faketelegram_test

import (
	"context"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/communicator/communicator/faketelegram"
)

func TestCodes(t *testing.T) {
	s := startServer(t)
	const phone = "15550101003"
	if c, ok := s.LastCode(phone); ok {
		t.Fatalf("LastCode before any code: %+v", c)
	}
	start := time.Now()
	run(t, newClient(t, s, ""), func(ctx context.Context, api *tg.Client) error {
		sendCode := func() (string, error) {
			sent, err := api.AuthSendCode(ctx, &tg.AuthSendCodeRequest{PhoneNumber: "+1 555 010 1003", APIID: 1, APIHash: "x"})
			if err != nil {
				return "", err
			}
			return sent.(*tg.AuthSentCode).PhoneCodeHash, nil
		}
		want := func(typ string, sends int) {
			t.Helper()
			c, ok := s.LastCode("+1 (555) 010-1003")
			if !ok || c.Phone != phone || c.Code != "01003" || c.Type != typ || c.Sends != sends || c.SentAt.Before(start) || time.Since(c.SentAt) > time.Minute {
				t.Errorf("LastCode = %+v %v, want %s code, %d sends", c, ok, typ, sends)
			}
		}
		hash, err := sendCode()
		if err != nil {
			return err
		}
		want(faketelegram.CodeTypeApp, 1)

		// auth.resendCode: by SMS, the same hash, no next type.
		res, err := api.AuthResendCode(ctx, &tg.AuthResendCodeRequest{PhoneNumber: phone, PhoneCodeHash: hash})
		if err != nil {
			return err
		}
		sent, ok := res.(*tg.AuthSentCode)
		if !ok || sent.PhoneCodeHash != hash || sent.NextType != nil {
			t.Errorf("resendCode = %+v", res)
		} else if typ, ok := sent.Type.(*tg.AuthSentCodeTypeSMS); !ok || typ.Length != 5 {
			t.Errorf("resendCode type = %#v", sent.Type)
		}
		want(faketelegram.CodeTypeSMS, 2)
		for _, tc := range []struct{ phone, hash, want string }{
			{"15550101004", hash, "PHONE_NUMBER_INVALID"},
			{phone, "nope", "PHONE_CODE_EXPIRED"},
			{phone, "", "PHONE_CODE_HASH_EMPTY"},
		} {
			_, err := api.AuthResendCode(ctx, &tg.AuthResendCodeRequest{PhoneNumber: tc.phone, PhoneCodeHash: tc.hash})
			if !tgerr.Is(err, tc.want) {
				t.Errorf("resendCode(%s, %q): %v, want %s", tc.phone, tc.hash, err, tc.want)
			}
		}
		want(faketelegram.CodeTypeSMS, 2)

		// auth.cancelCode: that hash is dead, the first one still works.
		cancelled, err := sendCode()
		if err != nil {
			return err
		}
		want(faketelegram.CodeTypeApp, 3)
		if _, err := api.AuthCancelCode(ctx, &tg.AuthCancelCodeRequest{PhoneNumber: "15550101004", PhoneCodeHash: cancelled}); !tgerr.Is(err, "PHONE_NUMBER_INVALID") {
			t.Errorf("cancelCode for another phone: %v", err)
		}
		if ok, err := api.AuthCancelCode(ctx, &tg.AuthCancelCodeRequest{PhoneNumber: phone, PhoneCodeHash: cancelled}); err != nil || !ok {
			t.Errorf("cancelCode = %v %v", ok, err)
		}
		if _, err := api.AuthSignIn(ctx, &tg.AuthSignInRequest{PhoneNumber: phone, PhoneCodeHash: cancelled, PhoneCode: "01003"}); !tgerr.Is(err, "PHONE_CODE_EXPIRED") {
			t.Errorf("signIn with a cancelled hash: %v", err)
		}
		if _, err := api.AuthResendCode(ctx, &tg.AuthResendCodeRequest{PhoneNumber: phone, PhoneCodeHash: cancelled}); !tgerr.Is(err, "PHONE_CODE_EXPIRED") {
			t.Errorf("resendCode with a cancelled hash: %v", err)
		}
		if _, err := api.AuthCancelCode(ctx, &tg.AuthCancelCodeRequest{PhoneNumber: phone, PhoneCodeHash: cancelled}); !tgerr.Is(err, "PHONE_CODE_EXPIRED") {
			t.Errorf("cancelCode twice: %v", err)
		}
		want(faketelegram.CodeTypeApp, 3)
		a, err := api.AuthSignIn(ctx, &tg.AuthSignInRequest{PhoneNumber: phone, PhoneCodeHash: hash, PhoneCode: "01003"})
		if err != nil {
			return err
		}
		if u := a.(*tg.AuthAuthorization).User.(*tg.User); u.ID != 1003 {
			t.Errorf("signed in as %d", u.ID)
		}
		return nil
	})
	if r, c := s.Calls("auth.resendCode"), s.Calls("auth.cancelCode"); r != 5 || c != 3 {
		t.Errorf("Calls: auth.resendCode %d, auth.cancelCode %d; want 5, 3", r, c)
	}
	if _, ok := s.LastCode("15550101001"); ok {
		t.Error("LastCode of a phone no code was sent to")
	}
}

// A key that logged out is told AUTH_KEY_UNREGISTERED from then on.
func TestLogOut(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sess, err := s.MintSession(ctx, 1003)
	if err != nil {
		t.Fatal(err)
	}
	run(t, newClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
		if _, err := self(ctx, api); err != nil {
			return err
		}
		out, err := api.AuthLogOut(ctx)
		if err != nil {
			return err
		}
		if out == nil || out.FutureAuthToken != nil {
			t.Errorf("logOut = %+v", out)
		}
		if _, err := self(ctx, api); !tgerr.Is(err, "AUTH_KEY_UNREGISTERED") {
			t.Errorf("after logOut: %v", err)
		}
		return nil
	})
	run(t, newClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
		if _, err := api.UpdatesGetState(ctx); !tgerr.Is(err, "AUTH_KEY_UNREGISTERED") {
			t.Errorf("the logged-out key on a new connection: %v", err)
		}
		return nil
	})
	if got := s.Calls("auth.logOut"); got != 1 {
		t.Errorf("Calls(auth.logOut) = %d", got)
	}
}
