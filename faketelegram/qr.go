package faketelegram

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// QR code login (https://core.telegram.org/api/qr-login): a key that is not
// logged in exports a token (auth.exportLoginToken), the token is shown as
// tg://login?token=<base64url>, a logged-in app scans it (here:
// ScanLoginToken), and the key's next export logs it in.

// loginTokenTTL is how long an exported token can be scanned.
const loginTokenTTL = 30 * time.Second

// loginToken is an exported QR login token.
type loginToken struct {
	key     [8]byte // the auth key that exported it
	expires time.Time
	user    int64 // who scanned it; 0: nobody yet
}

// Errors of ScanLoginToken, as the *InputError's cause (errors.Is), named
// as Telegram names them.
var (
	ErrLoginTokenInvalid  = errors.New("AUTH_TOKEN_INVALID: no such login token was exported")
	ErrLoginTokenExpired  = errors.New("AUTH_TOKEN_EXPIRED: the login token expired")
	ErrLoginTokenAccepted = errors.New("AUTH_TOKEN_ALREADY_ACCEPTED: the login token was scanned already")
)

// ScanLoginToken does what scanning a QR login code in a logged-in app
// does: it accepts token (the bytes auth.exportLoginToken answered) for
// userID. The key that exported it is logged in as userID by its next
// auth.exportLoginToken (or, for a user of another DC, by
// auth.importLoginToken there). A token can be scanned once, within 30 s of
// its export; the key then has 5 minutes to log in with it. Errors are
// *InputError naming "userId" (no such user, a bot) or "token"
// (ErrLoginTokenInvalid, ErrLoginTokenExpired, ErrLoginTokenAccepted).
func (s *Server) ScanLoginToken(token []byte, userID int64) error {
	u, ok := s.fx.User(userID)
	if !ok {
		return inputErr("userId", "no fixture user %d", userID)
	}
	if u.Bot {
		return inputErr("userId", "user %d is a bot: bots do not log in by QR code", userID)
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[string(token)]
	switch {
	case !ok:
		return tokenErr(ErrLoginTokenInvalid)
	case t.user != 0:
		return tokenErr(ErrLoginTokenAccepted)
	case now.After(t.expires):
		return tokenErr(ErrLoginTokenExpired)
	}
	t.user = userID
	t.expires = now.Add(codeTTL)
	return nil
}

func tokenErr(err error) error {
	return &InputError{Field: "token", Msg: err.Error(), err: err}
}

// pruneTokens forgets tokens expired for longer than codeTTL (until then
// they answer AUTH_TOKEN_EXPIRED rather than AUTH_TOKEN_INVALID). s.mu must
// be held.
func (s *Server) pruneTokens(now time.Time) {
	for k, t := range s.tokens {
		if now.After(t.expires.Add(codeTTL)) {
			delete(s.tokens, k)
		}
	}
}

// authExportLoginToken logs the key in when a token it exported was
// scanned (auth.loginTokenSuccess, SESSION_PASSWORD_NEEDED for 2FA, or
// auth.loginTokenMigrateTo for a user of another DC); else it answers a
// new token. except_ids is not looked at.
func (s *Server) authExportLoginToken(ctx context.Context, req *tg.AuthExportLoginTokenRequest) (tg.AuthLoginTokenClass, error) {
	in := info(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneTokens(in.now)
	for tok, t := range s.tokens {
		if t.key == in.key && t.user != 0 && !in.now.After(t.expires) {
			return s.useToken(in, tok, t)
		}
	}
	token := make([]byte, 32)
	if _, err := rand.Read(token); err != nil {
		return nil, err
	}
	t := &loginToken{key: in.key, expires: in.now.Add(loginTokenTTL)}
	s.tokens[string(token)] = t
	return &tg.AuthLoginToken{Expires: int(t.expires.Unix()), Token: token}, nil
}

// authImportLoginToken logs in a key of the DC an auth.loginTokenMigrateTo
// named, with its token.
func (s *Server) authImportLoginToken(ctx context.Context, token []byte) (tg.AuthLoginTokenClass, error) {
	in := info(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneTokens(in.now)
	t, ok := s.tokens[string(token)]
	switch {
	case !ok:
		return nil, tgerr.New(400, "AUTH_TOKEN_INVALID")
	case in.now.After(t.expires):
		return nil, tgerr.New(400, "AUTH_TOKEN_EXPIRED")
	case t.user == 0:
		// Not scanned yet: the token as it is.
		return &tg.AuthLoginToken{Expires: int(t.expires.Unix()), Token: token}, nil
	}
	return s.useToken(in, string(token), t)
}

// useToken logs in the key of request in with the scanned token t, or
// sends it to the DC its user lives on. s.mu must be held.
func (s *Server) useToken(in reqInfo, tok string, t *loginToken) (tg.AuthLoginTokenClass, error) {
	if dc := s.homeDC(t.user); dc != in.dc {
		return &tg.AuthLoginTokenMigrateTo{DCID: dc, Token: []byte(tok)}, nil
	}
	delete(s.tokens, tok)
	u, _ := s.fx.User(t.user)
	a, err := s.logIn(in.key, u)
	if err != nil {
		return nil, err
	}
	return &tg.AuthLoginTokenSuccess{Authorization: a}, nil
}
