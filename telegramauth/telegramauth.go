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

// MaxUserID is the largest user id accepted: ids cross JavaScript as numbers,
// which are exact up to 2^53-1.
const MaxUserID = 1<<53 - 1

// ValidUserID reports whether id is a user id auth-telegram accepts.
func ValidUserID(id int64) bool { return id > 0 && id <= MaxUserID }
