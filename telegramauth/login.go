package telegramauth

import (
	"strings"
	"time"
)

// Login is the part of Service that connects a Telegram account: by code
// (StartLogin, CompleteLogin, SubmitPassword when the account has a 2FA
// password, ResendCode, CancelLogin) or by QR code (StartQRLogin, then
// PollLogin until the user has scanned it). A login spans several calls,
// which may reach different isolates: its state is sealed in auth-telegram's
// database and named by a login id, which only the service that started it
// can continue. The session a finished login makes is stored like an
// imported one, and handed out at once.
//
// Every method needs the login permission of the access policy and writes
// an access-log row; the log never holds a phone number (its last four
// digits at most), a code or a password.

// Login statuses.
const (
	// LoginDone: the account is logged in, and LoginResult.Session is stored.
	LoginDone = "done"
	// LoginPasswordNeeded: the account has a 2FA password; SubmitPassword.
	LoginPasswordNeeded = "password_needed"
	// LoginWaiting: the QR code has not been scanned yet; poll again
	// (LoginResult.URL may be a new code).
	LoginWaiting = "waiting"
)

// Code types: how Telegram sent the code (LoginStart.CodeType and NextType).
const (
	CodeTypeApp       = "app"        // a message in the user's Telegram apps
	CodeTypeSMS       = "sms"        // a text message
	CodeTypeCall      = "call"       // a phone call reading it out
	CodeTypeFlashCall = "flash_call" // a missed call from a number ending in it
	CodeTypeMissed    = "missed_call"
	CodeTypeEmail     = "email"
	CodeTypeFragment  = "fragment"
	CodeTypeOther     = "other"
)

// LoginStart is what StartLogin and ResendCode answer: a code is on its way.
type LoginStart struct {
	LoginID string `json:"loginId"`
	// CodeType is how the code was sent; NextType how ResendCode would send
	// it, when Telegram offers another way.
	CodeType string `json:"codeType"`
	NextType string `json:"nextType,omitempty"`
	// TimeoutSeconds is how long to wait before ResendCode, if Telegram says.
	TimeoutSeconds int `json:"timeoutSeconds,omitempty"`
	// ExpiresAt is when the login ends unless finished.
	ExpiresAt time.Time `json:"expiresAt"`
}

// LoginResult is what CompleteLogin, SubmitPassword and PollLogin answer.
type LoginResult struct {
	LoginID string `json:"loginId"`
	// Status is LoginDone, LoginPasswordNeeded or LoginWaiting.
	Status string `json:"status"`
	// Hint is the 2FA password's hint (LoginPasswordNeeded), if it has one.
	Hint string `json:"hint,omitempty"`
	// Session is the stored session (LoginDone).
	Session *SessionInfo `json:"session,omitempty"`
	// URL is the QR code to show (LoginWaiting): tg://login?token=…
	URL string `json:"url,omitempty"`
	// ExpiresAt is when the login ends unless finished (not for LoginDone).
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// QRLogin is what StartQRLogin answers: a QR code for the user to scan with
// a Telegram app where the account is logged in (Settings, Devices, Link
// Desktop Device). Show URL as a QR code; it changes every 30 seconds or so,
// and PollLogin answers the current one.
type QRLogin struct {
	LoginID   string    `json:"loginId"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Login ids are "lgn_" and 26 characters of lower-case base32: 128 random bits.
const (
	LoginIDPrefix = "lgn_"
	// LoginIDRule says what a login id is, for error messages.
	LoginIDRule = `"lgn_" followed by 26 lower-case base32 characters (a-z, 2-7)`
)

// ValidLoginID reports whether id has the form of a login id.
func ValidLoginID(id string) bool {
	body, ok := strings.CutPrefix(id, LoginIDPrefix)
	return ok && validBase32ID(body)
}

// MaxLoginAttempts is how many wrong codes and passwords end a login.
const MaxLoginAttempts = 5

// Rejection reasons of ReportSessionRejected: what Telegram answered.
var RejectionReasons = []string{
	"AUTH_KEY_UNREGISTERED", "AUTH_KEY_INVALID", "AUTH_KEY_PERM_EMPTY", "AUTH_KEY_NOT_FOUND",
	"SESSION_REVOKED", "SESSION_EXPIRED", "USER_DEACTIVATED", "USER_DEACTIVATED_BAN",
}
