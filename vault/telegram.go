package vault

import (
	"context"
	"strconv"
	"time"

	"github.com/communicator/communicator/mtproto/sessionstring"
)

// Telegram is what the vault asks of Telegram: the steps of a login, and
// logging a revoked session out. Each method is one unit of work on a
// connection of its own, bounded by the implementation's timeout, so that a
// login's steps can run in different requests and isolates
// (mtproto/tglogin implements it with gotd and our own key exchange).
//
// Telegram's refusals are *TelegramError; any other error means Telegram
// could not be reached or did not answer in time.
type Telegram interface {
	// NewKey creates an authorization key with data center dc (0: the
	// default one, where logins start).
	NewKey(ctx context.Context, dc int) (TelegramKey, error)
	// SendCode is auth.sendCode.
	SendCode(ctx context.Context, k TelegramKey, phone string) (SentCode, error)
	// ResendCode is auth.resendCode.
	ResendCode(ctx context.Context, k TelegramKey, phone, hash string) (SentCode, error)
	// CancelCode is auth.cancelCode.
	CancelCode(ctx context.Context, k TelegramKey, phone, hash string) error
	// SignIn is auth.signIn; a 2FA account answers PasswordNeeded with the
	// password's hint.
	SignIn(ctx context.Context, k TelegramKey, phone, hash, code string) (SignIn, error)
	// CheckPassword is account.getPassword, SRP, auth.checkPassword.
	CheckPassword(ctx context.Context, k TelegramKey, password string) error
	// ExportLoginToken is auth.exportLoginToken.
	ExportLoginToken(ctx context.Context, k TelegramKey) (LoginToken, error)
	// ImportLoginToken is auth.importLoginToken, on the data center an
	// export answered MigrateDC with.
	ImportLoginToken(ctx context.Context, k TelegramKey, token []byte) (LoginToken, error)
	// LogOut is auth.logOut with the session's key.
	LogOut(ctx context.Context, s sessionstring.Session) error
}

// TelegramKey is an authorization key with a data center, not yet (or just)
// logged in: Session holds the data center, its address and the key.
type TelegramKey struct {
	Session sessionstring.Session
	Salt    int64 // the first server salt
}

// SentCode is Telegram's answer to auth.sendCode and auth.resendCode.
type SentCode struct {
	Hash     string        // phone_code_hash
	Type     string        // telegramauth.CodeType*
	NextType string        // "" when there is none
	Timeout  time.Duration // before a resend, if Telegram says
}

// SignIn is the answer to a sign-in that did not fail.
type SignIn struct {
	PasswordNeeded bool
	Hint           string
}

// LoginToken is the answer to auth.exportLoginToken or auth.importLoginToken.
type LoginToken struct {
	// Token and Expires: not scanned yet; show Token as a QR code.
	Token   []byte
	Expires time.Time
	// Done: logged in on the key.
	Done bool
	// PasswordNeeded: scanned by a 2FA account; CheckPassword next.
	PasswordNeeded bool
	Hint           string
	// MigrateDC: the account lives on this data center; import the token
	// there with a key of that data center.
	MigrateDC int
}

// TelegramError is Telegram's refusal of a call: its error type without an
// argument ("PHONE_MIGRATE", "FLOOD_WAIT", "PHONE_CODE_INVALID") and the
// argument (the data center of X_MIGRATE_X, the seconds of FLOOD_WAIT_X).
type TelegramError struct {
	Type string
	Arg  int
}

func (e *TelegramError) Error() string {
	if e.Arg != 0 {
		return "Telegram answered " + e.Type + "_" + strconv.Itoa(e.Arg)
	}
	return "Telegram answered " + e.Type
}
