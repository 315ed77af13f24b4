package ingestorhttp

import (
	"errors"
	"net/http"

	"github.com/communicator/communicator/authclient"
	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/workers"
)

type sessionStatus struct {
	UserID    int64  `json:"userId"`
	Usable    bool   `json:"usable"`
	Reason    string `json:"reason,omitempty"` // SESSION_NOT_FOUND, SESSION_EXPIRED or SESSION_REVOKED
	SessionID string `json:"sessionId,omitempty"`
	ExpiresAt string `json:"expiresAt,omitempty"` // ISO 8601, as JavaScript's toISOString
	Transport string `json:"transport"`           // binding or http
	Source    string `json:"source"`              // cache, binding or http
}

// sessionStatus reports whether the user has a usable session and how the
// ingestor got it, without revealing it.
func (a *api) sessionStatus(w http.ResponseWriter, r *http.Request, _ string) {
	userID, ok := a.userWithSessions(w, r)
	if !ok {
		return
	}
	sess, source, err := a.Sessions.GetSession(r.Context(), userID)
	if err == nil {
		httpapi.WriteData(w, http.StatusOK, sessionStatus{
			UserID: userID, Usable: true, SessionID: sess.SessionID, ExpiresAt: httpapi.ISOTime(sess.ExpiresAt),
			Transport: a.Sessions.Transport(), Source: source.String(),
		})
		return
	}
	switch code := telegramauth.CodeOf(err); code {
	case telegramauth.CodeSessionNotFound, telegramauth.CodeSessionExpired, telegramauth.CodeSessionRevoked:
		st := sessionStatus{UserID: userID, Usable: false, Reason: string(code), Transport: a.Sessions.Transport(), Source: source.String()}
		var te *telegramauth.Error
		if errors.As(err, &te) {
			st.SessionID = te.SessionID
		}
		httpapi.WriteData(w, http.StatusOK, st)
	default:
		a.writeAuthError(w, err)
	}
}

// userWithSessions is the route's {userId}, once the session client is known
// to be configured; otherwise it has answered (503 or 400) and ok is false.
func (a *api) userWithSessions(w http.ResponseWriter, r *http.Request) (userID int64, ok bool) {
	if a.Sessions == nil {
		notConfigured(w, "the session client", a.ClientErr)
		return 0, false
	}
	userID, e := httpapi.ParseUserID(r.PathValue("userId"))
	if e != nil {
		httpapi.WriteError(w, 0, e)
		return 0, false
	}
	return userID, true
}

// writeAuthError answers a failure of auth-telegram as the ingestor sees it:
// bad input 400, a missing or ended session 404/410, auth-telegram
// unavailable 503, anything else auth-telegram refused 502.
func (a *api) writeAuthError(w http.ResponseWriter, err error) {
	code := telegramauth.CodeOf(err)
	transport := a.Sessions.Transport()
	switch code {
	case telegramauth.CodeInvalidArgument, telegramauth.CodeSessionNotFound, telegramauth.CodeSessionExpired, telegramauth.CodeSessionRevoked:
		httpapi.WriteError(w, 0, err)
	case telegramauth.CodeUnavailable:
		a.Log.Warn("auth-telegram unavailable", "transport", transport, "err", err.Error())
		httpapi.WriteError(w, 0, telegramauth.NewError(code, "auth-telegram is unavailable over "+transport))
	default:
		a.Log.Error("auth-telegram refused the ingestor", "transport", transport, "code", string(code))
		httpapi.WriteError(w, http.StatusBadGateway, telegramauth.NewError(code, "auth-telegram answered "+string(code)+" over "+transport))
	}
}

// revokeSession revokes a session through the session client, which evicts
// it from the cache at once.
func (a *api) revokeSession(w http.ResponseWriter, r *http.Request, caller string) {
	if a.Sessions == nil {
		notConfigured(w, "the session client", a.ClientErr)
		return
	}
	id := r.PathValue("sessionId")
	if e := httpapi.CheckSessionID(id); e != nil {
		httpapi.WriteError(w, 0, e)
		return
	}
	rev, err := a.Sessions.RevokeSession(r.Context(), id)
	if err != nil {
		a.writeAuthError(w, err)
		return
	}
	a.Log.Info("session revoked through the ingestor", "caller", caller, "session_id", id)
	httpapi.WriteData(w, http.StatusOK, map[string]string{"sessionId": rev.SessionID, "revokedAt": httpapi.ISOTime(rev.RevokedAt)})
}

// clientStats are the session client's counters and, under memory and
// bridge, what the isolate that answers holds and its bridge's counters (null
// if they cannot be read).
type clientStats struct {
	authclient.Stats
	Memory *workers.Memory `json:"memory"`
	Bridge *workers.Bridge `json:"bridge"`
}

func (a *api) clientStats(w http.ResponseWriter, r *http.Request, _ string) {
	if a.Sessions == nil {
		notConfigured(w, "the session client", a.ClientErr)
		return
	}
	out := clientStats{Stats: a.Sessions.Stats()}
	if a.Isolate != nil {
		i, err := a.Isolate(r.Context())
		if err != nil {
			a.Log.Warn("the isolate's figures could not be read", "err", err.Error())
		} else {
			out.Memory, out.Bridge = &i.Memory, &i.Bridge
		}
	}
	httpapi.WriteData(w, http.StatusOK, out)
}
