// Package telegramauth is the contract between auth-telegram and its callers:
// the RPC surface of auth-telegram's default entrypoint, the values it returns,
// and the errors it throws. Both services, the generated JavaScript entry class
// and the generated TypeScript declaration are built from this file.
//
// The JSON names and shapes here are the wire contract (see docs/ARCHITECTURE.md);
// renaming a field breaks callers written in JavaScript.
package telegramauth

//go:generate go run ../workers/rpcgen -type Service -go rpc_gen.go -js ../services/auth-telegram/entry/worker.mjs -dts ../services/auth-telegram/entry/auth-telegram.d.ts -js-class TelegramAuthWorker -service auth-telegram -error-name TelegramAuthError -error-type rpcErrorProps

import (
	"context"
	"time"
)

// Service is the RPC surface of auth-telegram's default entrypoint. Each method
// is exposed to JavaScript under its rpc name (the Go name in lower camel case:
// GetSessionByUserID is getSessionByUserId).
//
// The caller is identified by the binding's props (ctx.props.serviceId), never
// by an argument.
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
	// Caller is the service that called: the binding's props.serviceId, or
	// the X-Service-ID of an HTTP call (as claimed, for refused ones).
	Caller string `json:"caller"`
	// Action is get_session, list_sessions, revoke_session, import_session,
	// authenticate (a refused HTTP authentication), or another action.
	Action    string `json:"action"`
	Success   bool   `json:"success"`
	ErrorCode Code   `json:"errorCode,omitempty"`
	// Channel is service-binding or http.
	Channel  string `json:"channel"`
	ClientIP string `json:"clientIp,omitempty"`
}

// MaxUserID is the largest user id accepted: ids cross JavaScript as numbers,
// which are exact up to 2^53-1.
const MaxUserID = 1<<53 - 1

// ValidUserID reports whether id is a user id auth-telegram accepts.
func ValidUserID(id int64) bool { return id > 0 && id <= MaxUserID }
