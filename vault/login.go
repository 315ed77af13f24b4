package vault

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/communicator/communicator/mtproto/sessionstring"
	"github.com/communicator/communicator/telegramauth"
)

// DefaultLoginLifetime is how long a login may take: about as long as
// Telegram keeps a login code. The password step of a 2FA account starts
// the time again.
const DefaultLoginLifetime = 5 * time.Minute

// stepHold is how long a step holds its login against concurrent steps: the
// longest a step can take (two key exchanges and calls, each bounded by the
// Telegram client's timeout), so that a step whose isolate died frees the
// login at the latest then.
const stepHold = 60 * time.Second

// maxMigrations bounds the data centers a login follows (X_MIGRATE_X).
const maxMigrations = 2

// Limits of what the login steps accept.
const (
	minPhoneDigits = 7
	maxPhoneDigits = 15 // E.164
	minCodeDigits  = 3
	maxCodeDigits  = 12
	maxPasswordLen = 256
)

// loginState is what a login keeps between its steps, sealed in its row.
type loginState struct {
	Phone          string `json:"phone,omitempty"`
	Hash           string `json:"hash,omitempty"`
	CodeType       string `json:"codeType,omitempty"`
	NextType       string `json:"nextType,omitempty"`
	Key            string `json:"key"` // the GramJS string of the key's session
	Salt           int64  `json:"salt"`
	PasswordNeeded bool   `json:"passwordNeeded,omitempty"`
	Hint           string `json:"hint,omitempty"`
	Token          []byte `json:"token,omitempty"` // the QR code's current token
}

func (st *loginState) key() (TelegramKey, error) {
	sess, _, err := sessionstring.Parse(st.Key)
	return TelegramKey{Session: sess, Salt: st.Salt}, err
}

func (st *loginState) setKey(k TelegramKey) {
	st.Key, st.Salt = sessionstring.Encode(k.Session), k.Salt
}

// StartLogin implements telegramauth.Service: a new auth key with Telegram
// (on the data center the phone lives on, following PHONE_MIGRATE), then
// auth.sendCode.
func (s *Service) StartLogin(ctx context.Context, userID int64, phone string) (telegramauth.LoginStart, error) {
	c, err := s.beginFor(ctx, telegramauth.ActionStartLogin, userID)
	if err != nil {
		return telegramauth.LoginStart{}, err
	}
	digits, bad := normalizePhone(phone)
	if bad != "" {
		return telegramauth.LoginStart{}, s.fail(ctx, c, telegramauth.NewError(telegramauth.CodePhoneNumberInvalid, bad))
	}
	c.detail = phoneDetail(digits)
	if s.tg == nil {
		return telegramauth.LoginStart{}, s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeUnavailable, msgNoTelegram))
	}

	var key TelegramKey
	var sent SentCode
	dc := 0
	for migrations := 0; ; migrations++ {
		var err error
		if key, err = s.tg.NewKey(ctx, dc); err != nil {
			return telegramauth.LoginStart{}, s.telegramFailed(ctx, c, err)
		}
		sent, err = s.tg.SendCode(ctx, key, digits)
		if to := migrateTo(err); to != 0 && migrations < maxMigrations {
			s.log.Info("vault: login follows the phone to its data center", "dc", to)
			dc = to
			continue
		}
		if err != nil {
			return telegramauth.LoginStart{}, s.telegramFailed(ctx, c, err)
		}
		break
	}

	st := &loginState{Phone: digits, Hash: sent.Hash, CodeType: sent.Type, NextType: sent.NextType}
	st.setKey(key)
	row, e := s.newLogin(c, loginByCode, s.sealer.PhoneTag(digits))
	if e != nil {
		return telegramauth.LoginStart{}, s.fail(ctx, c, e)
	}
	if err := s.insertLogin(ctx, c, row, st); err != nil {
		return telegramauth.LoginStart{}, err
	}
	return loginStart(row, sent), nil
}

// StartQRLogin implements telegramauth.Service: a new auth key, then
// auth.exportLoginToken.
func (s *Service) StartQRLogin(ctx context.Context, userID int64) (telegramauth.QRLogin, error) {
	c, err := s.beginFor(ctx, telegramauth.ActionStartQRLogin, userID)
	if err != nil {
		return telegramauth.QRLogin{}, err
	}
	if s.tg == nil {
		return telegramauth.QRLogin{}, s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeUnavailable, msgNoTelegram))
	}
	key, err := s.tg.NewKey(ctx, 0)
	if err != nil {
		return telegramauth.QRLogin{}, s.telegramFailed(ctx, c, err)
	}
	tok, err := s.tg.ExportLoginToken(ctx, key)
	if err != nil {
		return telegramauth.QRLogin{}, s.telegramFailed(ctx, c, err)
	}
	if len(tok.Token) == 0 {
		return telegramauth.QRLogin{}, s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeInternal, "Telegram answered a new key's export without a token"))
	}
	st := &loginState{Token: tok.Token}
	st.setKey(key)
	row, e := s.newLogin(c, loginByQR, "")
	if e != nil {
		return telegramauth.QRLogin{}, s.fail(ctx, c, e)
	}
	c.detail = "qr"
	if err := s.insertLogin(ctx, c, row, st); err != nil {
		return telegramauth.QRLogin{}, err
	}
	return telegramauth.QRLogin{LoginID: row.ID, URL: qrURL(tok.Token), ExpiresAt: fromMillis(row.ExpiresAt)}, nil
}

// CompleteLogin implements telegramauth.Service: auth.signIn with the code.
func (s *Service) CompleteLogin(ctx context.Context, loginID, code string) (telegramauth.LoginResult, error) {
	c, denied := s.begin(ctx, telegramauth.ActionCompleteLogin)
	if denied != nil {
		return telegramauth.LoginResult{}, s.deny(ctx, c, loginID, denied)
	}
	digits, bad := normalizeCode(code)
	if bad != "" {
		return telegramauth.LoginResult{}, s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeInvalidArgument, bad))
	}
	l, err := s.step(ctx, c, loginID)
	if err != nil {
		return telegramauth.LoginResult{}, err
	}
	if l.row.Kind != loginByCode || l.st.PasswordNeeded {
		return telegramauth.LoginResult{}, s.release(ctx, l, telegramauth.NewError(telegramauth.CodeInvalidArgument, "this login does not wait for a code"))
	}
	in, err := s.tg.SignIn(ctx, l.key, l.st.Phone, l.st.Hash, digits)
	switch {
	case err == nil && in.PasswordNeeded:
		return s.passwordNeeded(ctx, l, in.Hint)
	case err == nil:
		return s.finish(ctx, l, l.key)
	}
	return telegramauth.LoginResult{}, s.stepFailed(ctx, l, err)
}

// SubmitPassword implements telegramauth.Service: the 2FA password, by SRP.
func (s *Service) SubmitPassword(ctx context.Context, loginID, password string) (telegramauth.LoginResult, error) {
	c, denied := s.begin(ctx, telegramauth.ActionSubmitPassword)
	if denied != nil {
		return telegramauth.LoginResult{}, s.deny(ctx, c, loginID, denied)
	}
	switch {
	case password == "":
		return telegramauth.LoginResult{}, s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeInvalidArgument, "password is empty"))
	case len(password) > maxPasswordLen:
		return telegramauth.LoginResult{}, s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeInvalidArgument,
			"password is longer than "+strconv.Itoa(maxPasswordLen)+" bytes"))
	}
	l, err := s.step(ctx, c, loginID)
	if err != nil {
		return telegramauth.LoginResult{}, err
	}
	if !l.st.PasswordNeeded {
		return telegramauth.LoginResult{}, s.release(ctx, l, telegramauth.NewError(telegramauth.CodeInvalidArgument, "this login does not wait for a password"))
	}
	if err := s.tg.CheckPassword(ctx, l.key, password); err != nil {
		return telegramauth.LoginResult{}, s.stepFailed(ctx, l, err)
	}
	return s.finish(ctx, l, l.key)
}

// ResendCode implements telegramauth.Service: auth.resendCode.
func (s *Service) ResendCode(ctx context.Context, loginID string) (telegramauth.LoginStart, error) {
	c, denied := s.begin(ctx, telegramauth.ActionResendCode)
	if denied != nil {
		return telegramauth.LoginStart{}, s.deny(ctx, c, loginID, denied)
	}
	l, err := s.step(ctx, c, loginID)
	if err != nil {
		return telegramauth.LoginStart{}, err
	}
	if l.row.Kind != loginByCode || l.st.PasswordNeeded {
		return telegramauth.LoginStart{}, s.release(ctx, l, telegramauth.NewError(telegramauth.CodeInvalidArgument, "this login does not wait for a code"))
	}
	sent, err := s.tg.ResendCode(ctx, l.key, l.st.Phone, l.st.Hash)
	if err != nil {
		return telegramauth.LoginStart{}, s.stepFailed(ctx, l, err)
	}
	l.st.Hash, l.st.CodeType, l.st.NextType = sent.Hash, sent.Type, sent.NextType
	if err := s.saveLogin(ctx, l); err != nil {
		return telegramauth.LoginStart{}, err
	}
	return loginStart(l.row, sent), nil
}

// CancelLogin implements telegramauth.Service: auth.cancelCode, and the
// login's state is deleted whatever Telegram answers.
func (s *Service) CancelLogin(ctx context.Context, loginID string) error {
	c, denied := s.begin(ctx, telegramauth.ActionCancelLogin)
	if denied != nil {
		return s.deny(ctx, c, loginID, denied)
	}
	l, err := s.step(ctx, c, loginID)
	if err != nil {
		return err
	}
	if l.row.Kind == loginByCode && !l.st.PasswordNeeded {
		if err := s.tg.CancelCode(ctx, l.key, l.st.Phone, l.st.Hash); err != nil {
			s.log.Warn("vault: Telegram did not cancel the login code; the login is forgotten anyway", "login_id", l.row.ID, "err", err)
		}
	}
	if err := s.store.deleteLogin(context.WithoutCancel(ctx), l.row.ID, c.row(true, "")); err != nil {
		return s.unavailable(ctx, c, msgStoreDown, err)
	}
	return nil
}

// PollLogin implements telegramauth.Service: auth.exportLoginToken again,
// following the account to its data center (auth.importLoginToken there).
func (s *Service) PollLogin(ctx context.Context, loginID string) (telegramauth.LoginResult, error) {
	c, denied := s.begin(ctx, telegramauth.ActionPollLogin)
	if denied != nil {
		return telegramauth.LoginResult{}, s.deny(ctx, c, loginID, denied)
	}
	l, err := s.step(ctx, c, loginID)
	if err != nil {
		return telegramauth.LoginResult{}, err
	}
	if l.row.Kind != loginByQR {
		return telegramauth.LoginResult{}, s.release(ctx, l, telegramauth.NewError(telegramauth.CodeInvalidArgument, "this login is by code: it is not polled"))
	}
	if l.st.PasswordNeeded {
		exp := fromMillis(l.row.ExpiresAt)
		return telegramauth.LoginResult{LoginID: l.row.ID, Status: telegramauth.LoginPasswordNeeded, Hint: l.st.Hint, ExpiresAt: &exp},
			s.release(ctx, l, nil)
	}
	key := l.key
	tok, err := s.tg.ExportLoginToken(ctx, key)
	if err == nil && tok.MigrateDC != 0 {
		if key, err = s.tg.NewKey(ctx, tok.MigrateDC); err == nil {
			l.st.setKey(key)
			tok, err = s.tg.ImportLoginToken(ctx, key, tok.Token)
		}
	}
	switch {
	case err != nil:
		return telegramauth.LoginResult{}, s.stepFailed(ctx, l, err)
	case tok.Done:
		return s.finish(ctx, l, key)
	case tok.PasswordNeeded:
		l.key = key
		return s.passwordNeeded(ctx, l, tok.Hint)
	case len(tok.Token) == 0:
		return telegramauth.LoginResult{}, s.release(ctx, l, telegramauth.NewError(telegramauth.CodeInternal, "Telegram answered the export without a token"))
	}
	l.st.Token = tok.Token
	if err := s.saveLogin(ctx, l); err != nil {
		return telegramauth.LoginResult{}, err
	}
	exp := fromMillis(l.row.ExpiresAt)
	return telegramauth.LoginResult{LoginID: l.row.ID, Status: telegramauth.LoginWaiting, URL: qrURL(tok.Token), ExpiresAt: &exp}, nil
}

// liveLogin is a login a step holds.
type liveLogin struct {
	c   *call
	row *loginRow
	st  *loginState
	key TelegramKey
}

// deny records a refused step with the login id it named.
func (s *Service) deny(ctx context.Context, c *call, loginID string, e *telegramauth.Error) error {
	if telegramauth.ValidLoginID(loginID) {
		c.detail = "login " + loginID
	}
	return s.fail(ctx, c, e)
}

// step finds the caller's live login and holds it for this step. A login
// id of another caller is not found, whoever's it is.
func (s *Service) step(ctx context.Context, c *call, loginID string) (*liveLogin, error) {
	if !telegramauth.ValidLoginID(loginID) {
		return nil, s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeInvalidArgument,
			"loginId ("+strconv.Itoa(len(loginID))+" bytes) is not a login id: want "+telegramauth.LoginIDRule))
	}
	c.detail = "login " + loginID
	if s.tg == nil {
		return nil, s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeUnavailable, msgNoTelegram))
	}
	row, err := s.store.holdLogin(ctx, loginID, c.caller.ServiceID, c.at, c.at+stepHold.Milliseconds())
	if err != nil {
		return nil, s.unavailable(ctx, c, msgStoreDown, err)
	}
	if row == nil { // not held: say why
		if row, err = s.store.login(ctx, loginID); err != nil {
			return nil, s.unavailable(ctx, c, msgStoreDown, err)
		}
		if row == nil || row.Caller != c.caller.ServiceID {
			return nil, s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeLoginNotFound, msgNoLogin))
		}
		c.userID = row.UserID
		if row.ExpiresAt <= c.at {
			return nil, s.loginEnded(ctx, c, row.ID, telegramauth.NewError(telegramauth.CodeLoginExpired,
				"the login expired at "+stamp(row.ExpiresAt)+": start again"))
		}
		return nil, s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeLoginBusy, "another step of this login is in progress; try again when it has ended"))
	}
	c.userID = row.UserID
	plain, err := s.sealer.OpenLogin(row.ID, row.UserID, row.KeyID, row.Sealed)
	var st loginState
	if err == nil {
		err = json.Unmarshal(plain, &st)
		clear(plain)
	}
	l := &liveLogin{c: c, row: row, st: &st}
	if err == nil {
		l.key, err = st.key()
	}
	if err != nil {
		s.log.Error("vault: a login's state does not open; the login is ended", "login_id", row.ID, "key_id", row.KeyID, "reason", err)
		return nil, s.loginEnded(ctx, c, row.ID, telegramauth.NewError(telegramauth.CodeInternal, "the login's state could not be opened: start again"))
	}
	return l, nil
}

// newLogin makes the row of a new login for the call's user.
func (s *Service) newLogin(c *call, kind, phoneTag string) (*loginRow, *telegramauth.Error) {
	id, err := s.newID(telegramauth.LoginIDPrefix)
	if err != nil {
		s.log.Error("vault: login id source failed", "err", err)
		return nil, telegramauth.NewError(telegramauth.CodeInternal, "no login id could be generated")
	}
	if c.detail == "" {
		c.detail = "login " + id
	} else {
		c.detail = "login " + id + ", " + c.detail
	}
	return &loginRow{ID: id, UserID: c.userID, Caller: c.caller.ServiceID, Kind: kind, PhoneTag: phoneTag,
		CreatedAt: c.at, ExpiresAt: c.at + s.loginTTL.Milliseconds()}, nil
}

// insertLogin seals the state into the new row and stores it.
func (s *Service) insertLogin(ctx context.Context, c *call, row *loginRow, st *loginState) error {
	plain, err := json.Marshal(st)
	if err != nil {
		return s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeInternal, "the login's state could not be encoded"))
	}
	row.Sealed, row.KeyID = s.sealer.SealLogin(row.ID, row.UserID, plain)
	clear(plain)
	if err := s.store.insertLogin(ctx, row, c.row(true, "")); err != nil {
		return s.unavailable(ctx, c, "a login that cannot be stored is refused", err)
	}
	return nil
}

// saveLogin writes a held login's changed state and releases it.
func (s *Service) saveLogin(ctx context.Context, l *liveLogin) error {
	plain, err := json.Marshal(l.st)
	if err != nil {
		return s.release(ctx, l, telegramauth.NewError(telegramauth.CodeInternal, "the login's state could not be encoded"))
	}
	sealed, keyID := s.sealer.SealLogin(l.row.ID, l.row.UserID, plain)
	clear(plain)
	if err := s.store.updateLogin(context.WithoutCancel(ctx), l.row, sealed, keyID, l.c.row(true, "")); err != nil {
		return s.unavailable(ctx, l.c, msgStoreDown, err)
	}
	return nil
}

// release frees a held login unchanged but for its attempts, recording the
// step's outcome (e nil: a success), and returns e.
func (s *Service) release(ctx context.Context, l *liveLogin, e *telegramauth.Error) error {
	var code telegramauth.Code
	if e != nil {
		code = e.Code
	}
	if err := s.store.updateLogin(context.WithoutCancel(ctx), l.row, nil, "", l.c.row(e == nil, code)); err != nil {
		s.log.Error("vault: a login step could not be recorded; the login stays held until its hold ends", "login_id", l.row.ID, "err", err)
	}
	if e == nil {
		return nil
	}
	return e
}

// loginEnded deletes the login, records e, and returns it.
func (s *Service) loginEnded(ctx context.Context, c *call, loginID string, e *telegramauth.Error) error {
	if err := s.store.deleteLogin(context.WithoutCancel(ctx), loginID, c.row(false, e.Code)); err != nil {
		s.log.Error("vault: an ended login could not be deleted; it expires on its own", "login_id", loginID, "err", err)
	}
	return e
}

// passwordNeeded keeps the login for its password step, from now on the
// login's lifetime again.
func (s *Service) passwordNeeded(ctx context.Context, l *liveLogin, hint string) (telegramauth.LoginResult, error) {
	l.st.PasswordNeeded, l.st.Hint = true, hint
	l.st.setKey(l.key)
	l.row.ExpiresAt = l.c.at + s.loginTTL.Milliseconds()
	if err := s.saveLogin(ctx, l); err != nil {
		return telegramauth.LoginResult{}, err
	}
	exp := fromMillis(l.row.ExpiresAt)
	return telegramauth.LoginResult{LoginID: l.row.ID, Status: telegramauth.LoginPasswordNeeded, Hint: hint, ExpiresAt: &exp}, nil
}

// finish stores the session of the key the login logged in, and ends the
// login, in one batch.
func (s *Service) finish(ctx context.Context, l *liveLogin, key TelegramKey) (telegramauth.LoginResult, error) {
	id, err := s.newSessionID()
	if err != nil {
		s.log.Error("vault: session id source failed", "err", err)
		return telegramauth.LoginResult{}, s.release(ctx, l, telegramauth.NewError(telegramauth.CodeInternal, "no session id could be generated"))
	}
	l.c.sessionID = id
	row := s.newSessionRow(l.c, id, key.Session)
	if err := s.store.finishLogin(context.WithoutCancel(ctx), l.row.ID, row, l.c.row(true, "")); err != nil {
		// Telegram logged the key in, but the vault could not keep it.
		l.c.sessionID = ""
		return telegramauth.LoginResult{}, s.unavailable(ctx, l.c, "the new session could not be stored: start again", err)
	}
	s.log.Info("vault: login finished", "login_id", l.row.ID, "session_id", id, "user_id", l.row.UserID, "dc", key.Session.DC)
	info := row.info(l.c.at, s.tg != nil)
	return telegramauth.LoginResult{LoginID: l.row.ID, Status: telegramauth.LoginDone, Session: &info}, nil
}

// stepFailed answers a held login's step that Telegram refused or did not
// answer. Wrong codes and passwords count; the fifth ends the login. A dead
// code ends it too (resend cannot revive it).
func (s *Service) stepFailed(ctx context.Context, l *liveLogin, err error) error {
	var te *TelegramError
	if !errors.As(err, &te) {
		s.log.Warn("vault: Telegram did not answer a login step", "login_id", l.row.ID, "action", string(l.c.action), "err", err)
		return s.release(ctx, l, telegramauth.NewError(telegramauth.CodeUnavailable, msgTelegramDown))
	}
	e := telegramError(te)
	switch te.Type {
	case "PHONE_CODE_INVALID", "PASSWORD_HASH_INVALID", "CODE_INVALID", "PHONE_CODE_EMPTY":
		l.row.Attempts++
		left := telegramauth.MaxLoginAttempts - l.row.Attempts
		if left <= 0 {
			return s.loginEnded(ctx, l.c, l.row.ID, &telegramauth.Error{Code: telegramauth.CodeLoginExpired, Reason: te.Type,
				Message: strconv.Itoa(telegramauth.MaxLoginAttempts) + " wrong codes or passwords ended the login: start again"})
		}
		e.Message += "; " + strconv.Itoa(left) + " attempts left"
		return s.release(ctx, l, e)
	case "PHONE_CODE_EXPIRED", "PHONE_CODE_HASH_EMPTY", "AUTH_TOKEN_EXPIRED", "AUTH_TOKEN_INVALID",
		"PHONE_NUMBER_UNOCCUPIED", "PHONE_NUMBER_BANNED", "PHONE_NUMBER_INVALID":
		return s.loginEnded(ctx, l.c, l.row.ID, e)
	}
	s.log.Warn("vault: Telegram refused a login step", "login_id", l.row.ID, "action", string(l.c.action), "type", te.Type)
	return s.release(ctx, l, e)
}

// telegramFailed answers a step without a login row yet (the start).
func (s *Service) telegramFailed(ctx context.Context, c *call, err error) error {
	var te *TelegramError
	if !errors.As(err, &te) {
		s.log.Warn("vault: Telegram did not answer a login step", "action", string(c.action), "err", err)
		return s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeUnavailable, msgTelegramDown))
	}
	if te.Type != "FLOOD_WAIT" && te.Type != "PHONE_NUMBER_INVALID" {
		s.log.Warn("vault: Telegram refused a login step", "action", string(c.action), "type", te.Type)
	}
	return s.fail(ctx, c, telegramError(te))
}

// telegramError is the contract's error for Telegram's refusal.
func telegramError(te *TelegramError) *telegramauth.Error {
	e := &telegramauth.Error{Reason: te.Type}
	switch te.Type {
	case "FLOOD_WAIT", "FLOOD_PREMIUM_WAIT":
		e.Code, e.RetryAfter = telegramauth.CodeFloodWait, max(te.Arg, 1)
		e.Message = "Telegram asks to wait " + strconv.Itoa(e.RetryAfter) + " s before trying again"
	case "PHONE_NUMBER_INVALID", "PHONE_NUMBER_BANNED", "PHONE_NUMBER_UNOCCUPIED", "PHONE_NUMBER_FLOOD":
		e.Code = telegramauth.CodePhoneNumberInvalid
		e.Message = map[string]string{
			"PHONE_NUMBER_INVALID":    "Telegram does not know this phone number",
			"PHONE_NUMBER_BANNED":     "Telegram has banned this phone number",
			"PHONE_NUMBER_UNOCCUPIED": "no Telegram account uses this phone number (sign up in a Telegram app first)",
			"PHONE_NUMBER_FLOOD":      "this phone number asked for too many codes; try again later",
		}[te.Type]
	case "PHONE_CODE_INVALID", "CODE_INVALID", "PHONE_CODE_EMPTY":
		e.Code, e.Message = telegramauth.CodePhoneCodeInvalid, "the code is wrong"
	case "PHONE_CODE_EXPIRED", "PHONE_CODE_HASH_EMPTY":
		e.Code, e.Message = telegramauth.CodePhoneCodeExpired, "the code expired or was cancelled: start again"
	case "PASSWORD_HASH_INVALID":
		e.Code, e.Message = telegramauth.CodePasswordHashInvalid, "the password is wrong"
	case "AUTH_TOKEN_EXPIRED", "AUTH_TOKEN_INVALID":
		e.Code, e.Message = telegramauth.CodeLoginExpired, "the QR code expired: start again"
	default:
		e.Code, e.Message = telegramauth.CodeLoginRefused, "Telegram refused the login ("+te.Type+")"
	}
	return e
}

// migrateTo is the data center of a X_MIGRATE_X refusal, or 0.
func migrateTo(err error) int {
	var te *TelegramError
	if errors.As(err, &te) && te.Arg > 0 && strings.HasSuffix(te.Type, "_MIGRATE") {
		return te.Arg
	}
	return 0
}

// loginStart is the answer to a code sent.
func loginStart(row *loginRow, sent SentCode) telegramauth.LoginStart {
	return telegramauth.LoginStart{LoginID: row.ID, CodeType: sent.Type, NextType: sent.NextType,
		TimeoutSeconds: int(sent.Timeout / time.Second), ExpiresAt: fromMillis(row.ExpiresAt)}
}

// qrURL is the link a Telegram app opens when it scans the QR code.
func qrURL(token []byte) string {
	return "tg://login?token=" + base64.RawURLEncoding.EncodeToString(token)
}

// normalizePhone returns the digits of an international phone number
// written with an optional "+", spaces, dots, dashes and brackets, or what
// is wrong with it (never quoting it).
func normalizePhone(phone string) (string, string) {
	if len(phone) > 64 {
		return "", "phone is " + strconv.Itoa(len(phone)) + " bytes: not a phone number"
	}
	var b strings.Builder
	for i, r := range phone {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return "", "phone may hold only digits, a leading \"+\", spaces, dots, dashes and brackets"
		}
	}
	d := b.String()
	switch {
	case d == "":
		return "", "phone is empty"
	case len(d) < minPhoneDigits || len(d) > maxPhoneDigits:
		return "", "phone has " + strconv.Itoa(len(d)) + " digits; an international number has " +
			strconv.Itoa(minPhoneDigits) + " to " + strconv.Itoa(maxPhoneDigits) + ", country code first"
	case d[0] == '0':
		return "", "phone must start with its country code, not 0"
	}
	return d, ""
}

// normalizeCode returns the digits of a login code (spaces and dashes
// allowed between them), or what is wrong with it.
func normalizeCode(code string) (string, string) {
	if len(code) > 64 {
		return "", "code is " + strconv.Itoa(len(code)) + " bytes: a login code has 5 or 6 digits"
	}
	var b strings.Builder
	for _, r := range code {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
		default:
			return "", "code may hold only digits"
		}
	}
	d := b.String()
	switch {
	case d == "":
		return "", "code is empty"
	case len(d) < minCodeDigits || len(d) > maxCodeDigits:
		return "", "code has " + strconv.Itoa(len(d)) + " digits: a login code has 5 or 6"
	}
	return d, ""
}

// phoneDetail is what the access log keeps of a phone: its last four digits.
func phoneDetail(digits string) string {
	return "phone …" + digits[len(digits)-4:]
}

// Messages of the login's errors.
const (
	msgNoTelegram   = "logins are not configured here (TELEGRAM_API_ID and TELEGRAM_API_HASH)"
	msgTelegramDown = "Telegram did not answer: try again"
	msgNoLogin      = "no live login has this id"
)

// PruneLogins deletes logins that expired untouched (the daily job).
func (s *Service) PruneLogins(ctx context.Context) (int64, error) {
	return s.store.pruneLogins(ctx, s.now().UnixMilli())
}
