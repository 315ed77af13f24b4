// Package tglogin is vault.Telegram over gotd: the steps of a login and the
// logout of a revoked session, each one unit of work of tgclient (its own
// connection, bounded by the endpoint's timeout), with keys made by our own
// exchange (tgclient.NewKey, package authkey).
package tglogin

import (
	"context"
	"errors"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/communicator/communicator/mtproto/sessionstring"
	"github.com/communicator/communicator/mtproto/tgclient"
	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/vault"
)

// Telegram implements vault.Telegram with c as the application app.
type Telegram struct {
	c   *tgclient.Client
	app tgclient.App
}

var _ vault.Telegram = (*Telegram)(nil)

// New returns the vault's Telegram over c.
func New(c *tgclient.Client, app tgclient.App) *Telegram { return &Telegram{c: c, app: app} }

// NewKey implements vault.Telegram.
func (t *Telegram) NewKey(ctx context.Context, dc int) (vault.TelegramKey, error) {
	s, salt, err := t.c.NewKey(ctx, dc)
	if err != nil {
		return vault.TelegramKey{}, convert(err)
	}
	return vault.TelegramKey{Session: s, Salt: salt}, nil
}

// run is one unit of work with the key.
func (t *Telegram) run(ctx context.Context, k vault.TelegramKey, f func(ctx context.Context, api *tg.Client) error) error {
	return convert(t.c.RunWithSalt(ctx, k.Session, k.Salt, f))
}

// SendCode implements vault.Telegram.
func (t *Telegram) SendCode(ctx context.Context, k vault.TelegramKey, phone string) (vault.SentCode, error) {
	var sent vault.SentCode
	err := t.run(ctx, k, func(ctx context.Context, api *tg.Client) error {
		res, err := api.AuthSendCode(ctx, &tg.AuthSendCodeRequest{PhoneNumber: phone, APIID: t.app.ID, APIHash: t.app.Hash})
		if err != nil {
			return err
		}
		sent, err = sentCode(res)
		return err
	})
	return sent, err
}

// ResendCode implements vault.Telegram.
func (t *Telegram) ResendCode(ctx context.Context, k vault.TelegramKey, phone, hash string) (vault.SentCode, error) {
	var sent vault.SentCode
	err := t.run(ctx, k, func(ctx context.Context, api *tg.Client) error {
		res, err := api.AuthResendCode(ctx, &tg.AuthResendCodeRequest{PhoneNumber: phone, PhoneCodeHash: hash})
		if err != nil {
			return err
		}
		sent, err = sentCode(res)
		return err
	})
	return sent, err
}

// CancelCode implements vault.Telegram.
func (t *Telegram) CancelCode(ctx context.Context, k vault.TelegramKey, phone, hash string) error {
	return t.run(ctx, k, func(ctx context.Context, api *tg.Client) error {
		_, err := api.AuthCancelCode(ctx, &tg.AuthCancelCodeRequest{PhoneNumber: phone, PhoneCodeHash: hash})
		return err
	})
}

// SignIn implements vault.Telegram. SESSION_PASSWORD_NEEDED is not an
// error: the answer says so, with the password's hint.
func (t *Telegram) SignIn(ctx context.Context, k vault.TelegramKey, phone, hash, code string) (vault.SignIn, error) {
	var in vault.SignIn
	err := t.run(ctx, k, func(ctx context.Context, api *tg.Client) error {
		res, err := api.AuthSignIn(ctx, &tg.AuthSignInRequest{PhoneNumber: phone, PhoneCodeHash: hash, PhoneCode: code})
		if tgerr.Is(err, "SESSION_PASSWORD_NEEDED") {
			in.PasswordNeeded = true
			in.Hint, err = hint(ctx, api)
			return err
		}
		if err != nil {
			return err
		}
		return authorized(res)
	})
	return in, err
}

// CheckPassword implements vault.Telegram: account.getPassword, the SRP
// proof of the password (srpAnswer), auth.checkPassword.
func (t *Telegram) CheckPassword(ctx context.Context, k vault.TelegramKey, password string) error {
	return t.run(ctx, k, func(ctx context.Context, api *tg.Client) error {
		p, err := api.AccountGetPassword(ctx)
		if err != nil {
			return err
		}
		if p.CurrentAlgo == nil {
			return &vault.TelegramError{Type: "PASSWORD_NOT_SET"}
		}
		proof, err := srpAnswer(ctx, []byte(password), p)
		if err != nil {
			return err // not Telegram's refusal: its parameters are not what the protocol allows
		}
		res, err := api.AuthCheckPassword(ctx, proof)
		if err != nil {
			return err
		}
		return authorized(res)
	})
}

// ExportLoginToken implements vault.Telegram.
func (t *Telegram) ExportLoginToken(ctx context.Context, k vault.TelegramKey) (vault.LoginToken, error) {
	var tok vault.LoginToken
	err := t.run(ctx, k, func(ctx context.Context, api *tg.Client) error {
		res, err := api.AuthExportLoginToken(ctx, &tg.AuthExportLoginTokenRequest{APIID: t.app.ID, APIHash: t.app.Hash})
		tok, err = loginToken(ctx, api, res, err)
		return err
	})
	return tok, err
}

// ImportLoginToken implements vault.Telegram.
func (t *Telegram) ImportLoginToken(ctx context.Context, k vault.TelegramKey, token []byte) (vault.LoginToken, error) {
	var tok vault.LoginToken
	err := t.run(ctx, k, func(ctx context.Context, api *tg.Client) error {
		res, err := api.AuthImportLoginToken(ctx, token)
		tok, err = loginToken(ctx, api, res, err)
		return err
	})
	return tok, err
}

// LogOut implements vault.Telegram.
func (t *Telegram) LogOut(ctx context.Context, s sessionstring.Session) error {
	return t.run(ctx, vault.TelegramKey{Session: s}, func(ctx context.Context, api *tg.Client) error {
		_, err := api.AuthLogOut(ctx)
		return err
	})
}

// loginToken reads an export's or import's answer.
func loginToken(ctx context.Context, api *tg.Client, res tg.AuthLoginTokenClass, err error) (vault.LoginToken, error) {
	if tgerr.Is(err, "SESSION_PASSWORD_NEEDED") {
		h, err := hint(ctx, api)
		return vault.LoginToken{PasswordNeeded: true, Hint: h}, err
	}
	if err != nil {
		return vault.LoginToken{}, err
	}
	switch v := res.(type) {
	case *tg.AuthLoginToken:
		return vault.LoginToken{Token: v.Token, Expires: time.Unix(int64(v.Expires), 0)}, nil
	case *tg.AuthLoginTokenMigrateTo:
		return vault.LoginToken{Token: v.Token, MigrateDC: v.DCID}, nil
	case *tg.AuthLoginTokenSuccess:
		return vault.LoginToken{Done: true}, authorized(v.Authorization)
	}
	return vault.LoginToken{}, errors.New("Telegram answered the login token with an unknown type")
}

// hint reads the 2FA password's hint.
func hint(ctx context.Context, api *tg.Client) (string, error) {
	p, err := api.AccountGetPassword(ctx)
	if err != nil {
		return "", err
	}
	h, _ := p.GetHint()
	return h, nil
}

// authorized checks that an authorization logged the key in.
func authorized(res tg.AuthAuthorizationClass) error {
	switch res.(type) {
	case *tg.AuthAuthorization:
		return nil
	case *tg.AuthAuthorizationSignUpRequired:
		return &vault.TelegramError{Type: "PHONE_NUMBER_UNOCCUPIED"}
	}
	return errors.New("Telegram answered the sign-in with an unknown type")
}

// sentCode reads auth.sentCode.
func sentCode(res tg.AuthSentCodeClass) (vault.SentCode, error) {
	v, ok := res.(*tg.AuthSentCode)
	if !ok {
		return vault.SentCode{}, errors.New("Telegram answered the code request with a type this client does not handle")
	}
	sent := vault.SentCode{Hash: v.PhoneCodeHash, Type: codeType(v.Type)}
	if next, ok := v.GetNextType(); ok {
		sent.NextType = nextType(next)
	}
	if s, ok := v.GetTimeout(); ok {
		sent.Timeout = time.Duration(s) * time.Second
	}
	return sent, nil
}

func codeType(t tg.AuthSentCodeTypeClass) string {
	switch t.(type) {
	case *tg.AuthSentCodeTypeApp:
		return telegramauth.CodeTypeApp
	case *tg.AuthSentCodeTypeSMS:
		return telegramauth.CodeTypeSMS
	case *tg.AuthSentCodeTypeCall:
		return telegramauth.CodeTypeCall
	case *tg.AuthSentCodeTypeFlashCall:
		return telegramauth.CodeTypeFlashCall
	case *tg.AuthSentCodeTypeMissedCall:
		return telegramauth.CodeTypeMissed
	case *tg.AuthSentCodeTypeEmailCode:
		return telegramauth.CodeTypeEmail
	case *tg.AuthSentCodeTypeFragmentSMS:
		return telegramauth.CodeTypeFragment
	}
	return telegramauth.CodeTypeOther
}

func nextType(t tg.AuthCodeTypeClass) string {
	switch t.(type) {
	case *tg.AuthCodeTypeSMS:
		return telegramauth.CodeTypeSMS
	case *tg.AuthCodeTypeCall:
		return telegramauth.CodeTypeCall
	case *tg.AuthCodeTypeFlashCall:
		return telegramauth.CodeTypeFlashCall
	case *tg.AuthCodeTypeMissedCall:
		return telegramauth.CodeTypeMissed
	case *tg.AuthCodeTypeFragmentSMS:
		return telegramauth.CodeTypeFragment
	}
	return telegramauth.CodeTypeOther
}

// convert turns tgclient's errors into the vault's: Telegram's refusals
// into *vault.TelegramError, everything else stays (Telegram did not answer).
func convert(err error) error {
	var e *tgclient.Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	switch {
	case e.Kind == tgclient.KindFloodWait:
		return &vault.TelegramError{Type: "FLOOD_WAIT", Arg: int((e.RetryAfter + time.Second - 1) / time.Second)}
	case e.Type != "" && e.Kind != tgclient.KindUnavailable:
		return &vault.TelegramError{Type: e.Type, Arg: e.Arg}
	}
	return err
}
