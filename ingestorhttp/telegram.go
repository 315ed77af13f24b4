package ingestorhttp

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gotd/td/tg"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/mtproto/sessionstring"
	"github.com/communicator/communicator/mtproto/tgclient"
)

// Error codes of the routes that talk to Telegram, beside the contract's.
const (
	CodeFloodWait       = "TELEGRAM_FLOOD_WAIT"       // 429, retry after error.retryAfter seconds
	CodeUnavailable     = "TELEGRAM_UNAVAILABLE"      // 503, retry: unreachable, dropped, or too slow
	CodeSessionRejected = "TELEGRAM_SESSION_REJECTED" // 410: Telegram no longer accepts the session
	CodeRefused         = "TELEGRAM_REFUSED"          // 502: Telegram refused the call
	CodeBadSession      = "TELEGRAM_BAD_SESSION"      // 502: auth-telegram handed out a session that cannot be read
)

// account is the Telegram account of a session, as /telegram/me answers it.
type account struct {
	UserID    int64           `json:"userId"` // communicator's user
	SessionID string          `json:"sessionId"`
	Source    string          `json:"source"` // where the session came from: cache, binding or http
	Telegram  telegramAccount `json:"telegram"`
}

type telegramAccount struct {
	ID        int64  `json:"id"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName,omitempty"`
	Username  string `json:"username,omitempty"`
	Premium   bool   `json:"premium"`
	Bot       bool   `json:"bot"`
}

// me answers the Telegram account behind the user's session: the session
// comes from auth-telegram, the account from Telegram (users.getUsers of
// self) over a connection made for this request and closed with it.
func (a *api) me(w http.ResponseWriter, r *http.Request, _ string) {
	if a.TelegramErr != nil || a.Telegram == nil {
		notConfigured(w, "Telegram", a.TelegramErr)
		return
	}
	userID, ok := a.userWithSessions(w, r)
	if !ok {
		return
	}
	sess, source, err := a.Sessions.GetSession(r.Context(), userID)
	if err != nil {
		a.writeAuthError(w, err)
		return
	}
	parsed, _, err := sessionstring.Parse(sess.SessionString)
	if err != nil {
		// auth-telegram validates what it imports, so this is a bug or a
		// corrupted row there; the error never contains the session.
		a.Log.Error("auth-telegram handed out a session this ingestor cannot read", "session_id", sess.SessionID, "err", err.Error())
		writeTelegramError(w, http.StatusBadGateway, CodeBadSession, "auth-telegram handed out a session string the ingestor cannot read", sess.SessionID, 0)
		return
	}
	var self *tg.User
	err = a.Telegram.Run(r.Context(), parsed, func(ctx context.Context, api *tg.Client) error {
		users, err := api.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
		if err != nil {
			return err
		}
		for _, u := range users {
			if u, ok := u.(*tg.User); ok && u.Self {
				self = u
				return nil
			}
		}
		return errors.New("users.getUsers returned no user marked self")
	})
	if err != nil {
		a.writeTelegramFailure(r.Context(), w, userID, sess.SessionID, err)
		return
	}
	httpapi.WriteData(w, http.StatusOK, account{
		UserID: userID, SessionID: sess.SessionID, Source: source.String(),
		Telegram: telegramAccount{ID: self.ID, FirstName: self.FirstName, LastName: self.LastName,
			Username: self.Username, Premium: self.Premium, Bot: self.Bot},
	})
}

// writeTelegramFailure answers a unit of work that failed at Telegram with
// the contract's message for its kind; Telegram's own text and gotd's go to
// the log only. A rejected session is dropped from the session cache at
// once, so the next request asks auth-telegram again instead of reusing a
// dead key.
func (a *api) writeTelegramFailure(ctx context.Context, w http.ResponseWriter, userID int64, sessionID string, err error) {
	var te *tgclient.Error
	if !errors.As(err, &te) {
		te = &tgclient.Error{Kind: tgclient.KindRefused, Err: err}
	}
	switch te.Kind {
	case tgclient.KindFloodWait:
		a.Log.Warn("Telegram flood wait", "user_id", userID, "retry_after_s", int(te.RetryAfter.Seconds()))
		writeTelegramError(w, http.StatusTooManyRequests, CodeFloodWait, "Telegram asks to wait before the next call", sessionID, te.RetryAfter)
	case tgclient.KindSessionRejected:
		if err := a.Sessions.ReportRejected(context.WithoutCancel(ctx), userID, sessionID, te.Type); err != nil {
			a.Log.Error("Telegram rejected the session; auth-telegram could not be told", "user_id", userID, "session_id", sessionID, "err", err)
		}
		a.Log.Warn("Telegram rejected the session; dropped from the session cache and reported to auth-telegram", "user_id", userID, "session_id", sessionID, "telegram_error", te.Type)
		writeTelegramError(w, http.StatusGone, CodeSessionRejected, "Telegram no longer accepts this session ("+te.Type+"); the user must log in again", sessionID, 0)
	case tgclient.KindUnavailable:
		a.Log.Warn("Telegram unavailable", "user_id", userID, "err", te.Error())
		msg := "Telegram is unreachable or the connection dropped; retry"
		if errors.Is(te, context.DeadlineExceeded) {
			msg = "Telegram did not answer within " + a.Telegram.Endpoint().Timeout.String() + " (TELEGRAM_CALL_TIMEOUT); retry"
		}
		writeTelegramError(w, http.StatusServiceUnavailable, CodeUnavailable, msg, sessionID, 0)
	default:
		a.Log.Error("Telegram refused the call", "user_id", userID, "telegram_error", te.Type, "err", te.Error())
		msg := "Telegram refused the call"
		if te.Type != "" {
			msg += " (" + te.Type + ")"
		}
		writeTelegramError(w, http.StatusBadGateway, CodeRefused, msg, sessionID, 0)
	}
}

func writeTelegramError(w http.ResponseWriter, status int, code, message, sessionID string, retryAfter time.Duration) {
	retryable := code == CodeFloodWait || code == CodeUnavailable
	body := httpapi.ErrorBody{Code: code, Message: message, SessionID: sessionID, Retryable: &retryable}
	if retryAfter > 0 {
		body.RetryAfter = int((retryAfter + time.Second - 1) / time.Second)
	}
	httpapi.WriteErrorBody(w, status, body)
}
