package faketelegram_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/auth"
	"github.com/gotd/td/telegram/auth/qrlogin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/communicator/communicator/faketelegram"
)

// exportToken calls auth.exportLoginToken and wants a new token.
func exportToken(ctx context.Context, api *tg.Client) ([]byte, error) {
	res, err := api.AuthExportLoginToken(ctx, &tg.AuthExportLoginTokenRequest{APIID: telegram.TestAppID, APIHash: telegram.TestAppHash})
	if err != nil {
		return nil, err
	}
	tok, ok := res.(*tg.AuthLoginToken)
	if !ok {
		return nil, fmt.Errorf("exportLoginToken = %T, want auth.loginToken", res)
	}
	if len(tok.Token) != 32 {
		return nil, fmt.Errorf("token of %d bytes", len(tok.Token))
	}
	if d := time.Until(time.Unix(int64(tok.Expires), 0)); d < 28*time.Second || d > 31*time.Second {
		return nil, fmt.Errorf("token expires in %v", d)
	}
	return tok.Token, nil
}

func exportAgain(ctx context.Context, api *tg.Client) (tg.AuthLoginTokenClass, error) {
	return api.AuthExportLoginToken(ctx, &tg.AuthExportLoginTokenRequest{APIID: telegram.TestAppID, APIHash: telegram.TestAppHash})
}

func TestQRLogin(t *testing.T) {
	s := startServer(t)

	t.Run("scan", func(t *testing.T) {
		before := s.Calls("auth.exportLoginToken")
		run(t, newClient(t, s, ""), func(ctx context.Context, api *tg.Client) error {
			first, err := exportToken(ctx, api)
			if err != nil {
				return err
			}
			second, err := exportToken(ctx, api)
			if err != nil {
				return err
			}
			if bytes.Equal(first, second) {
				t.Error("two exports, one token")
			}
			// Imported before a scan: the token as it is.
			if res, err := api.AuthImportLoginToken(ctx, second); err != nil {
				return err
			} else if tok, ok := res.(*tg.AuthLoginToken); !ok || !bytes.Equal(tok.Token, second) {
				t.Errorf("import before the scan: %#v", res)
			}
			if _, err := self(ctx, api); !tgerr.Is(err, "AUTH_KEY_UNREGISTERED") {
				t.Errorf("before the scan: %v", err)
			}
			// Refused scans change nothing.
			for _, tc := range []struct {
				token []byte
				user  int64
				want  error
				field string
			}{
				{first, 999, nil, "userId"},
				{first, 1099, nil, "userId"},
				{[]byte("nope"), 1003, faketelegram.ErrLoginTokenInvalid, "token"},
			} {
				err := s.ScanLoginToken(tc.token, tc.user)
				var ie *faketelegram.InputError
				if !errors.As(err, &ie) || ie.Field != tc.field || (tc.want != nil && !errors.Is(err, tc.want)) {
					t.Errorf("ScanLoginToken(%d): %v, want %v naming %s", tc.user, err, tc.want, tc.field)
				}
			}
			if res, err := exportAgain(ctx, api); err != nil {
				return err
			} else if _, ok := res.(*tg.AuthLoginToken); !ok {
				t.Errorf("export after refused scans: %T", res)
			}
			// The earlier token is still good.
			if err := s.ScanLoginToken(first, 1003); err != nil {
				return err
			}
			if err := s.ScanLoginToken(first, 1003); !errors.Is(err, faketelegram.ErrLoginTokenAccepted) {
				t.Errorf("second scan: %v", err)
			}
			res, err := exportAgain(ctx, api)
			if err != nil {
				return err
			}
			ok, isOK := res.(*tg.AuthLoginTokenSuccess)
			if !isOK {
				return fmt.Errorf("export after the scan: %T", res)
			}
			if u := ok.Authorization.(*tg.AuthAuthorization).User.(*tg.User); u.ID != 1003 || !u.Self {
				t.Errorf("logged in as %+v", u)
			}
			return checkServes(t, ctx, api, 1003)
		})
		if got := s.Calls("auth.exportLoginToken") - before; got != 4 {
			t.Errorf("Calls(auth.exportLoginToken) grew by %d, want 4", got)
		}
	})

	t.Run("2fa", func(t *testing.T) {
		run(t, newClient(t, s, ""), func(ctx context.Context, api *tg.Client) error {
			token, err := exportToken(ctx, api)
			if err != nil {
				return err
			}
			if err := s.ScanLoginToken(token, 1007); err != nil {
				return err
			}
			if _, err := exportAgain(ctx, api); !tgerr.Is(err, "SESSION_PASSWORD_NEEDED") {
				return fmt.Errorf("export after the scan: %v, want SESSION_PASSWORD_NEEDED", err)
			}
			if _, err := self(ctx, api); !tgerr.Is(err, "AUTH_KEY_UNREGISTERED") {
				t.Errorf("before the password: %v", err)
			}
			a := auth.NewClient(api, rand.Reader, telegram.TestAppID, telegram.TestAppHash)
			if _, err := a.Password(ctx, mustUser(t, 1007).Password); err != nil {
				return err
			}
			u, err := self(ctx, api)
			if err == nil && u.ID != 1007 {
				t.Errorf("self is %d", u.ID)
			}
			return err
		})
	})

	t.Run("user of DC 4", func(t *testing.T) {
		imports := s.Calls("auth.importLoginToken")
		c := newClient(t, s, "")
		run(t, c, func(ctx context.Context, api *tg.Client) error {
			token, err := exportToken(ctx, api)
			if err != nil {
				return err
			}
			if _, err := api.AuthImportLoginToken(ctx, []byte("nope")); !tgerr.Is(err, "AUTH_TOKEN_INVALID") {
				t.Errorf("import of an unknown token: %v", err)
			}
			if err := s.ScanLoginToken(token, 1005); err != nil {
				return err
			}
			res, err := exportAgain(ctx, api)
			if err != nil {
				return err
			}
			if m, ok := res.(*tg.AuthLoginTokenMigrateTo); !ok || m.DCID != 4 || !bytes.Equal(m.Token, token) {
				return fmt.Errorf("export on DC 2 after the scan: %#v, want auth.loginTokenMigrateTo DC 4", res)
			}
			if res, err := api.AuthImportLoginToken(ctx, token); err != nil {
				return err
			} else if m, ok := res.(*tg.AuthLoginTokenMigrateTo); !ok || m.DCID != 4 {
				t.Errorf("import on DC 2: %#v, want auth.loginTokenMigrateTo DC 4", res)
			}
			if _, err := self(ctx, api); !tgerr.Is(err, "AUTH_KEY_UNREGISTERED") {
				t.Errorf("DC 2's key after loginTokenMigrateTo: %v", err)
			}
			// gotd's QR flow: export again, migrate, import on DC 4.
			qr := qrlogin.NewQR(api, telegram.TestAppID, telegram.TestAppHash, qrlogin.Options{Migrate: c.MigrateTo})
			a, err := qr.Import(ctx)
			if err != nil {
				return err
			}
			if u := a.User.(*tg.User); u.ID != 1005 {
				t.Errorf("imported as %d", u.ID)
			}
			cfg, err := api.HelpGetConfig(ctx)
			if err != nil {
				return err
			}
			if cfg.ThisDC != 4 {
				t.Errorf("logged in on DC %d", cfg.ThisDC)
			}
			if _, err := api.AuthImportLoginToken(ctx, token); !tgerr.Is(err, "AUTH_TOKEN_INVALID") {
				t.Errorf("a token imported twice: %v", err)
			}
			return checkServes(t, ctx, api, 1005)
		})
		if got := s.Calls("auth.importLoginToken") - imports; got != 4 {
			t.Errorf("Calls(auth.importLoginToken) grew by %d, want 4", got)
		}
	})
}
