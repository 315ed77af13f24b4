// Package telegramauth is the contract between auth-telegram and its callers:
// the RPC surface of auth-telegram's entrypoints, the values it returns, the
// errors it throws, who may call it, and the rules for the ids that cross it.
// It is plain Go: the RPC plumbing generated from it lives in package authrpc,
// the HTTP API in authhttp.
//
// The JSON names and shapes here are the wire contract (see docs/ARCHITECTURE.md);
// renaming a field breaks callers written in JavaScript.
package telegramauth

import (
	"context"
	"time"
)

// Service is the RPC surface of auth-telegram: the methods of its default
// entrypoint and of every named entrypoint (Entrypoints). Each method is
// exposed to JavaScript under its rpc name (the Go name in lower camel case:
// GetSessionByUserID is getSessionByUserId).
//
// The caller is identified by the binding, never by an argument: by the
// named entrypoint it is bound to, or, on the default entrypoint, by the
// binding's props (ctx.props.serviceId).
type Service interface {
	// GetSessionByUserID hands out the user's newest active session.
	GetSessionByUserID(ctx context.Context, userID int64) (Session, error)
	// ListSessions lists every session of the user, newest first, without secrets.
	ListSessions(ctx context.Context, userID int64) ([]SessionInfo, error)
	// RevokeSession revokes a session. Revoking a revoked session is not an error:
	// it returns the time of the first revocation.
	RevokeSession(ctx context.Context, sessionID string) (Revocation, error)
	// ImportSession stores a GramJS or Telethon string session for the user.
	ImportSession(ctx context.Context, userID int64, sessionString string) (SessionInfo, error)
	// AccessLog reads the access log, newest first: every hand-out, list,
	// revocation, import and refusal. An operator's call: the caller needs the
	// read_access_log permission of the access policy.
	AccessLog(ctx context.Context, query AccessLogQuery) ([]AccessLogEntry, error)

	// StartLogin creates an auth key with Telegram and asks it to send the
	// user's phone a login code. phone is international, digits with an
	// optional "+", spaces, dots, dashes and brackets. A live login of the
	// same user and phone is replaced.
	StartLogin(ctx context.Context, userID int64, phone string) (LoginStart, error)
	// CompleteLogin signs in with the code the user received.
	CompleteLogin(ctx context.Context, loginID string, code string) (LoginResult, error)
	// SubmitPassword finishes a login whose account has a 2FA password.
	SubmitPassword(ctx context.Context, loginID string, password string) (LoginResult, error)
	// ResendCode asks Telegram to send the code again (NextType's way).
	ResendCode(ctx context.Context, loginID string) (LoginStart, error)
	// CancelLogin ends a login: Telegram cancels the code, and its state is deleted.
	CancelLogin(ctx context.Context, loginID string) error
	// StartQRLogin starts a login by QR code for the user.
	//
	//rpc:name startQrLogin
	StartQRLogin(ctx context.Context, userID int64) (QRLogin, error)
	// PollLogin asks whether the QR code was scanned: LoginWaiting with the
	// current code, LoginPasswordNeeded, or LoginDone.
	PollLogin(ctx context.Context, loginID string) (LoginResult, error)
	// ReportSessionRejected tells the vault that Telegram refused the session
	// (reason: one of RejectionReasons). The session is never handed out
	// again; its status is rejected. Reporting it again is not an error.
	ReportSessionRejected(ctx context.Context, sessionID string, reason string) (SessionInfo, error)
}

// Session is a session handed out to a trusted service. SessionString is a
// GramJS StringSession and is the only secret value in this package.
type Session struct {
	SessionString string    `json:"sessionString"`
	SessionID     string    `json:"sessionId"`
	UserID        int64     `json:"userId"`
	ExpiresAt     time.Time `json:"expiresAt"`
}

// Session statuses.
const (
	StatusActive  = "active"
	StatusExpired = "expired"
	StatusRevoked = "revoked"
	// StatusRejected: Telegram refused the session (ReportSessionRejected).
	StatusRejected = "rejected"
)

// Telegram logout states of a revoked session (SessionInfo.TelegramLogout).
const (
	LogoutConfirmed = "confirmed" // Telegram confirmed auth.logOut
	LogoutPending   = "pending"   // not yet: the daily job tries again
	// LogoutUnconfirmed: Telegram never confirmed it, and nothing will ask
	// again: auth-telegram has no Telegram credentials (TELEGRAM_API_ID and
	// TELEGRAM_API_HASH), or the daily job's 7 days of retries are over. The
	// key may still work at Telegram until the user ends the session there.
	LogoutUnconfirmed = "unconfirmed"
)

// SessionInfo is a session's metadata; it never carries the session itself.
type SessionInfo struct {
	SessionID  string     `json:"sessionId"`
	UserID     int64      `json:"userId"`
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  time.Time  `json:"expiresAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	RevokedAt  *time.Time `json:"revokedAt"`
	Status     string     `json:"status"`
	// RejectedReason is what Telegram answered (StatusRejected).
	RejectedReason string `json:"rejectedReason,omitempty"`
	// TelegramLogout says, for a revoked session, whether Telegram confirmed
	// the logout ("confirmed"), the daily job will ask again ("pending"), or
	// nothing will ("unconfirmed": no Telegram credentials, or 7 days of
	// retries over; the user can end the session from Telegram itself).
	TelegramLogout string `json:"telegramLogout,omitempty"`
}

// Revocation reports when a session was revoked.
type Revocation struct {
	SessionID string    `json:"sessionId"`
	RevokedAt time.Time `json:"revokedAt"`
}

// AccessLogQuery selects access-log entries. Zero fields do not filter.
type AccessLogQuery struct {
	// UserID selects the entries about this user.
	UserID int64 `json:"userId,omitempty"`
	// SessionID selects the entries about this session.
	SessionID string `json:"sessionId,omitempty"`
	// BeforeID pages backwards: entries older than this entry id.
	BeforeID int64 `json:"beforeId,omitempty"`
	// Limit caps the entries returned (default 100, at most 1000).
	Limit int `json:"limit,omitempty"`
}

// AccessLogEntry is one row of the access log. It never holds a secret.
type AccessLogEntry struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	SessionID string    `json:"sessionId,omitempty"`
	UserID    int64     `json:"userId,omitempty"`
	// Caller is the service that called: the service of the named entrypoint
	// or the props.serviceId of the binding, or the X-Service-ID of an HTTP
	// call. For refused authentications it is the id as claimed if that
	// service has a key, "unknown" if not, "invalid" if malformed.
	Caller string `json:"caller"`
	// Action is get_session, list_sessions, revoke_session, import_session,
	// read_access_log, authenticate (a refused HTTP authentication), a
	// login step (start_login, complete_login, submit_password,
	// resend_code, cancel_login, start_qr_login, poll_login), or
	// report_rejected.
	Action    string `json:"action"`
	Success   bool   `json:"success"`
	ErrorCode Code   `json:"errorCode,omitempty"`
	// Channel is service-binding or http.
	Channel  string `json:"channel"`
	ClientIP string `json:"clientIp,omitempty"`
	// Attempts is how many attempts the entry stands for: 1, but for refused
	// authentications, which are counted per claimed service, client address
	// (per /64 for IPv6) and minute (at is the minute's start).
	Attempts int `json:"attempts"`
	// Detail is what else the row is about, never a secret: for logins the
	// phone's last four digits ("phone …1002") and the login id.
	Detail string `json:"detail,omitempty"`
}

// Entrypoint is a named entrypoint of auth-telegram: a WorkerEntrypoint class
// with the methods of Service that fixes its caller. A service binding with
// entrypoint = Name is the caller ServiceID, whatever its props say; props
// that name another service are refused (FORBIDDEN).
type Entrypoint struct {
	Name      string // the JavaScript class name, such as "IngestorEntrypoint"
	ServiceID string // the caller it fixes
}

// Entrypoints are auth-telegram's named entrypoints, one per trusted caller.
// Deployment tools can set a binding's entrypoint but not its props, so this
// is how a caller deployed by Pulumi or Terraform is identified. To add a
// caller, add a line and redeploy auth-telegram (docs/operations.md); the
// order is the numbering the generated entry module passes to Go, so append.
var Entrypoints = []Entrypoint{
	{Name: "IngestorEntrypoint", ServiceID: IngestorService},
}

// IngestorService is the service id of the ingestor.
const IngestorService = "ingestor-service"
