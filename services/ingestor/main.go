// Command ingestor pulls users' Telegram messages into communicator, run as a
// Cloudflare Worker. It gets each user's session from auth-telegram through
// the TELEGRAM_AUTH service binding (RPC), or over auth-telegram's HTTP API
// when TELEGRAM_AUTH_TRANSPORT says so. Build it with `make build`.
package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/communicator/communicator/authclient"
	"github.com/communicator/communicator/authrpc"
	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/internal/logging"
	"github.com/communicator/communicator/mtproto/tgclient"
	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/workers"
	"github.com/communicator/communicator/workers/d1"
)

// version is set at build time (-ldflags -X main.version=...).
var version = "dev"

// main runs once per isolate, on its first event: the configuration is parsed
// and the session client built once, and shared by every request.
func main() {
	log := logging.New("ingestor", nil)
	cfg, cfgErr := authclient.ParseConfig(workers.LookupEnv, workers.HasBinding)
	if cfgErr != nil {
		log.Error("configuration problems; the routes that need them answer 503", "problems", cfgErr.Error())
	}
	s := &server{log: log, db: d1.Open("DB"), cfg: cfg}
	if ce, ok := cfgErr.(*authclient.ConfigError); ok {
		s.clientErr = ce.Part(authclient.PartClient)
		s.telegramErr = ce.Part(authclient.PartTelegram)
	} else if cfgErr != nil {
		s.clientErr, s.telegramErr = cfgErr, cfgErr
	}
	if s.clientErr == nil {
		s.client = newSessionClient(cfg.Client)
	}
	endpoint, epErr := tgclient.ParseEndpoint(workers.LookupEnv)
	if epErr != nil {
		log.Error("Telegram endpoint problems; the routes that talk to Telegram answer 503", "problems", epErr.Error())
		s.telegramErr = errors.Join(s.telegramErr, epErr)
	}
	// One client per isolate; each request connects for itself through
	// connect() and closes its connection when it ends.
	s.tg = tgclient.New(tgclient.App{ID: int(cfg.Telegram.APIID), Hash: cfg.Telegram.APIHash}, endpoint, (&workers.Dialer{}).DialContext)
	keys, err := parseOperatorKeys(workers.Getenv("INGESTOR_API_KEYS"))
	if err != nil {
		log.Error("operator routes answer 503", "err", err.Error())
	}
	s.operatorKeys = keys
	workers.Serve(workers.Handlers{Fetch: logging.HTTP(log, s.routes())})
}

// newSessionClient builds the client for the configured transport. The
// binding's RPC client is generated from telegramauth.Service; the HTTP one
// is auth-telegram's HTTP API over the Workers fetch API.
func newSessionClient(cfg authclient.ClientConfig) *authclient.Client {
	var t authclient.Transports
	switch cfg.Transport {
	case authclient.TransportBinding:
		t.Binding = authrpc.ServiceClient{Binding: workers.GetBinding(authclient.BindingName)}
	case authclient.TransportHTTP:
		h, err := authclient.NewHTTPTransport(cfg, workers.DefaultClient)
		if err != nil {
			panic(err) // ParseConfig validated the same fields
		}
		t.HTTP = h
	}
	return authclient.New(cfg, t)
}

type server struct {
	log         *slog.Logger
	db          interface{ PingContext(context.Context) error }
	cfg         authclient.Config
	client      *authclient.Client
	clientErr   error // the session client's configuration is unusable
	telegramErr error // TELEGRAM_API_ID / TELEGRAM_API_HASH / the endpoint are unusable
	tg          *tgclient.Client
	// operatorKeys authenticate operator routes (INGESTOR_API_KEYS, the
	// format of auth-telegram's SERVICE_API_KEYS); without them those routes
	// are off.
	operatorKeys httpapi.APIKeys
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.health)
	mux.HandleFunc("GET /telegram/session-status/{userId}", s.sessionStatus)
	mux.HandleFunc("GET /telegram/client-stats", s.clientStats)
	mux.HandleFunc("GET /telegram/me/{userId}", s.me)
	mux.HandleFunc("DELETE /telegram/sessions/{sessionId}", s.revokeSession)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, telegramauth.CodeInvalidArgument, "no route "+r.Method+" "+clip(r.URL.Path))
	})
	return mux
}

// sessionStatus reports whether the user has a usable session and how the
// ingestor got it, without revealing it.
func (s *server) sessionStatus(w http.ResponseWriter, r *http.Request) {
	if s.clientErr != nil {
		s.writeNotConfigured(w)
		return
	}
	userID, err := httpapi.ParseUserID(r.PathValue("userId"))
	if err != nil {
		httpapi.WriteError(w, 0, err)
		return
	}
	sess, source, err2 := s.client.GetSession(r.Context(), userID)
	if err2 == nil {
		httpapi.WriteData(w, http.StatusOK, sessionStatus{
			UserID: userID, Usable: true, SessionID: sess.SessionID, ExpiresAt: isoTime(sess.ExpiresAt),
			Transport: s.client.Transport(), Source: source.String(),
		})
		return
	}
	code := telegramauth.CodeOf(err2)
	switch code {
	case telegramauth.CodeSessionNotFound, telegramauth.CodeSessionExpired, telegramauth.CodeSessionRevoked:
		st := sessionStatus{UserID: userID, Usable: false, Reason: string(code), Transport: s.client.Transport(), Source: source.String()}
		var te *telegramauth.Error
		if errors.As(err2, &te) {
			st.SessionID = te.SessionID
		}
		httpapi.WriteData(w, http.StatusOK, st)
	default:
		s.writeAuthError(w, err2)
	}
}

// writeAuthError answers a failure of auth-telegram as the ingestor sees it:
// bad input 400, a missing or ended session 404/410, auth-telegram
// unavailable 503, anything else auth-telegram refused 502.
func (s *server) writeAuthError(w http.ResponseWriter, err error) {
	code := telegramauth.CodeOf(err)
	msg := "auth-telegram answered " + string(code) + " over " + s.client.Transport()
	var te *telegramauth.Error
	if errors.As(err, &te) && (code == telegramauth.CodeInvalidArgument || code == telegramauth.CodeSessionNotFound ||
		code == telegramauth.CodeSessionExpired || code == telegramauth.CodeSessionRevoked) {
		msg = te.Message
	}
	switch code {
	case telegramauth.CodeInvalidArgument, telegramauth.CodeSessionNotFound, telegramauth.CodeSessionExpired, telegramauth.CodeSessionRevoked:
		writeError(w, code.HTTPStatus(), code, msg)
	case telegramauth.CodeUnavailable:
		s.log.Warn("auth-telegram unavailable", "transport", s.client.Transport(), "err", err.Error())
		writeError(w, http.StatusServiceUnavailable, code, "auth-telegram is unavailable over "+s.client.Transport())
	default:
		s.log.Error("auth-telegram refused the ingestor", "transport", s.client.Transport(), "code", string(code))
		writeError(w, http.StatusBadGateway, code, msg)
	}
}

// revokeSession revokes a session through the session client, which evicts
// it from the cache at once. An operator route: it takes an API key of
// INGESTOR_API_KEYS, as auth-telegram's HTTP API does.
func (s *server) revokeSession(w http.ResponseWriter, r *http.Request) {
	if s.clientErr != nil {
		s.writeNotConfigured(w)
		return
	}
	if s.operatorKeys.Len() == 0 {
		writeError(w, http.StatusServiceUnavailable, telegramauth.CodeUnavailable, "operator routes are off: INGESTOR_API_KEYS is not set or not usable")
		return
	}
	operator, _, aerr := httpapi.Authenticate(r, s.operatorKeys)
	if aerr != nil {
		w.Header().Set("WWW-Authenticate", "ApiKey")
		httpapi.WriteError(w, http.StatusUnauthorized, aerr)
		return
	}
	id := r.PathValue("sessionId")
	if err := httpapi.CheckSessionID(id); err != nil {
		httpapi.WriteError(w, 0, err)
		return
	}
	rev, err := s.client.RevokeSession(r.Context(), id)
	if err != nil {
		s.writeAuthError(w, err)
		return
	}
	s.log.Info("session revoked through the ingestor", "operator", operator, "session_id", id)
	httpapi.WriteData(w, http.StatusOK, map[string]string{"sessionId": rev.SessionID, "revokedAt": isoTime(rev.RevokedAt)})
}

type sessionStatus struct {
	UserID    int64  `json:"userId"`
	Usable    bool   `json:"usable"`
	Reason    string `json:"reason,omitempty"` // SESSION_NOT_FOUND, SESSION_EXPIRED or SESSION_REVOKED
	SessionID string `json:"sessionId,omitempty"`
	ExpiresAt string `json:"expiresAt,omitempty"` // ISO 8601, as JavaScript's toISOString
	Transport string `json:"transport"`           // binding or http
	Source    string `json:"source"`              // cache, binding or http
}

func (s *server) clientStats(w http.ResponseWriter, r *http.Request) {
	if s.client == nil {
		s.writeNotConfigured(w)
		return
	}
	httpapi.WriteData(w, http.StatusOK, s.client.Stats())
}

// writeNotConfigured answers a route that needs the session client while its
// configuration is unusable: 503, naming the bad variables.
func (s *server) writeNotConfigured(w http.ResponseWriter) {
	writeError(w, http.StatusServiceUnavailable, telegramauth.CodeUnavailable, "ingestor is not configured: "+s.clientErr.Error())
}

// parseOperatorKeys reads INGESTOR_API_KEYS (the format of auth-telegram's
// SERVICE_API_KEYS). Unset means no operator routes; malformed is an error
// naming the variable, never its value.
func parseOperatorKeys(v string) (httpapi.APIKeys, error) {
	if v == "" {
		return httpapi.APIKeys{}, nil
	}
	keys, err := httpapi.ParseAPIKeys("INGESTOR_API_KEYS", v)
	if err != nil {
		return httpapi.APIKeys{}, errors.New(strings.Replace(err.Error(), "SERVICE_API_KEYS", "INGESTOR_API_KEYS", 1))
	}
	return keys, nil
}
