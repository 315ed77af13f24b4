package authhttp

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/communicator/communicator/telegramauth"
)

// isoLayout is the layout of JavaScript's Date.prototype.toISOString for years
// 0000-9999: UTC, milliseconds, "Z".
const isoLayout = "2006-01-02T15:04:05.000Z"

// jsTime is a time.Time that crosses JSON as JavaScript's toISOString writes it.
type jsTime time.Time

func (t jsTime) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(isoLayout)+2)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, isoLayout)
	return append(b, '"'), nil
}

func (t *jsTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("time is not a JSON string")
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return errors.New("time is not ISO 8601")
	}
	*t = jsTime(v.UTC())
	return nil
}

func jsTimePtr(t *time.Time) *jsTime {
	if t == nil {
		return nil
	}
	v := jsTime(*t)
	return &v
}

func timePtr(t *jsTime) *time.Time {
	if t == nil {
		return nil
	}
	v := time.Time(*t)
	return &v
}

type wireSession struct {
	SessionString string `json:"sessionString"`
	SessionID     string `json:"sessionId"`
	UserID        int64  `json:"userId"`
	ExpiresAt     jsTime `json:"expiresAt"`
}

type wireInfo struct {
	SessionID  string  `json:"sessionId"`
	UserID     int64   `json:"userId"`
	CreatedAt  jsTime  `json:"createdAt"`
	ExpiresAt  jsTime  `json:"expiresAt"`
	LastUsedAt *jsTime `json:"lastUsedAt"`
	RevokedAt  *jsTime `json:"revokedAt"`
	Status     string  `json:"status"`

	RejectedReason string `json:"rejectedReason,omitempty"`
	TelegramLogout string `json:"telegramLogout,omitempty"`
}

type wireRevocation struct {
	SessionID string `json:"sessionId"`
	RevokedAt jsTime `json:"revokedAt"`
}

type wireImport struct {
	UserID        int64  `json:"userId"`
	SessionString string `json:"sessionString"`
}

func toWireSession(s telegramauth.Session) wireSession {
	return wireSession{SessionString: s.SessionString, SessionID: s.SessionID, UserID: s.UserID, ExpiresAt: jsTime(s.ExpiresAt)}
}

func (w wireSession) session() telegramauth.Session {
	return telegramauth.Session{SessionString: w.SessionString, SessionID: w.SessionID, UserID: w.UserID, ExpiresAt: time.Time(w.ExpiresAt)}
}

func toWireInfo(s telegramauth.SessionInfo) wireInfo {
	return wireInfo{
		SessionID:  s.SessionID,
		UserID:     s.UserID,
		CreatedAt:  jsTime(s.CreatedAt),
		ExpiresAt:  jsTime(s.ExpiresAt),
		LastUsedAt: jsTimePtr(s.LastUsedAt),
		RevokedAt:  jsTimePtr(s.RevokedAt),
		Status:     s.Status,

		RejectedReason: s.RejectedReason,
		TelegramLogout: s.TelegramLogout,
	}
}

func (w wireInfo) info() telegramauth.SessionInfo {
	return telegramauth.SessionInfo{
		SessionID:  w.SessionID,
		UserID:     w.UserID,
		CreatedAt:  time.Time(w.CreatedAt),
		ExpiresAt:  time.Time(w.ExpiresAt),
		LastUsedAt: timePtr(w.LastUsedAt),
		RevokedAt:  timePtr(w.RevokedAt),
		Status:     w.Status,

		RejectedReason: w.RejectedReason,
		TelegramLogout: w.TelegramLogout,
	}
}

// wireLogEntry is an access-log entry on the wire.
type wireLogEntry struct {
	ID        int64  `json:"id"`
	At        jsTime `json:"at"`
	SessionID string `json:"sessionId,omitempty"`
	UserID    int64  `json:"userId,omitempty"`
	Caller    string `json:"caller"`
	Action    string `json:"action"`
	Success   bool   `json:"success"`
	ErrorCode string `json:"errorCode,omitempty"`
	Channel   string `json:"channel"`
	ClientIP  string `json:"clientIp,omitempty"`
	Attempts  int    `json:"attempts"`
	Detail    string `json:"detail,omitempty"`
}

func toWireLogEntry(e telegramauth.AccessLogEntry) wireLogEntry {
	return wireLogEntry{ID: e.ID, At: jsTime(e.At), SessionID: e.SessionID, UserID: e.UserID, Caller: e.Caller,
		Action: e.Action, Success: e.Success, ErrorCode: string(e.ErrorCode), Channel: e.Channel, ClientIP: e.ClientIP, Attempts: e.Attempts, Detail: e.Detail}
}

func (w wireLogEntry) entry() telegramauth.AccessLogEntry {
	return telegramauth.AccessLogEntry{ID: w.ID, At: time.Time(w.At), SessionID: w.SessionID, UserID: w.UserID, Caller: w.Caller,
		Action: w.Action, Success: w.Success, ErrorCode: telegramauth.Code(w.ErrorCode), Channel: w.Channel, ClientIP: w.ClientIP, Attempts: w.Attempts, Detail: w.Detail}
}

type wireLoginStart struct {
	LoginID        string `json:"loginId"`
	CodeType       string `json:"codeType"`
	NextType       string `json:"nextType,omitempty"`
	TimeoutSeconds int    `json:"timeoutSeconds,omitempty"`
	ExpiresAt      jsTime `json:"expiresAt"`
}

func toWireLoginStart(s telegramauth.LoginStart) wireLoginStart {
	return wireLoginStart{LoginID: s.LoginID, CodeType: s.CodeType, NextType: s.NextType, TimeoutSeconds: s.TimeoutSeconds, ExpiresAt: jsTime(s.ExpiresAt)}
}

func (w wireLoginStart) start() telegramauth.LoginStart {
	return telegramauth.LoginStart{LoginID: w.LoginID, CodeType: w.CodeType, NextType: w.NextType, TimeoutSeconds: w.TimeoutSeconds, ExpiresAt: time.Time(w.ExpiresAt)}
}

type wireLoginResult struct {
	LoginID   string    `json:"loginId"`
	Status    string    `json:"status"`
	Hint      string    `json:"hint,omitempty"`
	Session   *wireInfo `json:"session,omitempty"`
	URL       string    `json:"url,omitempty"`
	ExpiresAt *jsTime   `json:"expiresAt,omitempty"`
}

func toWireLoginResult(r telegramauth.LoginResult) wireLoginResult {
	w := wireLoginResult{LoginID: r.LoginID, Status: r.Status, Hint: r.Hint, URL: r.URL, ExpiresAt: jsTimePtr(r.ExpiresAt)}
	if r.Session != nil {
		info := toWireInfo(*r.Session)
		w.Session = &info
	}
	return w
}

func (w wireLoginResult) result() telegramauth.LoginResult {
	r := telegramauth.LoginResult{LoginID: w.LoginID, Status: w.Status, Hint: w.Hint, URL: w.URL, ExpiresAt: timePtr(w.ExpiresAt)}
	if w.Session != nil {
		info := w.Session.info()
		r.Session = &info
	}
	return r
}

type wireQRLogin struct {
	LoginID   string `json:"loginId"`
	URL       string `json:"url"`
	ExpiresAt jsTime `json:"expiresAt"`
}

// wireCancelled is the answer of POST /login/cancel.
type wireCancelled struct {
	LoginID   string `json:"loginId"`
	Cancelled bool   `json:"cancelled"`
}
