package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gotd/td/tg"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/mtproto/sessionstring"
	"github.com/communicator/communicator/mtproto/tgclient"
	"github.com/communicator/communicator/telegramauth"
)

// Error codes of the routes that talk to Telegram, beside auth-telegram's.
const (
	codeFloodWait       = "TELEGRAM_FLOOD_WAIT"       // 429, retry after error.retryAfter seconds
	codeUnavailable     = "TELEGRAM_UNAVAILABLE"      // 503, retry: unreachable, dropped, or too slow
	codeSessionRejected = "TELEGRAM_SESSION_REJECTED" // 410: Telegram no longer accepts the session
	codeRefused         = "TELEGRAM_REFUSED"          // 502: Telegram refused the call
	codeBadSession      = "TELEGRAM_BAD_SESSION"      // 502: auth-telegram handed out a session that cannot be read
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
func (s *server) me(w http.ResponseWriter, r *http.Request) {
	if s.clientErr != nil {
		s.writeNotConfigured(w)
		return
	}
	if s.telegramErr != nil {
		writeError(w, http.StatusServiceUnavailable, telegramauth.CodeUnavailable, "Telegram is not configured: "+s.telegramErr.Error())
		return
	}
	userID, e := httpapi.ParseUserID(r.PathValue("userId"))
	if e != nil {
		httpapi.WriteError(w, 0, e)
		return
	}
	sess, source, aerr := s.client.GetSession(r.Context(), userID)
	if aerr != nil {
		s.writeAuthError(w, aerr)
		return
	}
	parsed, _, perr := sessionstring.Parse(sess.SessionString)
	if perr != nil {
		// auth-telegram validates what it imports, so this is a bug or a
		// corrupted row there; the error never contains the session.
		s.log.Error("auth-telegram handed out a session this ingestor cannot read", "session_id", sess.SessionID, "err", perr.Error())
		writeTelegramError(w, http.StatusBadGateway, codeBadSession, "auth-telegram handed out a session that cannot be read: "+perr.Error(), sess.SessionID, 0)
		return
	}
	var self *tg.User
	err := s.tg.Run(r.Context(), parsed, func(ctx context.Context, api *tg.Client) error {
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
		s.writeTelegramFailure(w, userID, sess.SessionID, err)
		return
	}
	httpapi.WriteData(w, http.StatusOK, account{
		UserID: userID, SessionID: sess.SessionID, Source: source.String(),
		Telegram: telegramAccount{ID: self.ID, FirstName: self.FirstName, LastName: self.LastName,
			Username: self.Username, Premium: self.Premium, Bot: self.Bot},
	})
}

// writeTelegramFailure answers a unit of work that failed at Telegram. A
// rejected session is dropped from the session cache at once, so the next
// request asks auth-telegram again instead of reusing a dead key.
func (s *server) writeTelegramFailure(w http.ResponseWriter, userID int64, sessionID string, err error) {
	var te *tgclient.Error
	if !errors.As(err, &te) {
		te = &tgclient.Error{Kind: tgclient.KindRefused, Err: err}
	}
	switch te.Kind {
	case tgclient.KindFloodWait:
		s.log.Warn("Telegram flood wait", "user_id", userID, "retry_after_s", int(te.RetryAfter.Seconds()))
		writeTelegramError(w, http.StatusTooManyRequests, codeFloodWait, te.Error(), sessionID, te.RetryAfter)
	case tgclient.KindSessionRejected:
		s.client.Invalidate(userID)
		s.log.Warn("Telegram rejected the session; dropped from the session cache", "user_id", userID, "session_id", sessionID, "telegram_error", te.Type)
		writeTelegramError(w, http.StatusGone, codeSessionRejected, te.Error()+"; the user must log in again", sessionID, 0)
	case tgclient.KindUnavailable:
		s.log.Warn("Telegram unavailable", "user_id", userID, "err", te.Error())
		writeTelegramError(w, http.StatusServiceUnavailable, codeUnavailable, te.Error(), sessionID, 0)
	default:
		s.log.Error("Telegram refused the call", "user_id", userID, "telegram_error", te.Type, "err", te.Error())
		writeTelegramError(w, http.StatusBadGateway, codeRefused, te.Error(), sessionID, 0)
	}
}

// telegramError is envelope.error for Telegram failures: auth-telegram's
// fields plus whether to retry and when.
type telegramError struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	SessionID  string `json:"sessionId,omitempty"`
	Retryable  bool   `json:"retryable"`
	RetryAfter int    `json:"retryAfter,omitempty"` // seconds
}

func writeTelegramError(w http.ResponseWriter, status int, code, message, sessionID string, retryAfter time.Duration) {
	e := telegramError{Code: code, Message: message, SessionID: sessionID,
		Retryable: code == codeFloodWait || code == codeUnavailable}
	if retryAfter > 0 {
		e.RetryAfter = int((retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	httpapi.WriteJSON(w, status, struct {
		Success bool          `json:"success"`
		Error   telegramError `json:"error"`
	}{Error: e})
}
