package authhttp

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/communicator/communicator/telegramauth"
)

// caller is what the test WithCaller hook puts into the context.
type caller struct{ serviceID, clientIP string }

type callerKey struct{}

func testWithCaller(ctx context.Context, serviceID, clientIP string) context.Context {
	return context.WithValue(ctx, callerKey{}, caller{serviceID, clientIP})
}

type fakeSession struct {
	info   telegramauth.SessionInfo
	secret string
}

// fakeService is an in-memory telegramauth.Service.
type fakeService struct {
	mu       sync.Mutex
	now      time.Time
	sessions map[string]*fakeSession
	err      error    // returned by every method when set
	calls    []string // method names, in order
	callers  []caller // the caller found in each call's context
}

func newFakeService() *fakeService {
	return &fakeService{
		now:      time.Date(2026, 11, 26, 22, 22, 44, 123456789, time.UTC),
		sessions: map[string]*fakeSession{},
	}
}

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "ses_" + lowerBase32.EncodeToString(b[:])
}

func (f *fakeService) enter(ctx context.Context, method string) error {
	f.calls = append(f.calls, method)
	c, _ := ctx.Value(callerKey{}).(caller)
	f.callers = append(f.callers, c)
	return f.err
}

func (f *fakeService) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeService) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeService) byUser(userID int64) []*fakeSession {
	var out []*fakeSession
	for _, s := range f.sessions {
		if s.info.UserID == userID {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].info.CreatedAt.After(out[j].info.CreatedAt) })
	return out
}

func (f *fakeService) GetSessionByUserID(ctx context.Context, userID int64) (telegramauth.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "GetSessionByUserID"); err != nil {
		return telegramauth.Session{}, err
	}
	for _, s := range f.byUser(userID) {
		if s.info.Status == telegramauth.StatusActive {
			used := f.now
			s.info.LastUsedAt = &used
			return telegramauth.Session{SessionString: s.secret, SessionID: s.info.SessionID, UserID: userID, ExpiresAt: s.info.ExpiresAt}, nil
		}
	}
	return telegramauth.Session{}, telegramauth.NewError(telegramauth.CodeSessionNotFound, "no active session for this user")
}

func (f *fakeService) ListSessions(ctx context.Context, userID int64) ([]telegramauth.SessionInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "ListSessions"); err != nil {
		return nil, err
	}
	var out []telegramauth.SessionInfo
	for _, s := range f.byUser(userID) {
		out = append(out, s.info)
	}
	return out, nil
}

func (f *fakeService) RevokeSession(ctx context.Context, sessionID string) (telegramauth.Revocation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "RevokeSession"); err != nil {
		return telegramauth.Revocation{}, err
	}
	s, ok := f.sessions[sessionID]
	if !ok {
		return telegramauth.Revocation{}, &telegramauth.Error{Code: telegramauth.CodeSessionNotFound, Message: "no such session", SessionID: sessionID}
	}
	if s.info.RevokedAt == nil {
		at := f.now.Add(time.Minute)
		s.info.RevokedAt = &at
		s.info.Status = telegramauth.StatusRevoked
	}
	return telegramauth.Revocation{SessionID: sessionID, RevokedAt: *s.info.RevokedAt}, nil
}

func (f *fakeService) ImportSession(ctx context.Context, userID int64, sessionString string) (telegramauth.SessionInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "ImportSession"); err != nil {
		return telegramauth.SessionInfo{}, err
	}
	if !strings.HasPrefix(sessionString, "1") {
		return telegramauth.SessionInfo{}, telegramauth.NewError(telegramauth.CodeInvalidArgument, "sessionString is not a GramJS or Telethon string session")
	}
	f.now = f.now.Add(time.Second)
	info := telegramauth.SessionInfo{
		SessionID: newSessionID(),
		UserID:    userID,
		CreatedAt: f.now,
		ExpiresAt: f.now.Add(30 * 24 * time.Hour),
		Status:    telegramauth.StatusActive,
	}
	f.sessions[info.SessionID] = &fakeSession{info: info, secret: sessionString}
	return info, nil
}

// AccessLog returns one entry per call made so far, newest first, filtered
// by the query (enough to test the route and the client).
func (f *fakeService) AccessLog(ctx context.Context, q telegramauth.AccessLogQuery) ([]telegramauth.AccessLogEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, "AccessLog"); err != nil {
		return nil, err
	}
	out := []telegramauth.AccessLogEntry{}
	for i := len(f.calls) - 1; i >= 0; i-- {
		e := telegramauth.AccessLogEntry{ID: int64(i + 1), At: f.now, UserID: q.UserID, SessionID: q.SessionID,
			Caller: f.callers[i].serviceID, Action: f.calls[i], Success: true, Channel: "http", ClientIP: f.callers[i].clientIP}
		if q.BeforeID != 0 && e.ID >= q.BeforeID {
			continue
		}
		out = append(out, e)
		if q.Limit != 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}
