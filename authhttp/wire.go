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
}

func toWireLogEntry(e telegramauth.AccessLogEntry) wireLogEntry {
	return wireLogEntry{ID: e.ID, At: jsTime(e.At), SessionID: e.SessionID, UserID: e.UserID, Caller: e.Caller,
		Action: e.Action, Success: e.Success, ErrorCode: string(e.ErrorCode), Channel: e.Channel, ClientIP: e.ClientIP, Attempts: e.Attempts}
}

func (w wireLogEntry) entry() telegramauth.AccessLogEntry {
	return telegramauth.AccessLogEntry{ID: w.ID, At: time.Time(w.At), SessionID: w.SessionID, UserID: w.UserID, Caller: w.Caller,
		Action: w.Action, Success: w.Success, ErrorCode: telegramauth.Code(w.ErrorCode), Channel: w.Channel, ClientIP: w.ClientIP, Attempts: w.Attempts}
}
