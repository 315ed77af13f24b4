// Package ingestorhttp is the ingestor's HTTP API, for communicator and
// operators. Every route but GET /health takes an API key
// ("Authorization: ApiKey <key>" and "X-Service-ID: <id>", keys in
// INGESTOR_API_KEYS) and a permission of INGESTOR_ACCESS_POLICY: a caller
// that does not authenticate gets 401, a known service without the
// permission 403, both before anything is fetched from auth-telegram or any
// connection to Telegram is opened.
//
// Routes:
//
//	GET    /health                            no auth: D1, configuration, auth-telegram over the transport in use
//	GET    /telegram/session-status/{userId}  read: whether the user has a usable session (never the session)
//	GET    /telegram/me/{userId}              read: the user's Telegram account, over MTProto
//	GET    /telegram/client-stats             read: the session client's counters, the isolate's memory and bridge
//	DELETE /telegram/sessions/{sessionId}     operate: revoke through the session client (its cache forgets it at once)
//	POST   /v1/users/{userId}/sync            sync: register the account if new and queue a sync now (202)
//	GET    /v1/users/{userId}/sync            read: the sync's state and progress
//	DELETE /v1/users/{userId}/sync            sync: pause the account's ingestion until the next POST
//	GET    /v1/users/{userId}/dialogs         read: stored dialogs, newest activity first (?limit, ?cursor)
//	GET    /v1/users/{userId}/dialogs/{peer}/messages  read: stored messages, newest first (?limit, ?before)
//	DELETE /v1/users/{userId}                 sync: stop ingesting the account and delete everything stored for it
//
// Bodies are httpapi's envelope; errors carry the contract's codes and, for
// Telegram's own failures, the codes of telegram.go.
package ingestorhttp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/communicator/communicator/accesspolicy"
	"github.com/communicator/communicator/authclient"
	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/ingest"
	"github.com/communicator/communicator/mtproto/tgclient"
	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/workers"
)

// Permissions of INGESTOR_ACCESS_POLICY.
const (
	// PermRead: the session status, the Telegram account, the client's
	// counters, ingestion's state and what it stored.
	PermRead = "read"
	// PermOperate: revoking a session.
	PermOperate = "operate"
	// PermSync: starting, pausing and deleting an account's ingestion.
	PermSync = "sync"
)

// Permissions lists every permission the policy may grant.
var Permissions = []string{PermRead, PermSync, PermOperate}

// The variables ParseCallers reads.
const (
	EnvAPIKeys      = "INGESTOR_API_KEYS"      // secret: service id -> SHA-256 hex of its key
	EnvAccessPolicy = "INGESTOR_ACCESS_POLICY" // permission -> service ids
)

// Callers are who may call the API: their API keys and permissions.
type Callers struct {
	Keys   httpapi.APIKeys
	Policy accesspolicy.Policy
}

// ParseCallers reads INGESTOR_API_KEYS and INGESTOR_ACCESS_POLICY. Unset, they
// are empty: every route but health then answers 401 (no keys) or 403 (no
// permissions). The error names each bad variable, never a key.
func ParseCallers(lookup func(string) (string, bool)) (Callers, error) {
	var c Callers
	var errs []error
	if v, _ := lookup(EnvAPIKeys); v != "" {
		k, err := httpapi.ParseAPIKeys(EnvAPIKeys, v)
		if err != nil {
			errs = append(errs, err)
		} else {
			c.Keys = k
		}
	}
	if v, _ := lookup(EnvAccessPolicy); v != "" {
		p, err := accesspolicy.Parse(EnvAccessPolicy, v, Permissions)
		if err != nil {
			errs = append(errs, err)
		} else {
			c.Policy = p
		}
	}
	return c, errors.Join(errs...)
}

// SessionClient is the session client (authclient.Client) as the routes use it.
type SessionClient interface {
	GetSession(ctx context.Context, userID int64) (telegramauth.Session, authclient.Source, error)
	RevokeSession(ctx context.Context, sessionID string) (telegramauth.Revocation, error)
	// ReportRejected drops the user's cached session and tells auth-telegram
	// that Telegram refused it (authclient.Client.ReportRejected).
	ReportRejected(ctx context.Context, userID int64, sessionID, reason string) error
	Stats() authclient.Stats
	Transport() string
}

// Config is what the API is built from, once per isolate.
type Config struct {
	Log     *slog.Logger
	Version string
	Callers Callers
	// CallersErr is why INGESTOR_API_KEYS or INGESTOR_ACCESS_POLICY is
	// unusable (then nobody authenticates); health names the variables.
	CallersErr error
	// Sessions gets sessions from auth-telegram; nil while ClientErr says
	// why its configuration is unusable.
	Sessions  SessionClient
	ClientErr error
	// Telegram runs units of work with Telegram; TelegramErr is why its
	// configuration (API credentials, endpoint) is unusable, if it is.
	Telegram    *tgclient.Client
	TelegramErr error
	// Ingest runs and answers ingestion; nil while IngestErr says why its
	// configuration is unusable.
	Ingest    *ingest.Service
	IngestErr error
	// DB is the ingestor's D1 database, for health.
	DB interface{ PingContext(context.Context) error }
	// PingAuth asks auth-telegram's health over the transport in use.
	PingAuth func(ctx context.Context) error
	// Isolate reads the isolate's memory and bridge counters for
	// client-stats (workers.ReadIsolate); nil reports none.
	Isolate func(ctx context.Context) (workers.Isolate, error)
}

type api struct{ Config }

// NewHandler returns the ingestor's HTTP API.
func NewHandler(cfg Config) http.Handler {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	a := &api{cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", a.health)
	mux.Handle("GET /telegram/session-status/{userId}", a.guard(PermRead, a.sessionStatus))
	mux.Handle("GET /telegram/me/{userId}", a.guard(PermRead, a.me))
	mux.Handle("GET /telegram/client-stats", a.guard(PermRead, a.clientStats))
	mux.Handle("DELETE /telegram/sessions/{sessionId}", a.guard(PermOperate, a.revokeSession))
	mux.Handle("POST /v1/users/{userId}/sync", a.guard(PermSync, a.startSync))
	mux.Handle("GET /v1/users/{userId}/sync", a.guard(PermRead, a.syncStatus))
	mux.Handle("DELETE /v1/users/{userId}/sync", a.guard(PermSync, a.pauseSync))
	mux.Handle("GET /v1/users/{userId}/dialogs", a.guard(PermRead, a.listDialogs))
	mux.Handle("GET /v1/users/{userId}/dialogs/{peer}/messages", a.guard(PermRead, a.listMessages))
	mux.Handle("DELETE /v1/users/{userId}", a.guard(PermSync, a.deleteUser))
	mux.HandleFunc("/", httpapi.NotFound)
	return httpapi.RefuseEncodedSlashes(mux)
}

// guard authenticates the caller and checks its permission before next runs:
// 401 for a caller that does not authenticate, 403 for one without perm.
func (a *api) guard(perm string, next func(w http.ResponseWriter, r *http.Request, caller string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, claimed, err := httpapi.Authenticate(r, a.Callers.Keys)
		if err != nil {
			a.Log.Warn("http call refused", "caller", claimed, "client_ip", httpapi.ClientIP(r), "path", r.URL.Path, "code", string(err.Code))
			w.Header().Set("WWW-Authenticate", httpapi.AuthScheme)
			httpapi.WriteError(w, 0, err)
			return
		}
		if !a.Callers.Policy.Allows(perm, caller) {
			a.Log.Warn("http call refused", "caller", caller, "client_ip", httpapi.ClientIP(r), "path", r.URL.Path, "code", string(telegramauth.CodeForbidden))
			httpapi.WriteError(w, 0, telegramauth.NewError(telegramauth.CodeForbidden, "service "+caller+" lacks the "+perm+" permission (INGESTOR_ACCESS_POLICY)"))
			return
		}
		next(w, r, caller)
	})
}

// notConfigured answers a route whose dependencies' configuration is
// unusable: 503, naming the bad variables (the caller is authenticated).
func notConfigured(w http.ResponseWriter, what string, err error) {
	msg := what + " is not configured"
	if err != nil {
		msg += ": " + err.Error()
	}
	httpapi.WriteError(w, http.StatusServiceUnavailable, telegramauth.NewError(telegramauth.CodeUnavailable, msg))
}
