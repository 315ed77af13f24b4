//go:build !js

// The vault is tested natively on SQLite (modernc.org/sqlite does not build
// for js/wasm); the same SQL runs on D1 in the end-to-end tests.

package vault

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communicator/communicator/accesspolicy"
	"github.com/communicator/communicator/internal/sqlitetest"
	"github.com/communicator/communicator/mtproto/sessionstring"
	"github.com/communicator/communicator/telegramauth"
)

const migrations = "../services/auth-telegram/migrations"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// fixture is a Service over a fresh SQLite database with the migrations.
type fixture struct {
	t      *testing.T
	db     *sql.DB
	clock  *clock
	svc    *Service
	logBuf *bytes.Buffer // the Service's operational log
	errs   []string      // every error message returned, for the secrets check
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	f := &fixture{t: t, db: sqlitetest.Open(t, migrations), clock: &clock{t: t0}, logBuf: &bytes.Buffer{}}
	f.svc = f.service(mustSealer(t, secretA, nil), opts)
	return f
}

// service builds another Service over the same database and clock.
func (f *fixture) service(sealer *Sealer, opts Options) *Service {
	f.t.Helper()
	if opts.Now == nil {
		opts.Now = f.clock.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(f.logBuf, nil))
	}
	s, err := New(f.db, sealer, opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

var (
	ingestor = WithCaller(context.Background(), Caller{ServiceID: telegramauth.IngestorService, Channel: ChannelServiceBinding})
	overHTTP = WithCaller(context.Background(), Caller{ServiceID: telegramauth.IngestorService, Channel: ChannelHTTP, ClientIP: "203.0.113.9"})
)

// testSession returns a session and its canonical GramJS string.
func testSession(seed uint64) (sessionstring.Session, string) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s := sessionstring.Session{DC: 2, Addr: "149.154.167.51", Port: 443}
	for i := range s.AuthKey {
		s.AuthKey[i] = byte(r.UintN(256))
	}
	return s, sessionstring.Encode(s)
}

// wantErr checks that err is a *telegramauth.Error with the code, and records
// its message for the secrets check.
func (f *fixture) wantErr(err error, code telegramauth.Code) *telegramauth.Error {
	f.t.Helper()
	var e *telegramauth.Error
	if !errors.As(err, &e) {
		f.t.Fatalf("error %v (%T), want *telegramauth.Error %s", err, err, code)
	}
	if e.Code != code {
		f.t.Fatalf("error %v, want code %s", err, code)
	}
	f.errs = append(f.errs, e.Error())
	return e
}

func (f *fixture) importSession(ctx context.Context, userID int64, str string) telegramauth.SessionInfo {
	f.t.Helper()
	info, err := f.svc.ImportSession(ctx, userID, str)
	if err != nil {
		f.t.Fatal(err)
	}
	return info
}

// logRows returns the whole access log, oldest first, read with plain SQL.
func (f *fixture) logRows() []AccessLogEntry {
	f.t.Helper()
	rows, err := f.db.Query("SELECT id, at, coalesce(session_id, ''), coalesce(user_id, 0), caller, action, success, coalesce(error_code, ''), channel, coalesce(client_ip, ''), attempts FROM access_log ORDER BY id")
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []AccessLogEntry
	for rows.Next() {
		var e AccessLogEntry
		var at, success int64
		var action, code string
		if err := rows.Scan(&e.ID, &at, &e.SessionID, &e.UserID, &e.Caller, &action, &success, &code, &e.Channel, &e.ClientIP, &e.Attempts); err != nil {
			f.t.Fatal(err)
		}
		e.At, e.Action, e.Success, e.ErrorCode = fromMillis(at), action, success == 1, telegramauth.Code(code)
		out = append(out, e)
	}
	return out
}

// lastLog returns the newest access-log row and checks that the log grew by
// exactly one row since before (the count of rows then).
func (f *fixture) lastLog(before int) AccessLogEntry {
	f.t.Helper()
	rows := f.logRows()
	if len(rows) != before+1 {
		f.t.Fatalf("access log has %d rows, want %d (exactly one more)", len(rows), before+1)
	}
	return rows[len(rows)-1]
}

func (f *fixture) logCount() int { return len(f.logRows()) }

// checkLog compares the fields of a log row that a test cares about.
func checkLog(t *testing.T, got AccessLogEntry, want AccessLogEntry) {
	t.Helper()
	got.ID, got.At = 0, time.Time{}
	if want.Attempts == 0 {
		want.Attempts = 1 // every row but a counted refusal stands for one attempt
	}
	if got != want {
		t.Fatalf("access log row\n got %+v\nwant %+v", got, want)
	}
}

func (f *fixture) column(query string, args ...any) any {
	f.t.Helper()
	var v any
	if err := f.db.QueryRow(query, args...).Scan(&v); err != nil {
		f.t.Fatal(err)
	}
	return v
}

func TestImportAndGet(t *testing.T) {
	f := newFixture(t, Options{})
	sess, str := testSession(1)

	n := f.logCount()
	info := f.importSession(ingestor, 42, str)
	if !telegramauth.ValidSessionID(info.SessionID) || info.UserID != 42 || info.Status != telegramauth.StatusActive {
		t.Fatalf("info %+v", info)
	}
	if !info.CreatedAt.Equal(t0) || !info.ExpiresAt.Equal(t0.Add(DefaultLifetime)) || info.LastUsedAt != nil || info.RevokedAt != nil {
		t.Fatalf("info times %+v", info)
	}
	checkLog(t, f.lastLog(n), AccessLogEntry{SessionID: info.SessionID, UserID: 42, Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionImportSession), Success: true, Channel: ChannelServiceBinding})

	// The row holds the sealed session under the current key, and the dc id.
	if got := f.column("SELECT key_id FROM sessions WHERE id = ?", info.SessionID); got != f.svc.sealer.KeyID() {
		t.Fatalf("key_id %v", got)
	}
	if got := f.column("SELECT dc_id FROM sessions WHERE id = ?", info.SessionID); got != int64(2) {
		t.Fatalf("dc_id %v", got)
	}
	sealed := f.column("SELECT sealed FROM sessions WHERE id = ?", info.SessionID).([]byte)
	if bytes.Contains(sealed, sess.AuthKey[:16]) || bytes.Contains(sealed, []byte(str[:20])) {
		t.Fatal("the sealed column shows the session")
	}

	f.clock.Advance(time.Hour)
	n = f.logCount()
	got, err := f.svc.GetSessionByUserID(overHTTP, 42)
	if err != nil {
		t.Fatal(err)
	}
	want := telegramauth.Session{SessionString: str, SessionID: info.SessionID, UserID: 42, ExpiresAt: t0.Add(DefaultLifetime)}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	checkLog(t, f.lastLog(n), AccessLogEntry{SessionID: info.SessionID, UserID: 42, Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionGetSession), Success: true, Channel: ChannelHTTP, ClientIP: "203.0.113.9"})
	if got := f.column("SELECT last_used_at FROM sessions WHERE id = ?", info.SessionID); got != t0.Add(time.Hour).UnixMilli() {
		t.Fatalf("last_used_at %v", got)
	}
}

func TestImportFormats(t *testing.T) {
	f := newFixture(t, Options{})
	sess, canonical := testSession(2)
	tele, err := sessionstring.EncodeTelethon(sess)
	if err != nil {
		t.Fatal(err)
	}
	noncanonical := "1" + base64.RawURLEncoding.EncodeToString(mustDecode(t, canonical[1:])) // GramJS, URL-safe, unpadded
	for i, in := range []string{tele, noncanonical, "  " + canonical + "\n"} {
		uid := int64(100 + i)
		f.importSession(ingestor, uid, in)
		got, err := f.svc.GetSessionByUserID(ingestor, uid)
		if err != nil {
			t.Fatal(err)
		}
		if got.SessionString != canonical {
			t.Errorf("input %d: handed out %q, want the canonical GramJS form", i, got.SessionString)
		}
	}
}

func mustDecode(t *testing.T, s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGetPicksNewestActive(t *testing.T) {
	f := newFixture(t, Options{})
	_, s1 := testSession(3)
	_, s2 := testSession(4)
	_, s3 := testSession(5)
	old := f.importSession(ingestor, 7, s1)
	f.clock.Advance(time.Minute)
	mid := f.importSession(ingestor, 7, s2)
	f.clock.Advance(time.Minute)
	f.importSession(ingestor, 8, s3) // another user's newer session

	got, err := f.svc.GetSessionByUserID(ingestor, 7)
	if err != nil || got.SessionID != mid.SessionID || got.SessionString != s2 {
		t.Fatalf("got %+v %v, want the newest", got, err)
	}
	if _, err := f.svc.RevokeSession(ingestor, mid.SessionID); err != nil {
		t.Fatal(err)
	}
	got, err = f.svc.GetSessionByUserID(ingestor, 7)
	if err != nil || got.SessionID != old.SessionID || got.SessionString != s1 {
		t.Fatalf("after revoking the newest: %+v %v, want the older", got, err)
	}

	// Same created_at: the later insert wins.
	_, s4 := testSession(6)
	_, s5 := testSession(7)
	f.importSession(ingestor, 9, s4)
	second := f.importSession(ingestor, 9, s5)
	if got, err := f.svc.GetSessionByUserID(ingestor, 9); err != nil || got.SessionID != second.SessionID {
		t.Fatalf("tie: %+v %v", got, err)
	}
}

func TestGetErrors(t *testing.T) {
	f := newFixture(t, Options{Lifetime: 24 * time.Hour})
	_, str := testSession(8)

	// No session at all.
	n := f.logCount()
	_, err := f.svc.GetSessionByUserID(ingestor, 5)
	if e := f.wantErr(err, telegramauth.CodeSessionNotFound); e.SessionID != "" {
		t.Fatalf("SessionID %q", e.SessionID)
	}
	checkLog(t, f.lastLog(n), AccessLogEntry{UserID: 5, Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionGetSession), ErrorCode: telegramauth.CodeSessionNotFound, Channel: ChannelServiceBinding})

	// Only expired.
	info := f.importSession(ingestor, 5, str)
	f.clock.Advance(24 * time.Hour) // expires_at == now: expired
	n = f.logCount()
	_, err = f.svc.GetSessionByUserID(ingestor, 5)
	e := f.wantErr(err, telegramauth.CodeSessionExpired)
	if e.SessionID != info.SessionID || !strings.Contains(e.Message, "expired at 2026-05-02T12:00:00Z") {
		t.Fatalf("error %+v", e)
	}
	checkLog(t, f.lastLog(n), AccessLogEntry{SessionID: info.SessionID, UserID: 5, Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionGetSession), ErrorCode: telegramauth.CodeSessionExpired, Channel: ChannelServiceBinding})

	// Only revoked (newest revoked, older expired: revoked is reported).
	info2 := f.importSession(ingestor, 5, str)
	if _, err := f.svc.RevokeSession(ingestor, info2.SessionID); err != nil {
		t.Fatal(err)
	}
	n = f.logCount()
	_, err = f.svc.GetSessionByUserID(ingestor, 5)
	if e := f.wantErr(err, telegramauth.CodeSessionRevoked); e.SessionID != info2.SessionID {
		t.Fatalf("error %+v", e)
	}
	checkLog(t, f.lastLog(n), AccessLogEntry{SessionID: info2.SessionID, UserID: 5, Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionGetSession), ErrorCode: telegramauth.CodeSessionRevoked, Channel: ChannelServiceBinding})

	// Invalid user ids.
	for _, id := range []int64{0, -1, telegramauth.MaxUserID + 1, -1 << 63} {
		n = f.logCount()
		_, err = f.svc.GetSessionByUserID(ingestor, id)
		if e := f.wantErr(err, telegramauth.CodeInvalidArgument); e.Message != "userId must be a positive integer below 2^53" {
			t.Fatalf("message %q", e.Message)
		}
		checkLog(t, f.lastLog(n), AccessLogEntry{Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionGetSession), ErrorCode: telegramauth.CodeInvalidArgument, Channel: ChannelServiceBinding})
	}
	// The largest valid id works.
	f.importSession(ingestor, telegramauth.MaxUserID, str)
	if _, err := f.svc.GetSessionByUserID(ingestor, telegramauth.MaxUserID); err != nil {
		t.Fatal(err)
	}
}

func TestForbidden(t *testing.T) {
	f := newFixture(t, Options{})
	_, str := testSession(9)
	info := f.importSession(ingestor, 1, str)

	cases := []struct {
		name       string
		ctx        context.Context
		wantCaller string
		wantChan   string
		wantIP     string
	}{
		{"no caller", context.Background(), "", "unknown", ""},
		{"empty service id", WithCaller(context.Background(), Caller{Channel: ChannelHTTP, ClientIP: "198.51.100.1"}), "", ChannelHTTP, "198.51.100.1"},
		{"unknown channel", WithCaller(context.Background(), Caller{ServiceID: telegramauth.IngestorService, Channel: "carrier-pigeon"}), telegramauth.IngestorService, "unknown", ""},
		{"not in policy", WithCaller(context.Background(), Caller{ServiceID: "admin-service", Channel: ChannelServiceBinding}), "admin-service", ChannelServiceBinding, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls := []struct {
				action    telegramauth.Action
				do        func() error
				userID    int64
				sessionID string
			}{
				{telegramauth.ActionGetSession, func() error { _, err := f.svc.GetSessionByUserID(c.ctx, 1); return err }, 1, ""},
				{telegramauth.ActionListSessions, func() error { _, err := f.svc.ListSessions(c.ctx, 1); return err }, 1, ""},
				{telegramauth.ActionRevokeSession, func() error { _, err := f.svc.RevokeSession(c.ctx, info.SessionID); return err }, 0, info.SessionID},
				{telegramauth.ActionImportSession, func() error { _, err := f.svc.ImportSession(c.ctx, 1, str); return err }, 1, ""},
				{telegramauth.ActionReadAccessLog, func() error { _, err := f.svc.AccessLog(c.ctx, AccessLogFilter{}); return err }, 0, ""},
			}
			for _, call := range calls {
				n := f.logCount()
				f.wantErr(call.do(), telegramauth.CodeForbidden)
				checkLog(t, f.lastLog(n), AccessLogEntry{SessionID: call.sessionID, UserID: call.userID, Caller: c.wantCaller, Action: string(call.action),
					ErrorCode: telegramauth.CodeForbidden, Channel: c.wantChan, ClientIP: c.wantIP})
			}
		})
	}
	// Nothing was served or changed.
	if got := f.column("SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL OR last_used_at IS NOT NULL"); got != int64(0) {
		t.Fatalf("%v sessions changed", got)
	}
	if got := f.column("SELECT count(*) FROM sessions"); got != int64(1) {
		t.Fatalf("%v sessions", got)
	}

	// A denied caller with a bad argument learns nothing about the argument.
	_, err := f.svc.GetSessionByUserID(context.Background(), -5)
	f.wantErr(err, telegramauth.CodeForbidden)

	// A policy can allow another service one action only.
	admin := WithCaller(context.Background(), Caller{ServiceID: "admin-service", Channel: ChannelHTTP})
	svc := f.service(mustSealer(t, secretA, nil), Options{Policy: accesspolicy.Policy{string(telegramauth.ActionListSessions): {"admin-service"}}})
	if _, err := svc.ListSessions(admin, 1); err != nil {
		t.Fatal(err)
	}
	_, err = svc.GetSessionByUserID(admin, 1)
	f.wantErr(err, telegramauth.CodeForbidden)
	_, err = svc.GetSessionByUserID(ingestor, 1)
	f.wantErr(err, telegramauth.CodeForbidden)
	// An empty (non-nil) policy allows nothing.
	svc = f.service(mustSealer(t, secretA, nil), Options{Policy: accesspolicy.Policy{}})
	_, err = svc.ListSessions(ingestor, 1)
	f.wantErr(err, telegramauth.CodeForbidden)
}

func TestMovedRowIsNotServed(t *testing.T) {
	f := newFixture(t, Options{})
	_, strA := testSession(10)
	_, strB := testSession(11)
	a := f.importSession(ingestor, 1, strA)
	b := f.importSession(ingestor, 2, strB)

	// Copy A's sealed session into B's row.
	sqlitetest.Exec(t, f.db, "UPDATE sessions SET sealed = (SELECT sealed FROM sessions WHERE id = '"+a.SessionID+"'), key_id = (SELECT key_id FROM sessions WHERE id = '"+a.SessionID+"') WHERE id = '"+b.SessionID+"'")
	n := f.logCount()
	got, err := f.svc.GetSessionByUserID(ingestor, 2)
	e := f.wantErr(err, telegramauth.CodeInternal)
	if e.Message != "session could not be opened" || e.SessionID != b.SessionID || got.SessionString != "" {
		t.Fatalf("got %+v, error %+v", got, e)
	}
	checkLog(t, f.lastLog(n), AccessLogEntry{SessionID: b.SessionID, UserID: 2, Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionGetSession), ErrorCode: telegramauth.CodeInternal, Channel: ChannelServiceBinding})
	if !strings.Contains(f.logBuf.String(), "session could not be opened") || !strings.Contains(f.logBuf.String(), b.SessionID) {
		t.Fatalf("operational log lacks the failure: %s", f.logBuf)
	}
	if got := f.column("SELECT last_used_at IS NULL FROM sessions WHERE id = ?", b.SessionID); got != int64(1) {
		t.Fatal("a failed hand-out marked the session used")
	}

	// Move A's row to user 3: it no longer opens either.
	sqlitetest.Exec(t, f.db, "UPDATE sessions SET user_id = 3 WHERE id = '"+a.SessionID+"'")
	_, err = f.svc.GetSessionByUserID(ingestor, 3)
	if e := f.wantErr(err, telegramauth.CodeInternal); e.SessionID != a.SessionID {
		t.Fatalf("error %+v", e)
	}
	// Renaming the row (another session id) fails too.
	sqlitetest.Exec(t, f.db, "UPDATE sessions SET user_id = 1, id = 'ses_zzzzzzzzzzzzzzzzzzzzzzzzzz' WHERE id = '"+a.SessionID+"'")
	_, err = f.svc.GetSessionByUserID(ingestor, 1)
	f.wantErr(err, telegramauth.CodeInternal)
}

// importSessions imports n sessions for the user, a minute apart, and returns
// their ids and session strings, oldest first.
func (f *fixture) importSessions(userID int64, n int) (ids, strs []string) {
	f.t.Helper()
	for i := 0; i < n; i++ {
		_, str := testSession(uint64(2000 + 10*userID + int64(i)))
		ids = append(ids, f.importSession(ingestor, userID, str).SessionID)
		strs = append(strs, str)
		f.clock.Advance(time.Minute)
	}
	return ids, strs
}

// spoil makes the session's row fail to open.
func (f *fixture) spoil(sessionID string) {
	f.t.Helper()
	sqlitetest.Exec(f.t, f.db, "UPDATE sessions SET sealed = zeroblob(length(sealed)) WHERE id = '"+sessionID+"'")
}

// getLogRows returns the access-log rows of hand-outs to the user, oldest first.
func (f *fixture) getLogRows(userID int64) []AccessLogEntry {
	var out []AccessLogEntry
	for _, e := range f.logRows() {
		if e.Action == string(telegramauth.ActionGetSession) && e.UserID == userID {
			e.ID, e.At = 0, time.Time{}
			out = append(out, e)
		}
	}
	return out
}

func getRow(sessionID string, code telegramauth.Code) AccessLogEntry {
	return AccessLogEntry{SessionID: sessionID, UserID: 1, Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionGetSession),
		Success: code == "", ErrorCode: code, Channel: ChannelServiceBinding, Attempts: 1}
}

// A hand-out whose newest usable session does not open hands out the next
// newest that does, and reports the one that did not: a failure row of its
// own and an ERROR line.
func TestHandOutSkipsRowsThatDoNotOpen(t *testing.T) {
	f := newFixture(t, Options{})
	ids, strs := f.importSessions(1, 3)
	f.spoil(ids[2])

	got, err := f.svc.GetSessionByUserID(ingestor, 1)
	if err != nil || got.SessionID != ids[1] || got.SessionString != strs[1] {
		t.Fatalf("got %s, %v; want the second newest, %s", got.SessionID, err, ids[1])
	}
	if rows, want := f.getLogRows(1), []AccessLogEntry{getRow(ids[2], telegramauth.CodeInternal), getRow(ids[1], "")}; !slices.Equal(rows, want) {
		t.Fatalf("access log\n got %+v\nwant %+v", rows, want)
	}
	if got := f.column("SELECT last_used_at IS NULL FROM sessions WHERE id = ?", ids[2]); got != int64(1) {
		t.Error("the row that did not open is marked used")
	}
	if got := f.column("SELECT last_used_at FROM sessions WHERE id = ?", ids[1]); got != f.clock.Now().UnixMilli() {
		t.Errorf("last_used_at of the handed-out row: %v", got)
	}
	if l := f.logBuf.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, ids[2]) || !strings.Contains(l, ErrOpen.Error()) {
		t.Errorf("the row that did not open is not reported: %s", l)
	}
}

// At most three sessions are tried; if none opens, the answer is INTERNAL
// about the newest, and each tried session has its failure row.
func TestHandOutTriesAtMostThree(t *testing.T) {
	f := newFixture(t, Options{})
	ids, _ := f.importSessions(1, 4)
	for _, id := range ids[1:] {
		f.spoil(id)
	}
	_, err := f.svc.GetSessionByUserID(ingestor, 1)
	if e := f.wantErr(err, telegramauth.CodeInternal); e.SessionID != ids[3] || e.Message != "session could not be opened" {
		t.Fatalf("error %+v", e)
	}
	want := []AccessLogEntry{getRow(ids[3], telegramauth.CodeInternal), getRow(ids[2], telegramauth.CodeInternal), getRow(ids[1], telegramauth.CodeInternal)}
	if rows := f.getLogRows(1); !slices.Equal(rows, want) {
		t.Fatalf("access log\n got %+v\nwant %+v", rows, want)
	}
	if got := f.column("SELECT count(*) FROM sessions WHERE last_used_at IS NOT NULL"); got != int64(0) {
		t.Errorf("%v sessions marked used", got)
	}

	// With two sessions, both spoiled: both are tried, and nothing else.
	f.importAs(f.svc, 2)
	f.clock.Advance(time.Minute)
	f.importAs(f.svc, 2)
	sqlitetest.Exec(t, f.db, "UPDATE sessions SET sealed = zeroblob(length(sealed)) WHERE user_id = 2")
	n := f.logCount()
	_, err = f.svc.GetSessionByUserID(ingestor, 2)
	f.wantErr(err, telegramauth.CodeInternal)
	if got := f.logCount() - n; got != 2 {
		t.Errorf("%d access-log rows, want 2", got)
	}
}

// The fallback hands out a session under the previous key, and reseals it.
func TestHandOutFallsBackToAStaleSession(t *testing.T) {
	f := newFixture(t, Options{}) // secretA
	ids, strs := f.importSessions(1, 1)
	f.importAs(f.service(mustSealer(t, secretC, nil), Options{}), 1) // newer, under a key no secret below opens
	svc := f.service(mustSealer(t, secretB, secretA), Options{})
	got, err := svc.GetSessionByUserID(ingestor, 1)
	if err != nil || got.SessionID != ids[0] || got.SessionString != strs[0] {
		t.Fatalf("got %s, %v", got.SessionID, err)
	}
	if kid := f.column("SELECT key_id FROM sessions WHERE id = ?", ids[0]); kid != svc.sealer.KeyID() {
		t.Errorf("not resealed: key_id %v", kid)
	}
}

// Each claim of the fallback is its own batch: a second claim that cannot be
// logged is refused, and the session it would have read is not served.
func TestHandOutFallbackRefusedWhenLogFails(t *testing.T) {
	f := newFixture(t, Options{})
	ids, _ := f.importSessions(1, 2)
	f.spoil(ids[1])
	sqlitetest.Exec(t, f.db, "CREATE TRIGGER fail_second BEFORE INSERT ON access_log WHEN NEW.session_id = '"+ids[0]+"' AND NEW.success = 1 BEGIN SELECT RAISE(ABORT, 'access log unavailable'); END")
	got, err := f.svc.GetSessionByUserID(ingestor, 1)
	if e := f.wantErr(err, telegramauth.CodeUnavailable); e.Message != msgUnloggedRead || got.SessionString != "" {
		t.Fatalf("got %+v, %+v", got, e)
	}
	want := []AccessLogEntry{getRow(ids[1], telegramauth.CodeInternal), getRow(ids[0], telegramauth.CodeUnavailable)}
	if rows := f.getLogRows(1); !slices.Equal(rows, want) {
		t.Fatalf("access log\n got %+v\nwant %+v", rows, want)
	}
	if got := f.column("SELECT count(*) FROM sessions WHERE last_used_at IS NOT NULL"); got != int64(0) {
		t.Errorf("%v sessions marked used", got)
	}
}

func TestTamperedRowIsNotServed(t *testing.T) {
	f := newFixture(t, Options{})
	_, str := testSession(12)
	info := f.importSession(ingestor, 1, str)
	sealed := f.column("SELECT sealed FROM sessions WHERE id = ?", info.SessionID).([]byte)
	for _, i := range []int{0, 11, 12, len(sealed) / 2, len(sealed) - 1} {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		if _, err := f.db.Exec("UPDATE sessions SET sealed = ? WHERE id = ?", bad, info.SessionID); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.GetSessionByUserID(ingestor, 1)
		if e := f.wantErr(err, telegramauth.CodeInternal); e.SessionID != info.SessionID {
			t.Fatalf("byte %d: %+v", i, e)
		}
	}
	// An unknown key id fails the same way.
	if _, err := f.db.Exec("UPDATE sessions SET sealed = ?, key_id = '0123456789abcdef' WHERE id = ?", sealed, info.SessionID); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.GetSessionByUserID(ingestor, 1)
	f.wantErr(err, telegramauth.CodeInternal)
	// Restored, it opens again.
	if _, err := f.db.Exec("UPDATE sessions SET key_id = ? WHERE id = ?", f.svc.sealer.KeyID(), info.SessionID); err != nil {
		t.Fatal(err)
	}
	if got, err := f.svc.GetSessionByUserID(ingestor, 1); err != nil || got.SessionString != str {
		t.Fatalf("restored row: %v", err)
	}
}

func TestRotationReseals(t *testing.T) {
	f := newFixture(t, Options{}) // seals with secretA
	_, str := testSession(13)
	info := f.importSession(ingestor, 1, str)
	oldKID := f.svc.sealer.KeyID()
	oldSealed := f.column("SELECT sealed FROM sessions WHERE id = ?", info.SessionID).([]byte)

	// Rotate: secretB is current, secretA previous.
	rotated := f.service(mustSealer(t, secretB, secretA), Options{})
	got, err := rotated.GetSessionByUserID(ingestor, 1)
	if err != nil || got.SessionString != str {
		t.Fatalf("rotated read: %v", err)
	}
	newKID := f.column("SELECT key_id FROM sessions WHERE id = ?", info.SessionID)
	if newKID == oldKID || newKID != rotated.sealer.KeyID() {
		t.Fatalf("key_id %v after reseal, want %s", newKID, rotated.sealer.KeyID())
	}
	if bytes.Equal(f.column("SELECT sealed FROM sessions WHERE id = ?", info.SessionID).([]byte), oldSealed) {
		t.Fatal("sealed column unchanged")
	}
	if !strings.Contains(f.logBuf.String(), "resealed") {
		t.Fatalf("no reseal report: %s", f.logBuf)
	}

	// Drop the previous secret: the row still opens.
	only := f.service(mustSealer(t, secretB, nil), Options{})
	if got, err := only.GetSessionByUserID(ingestor, 1); err != nil || got.SessionString != str {
		t.Fatalf("after dropping the previous secret: %v", err)
	}
	// And the old sealer can no longer open it.
	_, err = f.svc.GetSessionByUserID(ingestor, 1)
	f.wantErr(err, telegramauth.CodeInternal)
}

func TestUnknownKeyWithoutPrevious(t *testing.T) {
	f := newFixture(t, Options{})
	_, str := testSession(14)
	f.importSession(ingestor, 1, str)
	svc := f.service(mustSealer(t, secretB, nil), Options{})
	_, err := svc.GetSessionByUserID(ingestor, 1)
	f.wantErr(err, telegramauth.CodeInternal)
	if !strings.Contains(f.logBuf.String(), ErrUnknownKey.Error()) {
		t.Fatalf("operational log lacks the reason: %s", f.logBuf)
	}
}

// failLogWrites makes every successful access-log insert of action fail, while
// failure rows still go in, as an access log that is partly down.
func failLogWrites(t *testing.T, db *sql.DB, action telegramauth.Action) {
	sqlitetest.Exec(t, db, "CREATE TRIGGER fail_"+string(action)+" BEFORE INSERT ON access_log WHEN NEW.action = '"+string(action)+"' AND NEW.success = 1 BEGIN SELECT RAISE(ABORT, 'access log unavailable'); END")
}

func TestHandOutRefusedWhenLogFails(t *testing.T) {
	f := newFixture(t, Options{})
	_, str := testSession(15)
	info := f.importSession(ingestor, 1, str)
	failLogWrites(t, f.db, telegramauth.ActionGetSession)

	n := f.logCount()
	got, err := f.svc.GetSessionByUserID(ingestor, 1)
	e := f.wantErr(err, telegramauth.CodeUnavailable)
	if e.Message != "a session read that cannot be logged is refused" || got.SessionString != "" {
		t.Fatalf("got %+v, %+v", got, e)
	}
	// The batch rolled back; the failure itself is the one new row.
	if v := f.column("SELECT last_used_at IS NULL FROM sessions WHERE id = ?", info.SessionID); v != int64(1) {
		t.Fatal("last_used_at set by a refused hand-out")
	}
	checkLog(t, f.lastLog(n), AccessLogEntry{SessionID: info.SessionID, UserID: 1, Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionGetSession), ErrorCode: telegramauth.CodeUnavailable, Channel: ChannelServiceBinding})
	if strings.Contains(e.Error(), "access log unavailable") || strings.Contains(e.Error(), "INSERT") {
		t.Fatalf("SQL error leaked into the message: %v", e)
	}
	if !strings.Contains(f.logBuf.String(), "access log unavailable") {
		t.Fatalf("the cause is not in the operational log: %s", f.logBuf)
	}
}

func TestWritesWhenLogIsGone(t *testing.T) {
	f := newFixture(t, Options{})
	_, str := testSession(16)
	info := f.importSession(ingestor, 1, str)
	sqlitetest.Exec(t, f.db, "DROP TABLE access_log")

	_, err := f.svc.GetSessionByUserID(ingestor, 1)
	f.wantErr(err, telegramauth.CodeUnavailable)
	_, err = f.svc.ListSessions(ingestor, 1)
	f.wantErr(err, telegramauth.CodeUnavailable)
	_, err = f.svc.ImportSession(ingestor, 2, str)
	f.wantErr(err, telegramauth.CodeUnavailable)
	if got := f.column("SELECT count(*) FROM sessions WHERE user_id = 2"); got != int64(0) {
		t.Fatal("an import that could not be logged was stored")
	}
	// A failure whose log row cannot be written keeps its own code.
	_, err = f.svc.GetSessionByUserID(ingestor, 99)
	f.wantErr(err, telegramauth.CodeSessionNotFound)
	_, err = f.svc.GetSessionByUserID(context.Background(), 1)
	f.wantErr(err, telegramauth.CodeForbidden)

	// Revocation does not depend on the log.
	rev, err := f.svc.RevokeSession(ingestor, info.SessionID)
	if err != nil || !rev.RevokedAt.Equal(t0) {
		t.Fatalf("revoke with the log down: %+v %v", rev, err)
	}
	if got := f.column("SELECT revoked_at FROM sessions WHERE id = ?", info.SessionID); got != t0.UnixMilli() {
		t.Fatalf("revoked_at %v", got)
	}
	if !strings.Contains(f.logBuf.String(), "session revoked but the revocation could not be logged") {
		t.Fatalf("the unlogged revocation is not reported: %s", f.logBuf)
	}
}

func TestStoreDown(t *testing.T) {
	f := newFixture(t, Options{})
	_, str := testSession(17)
	info := f.importSession(ingestor, 1, str)
	sqlitetest.Exec(t, f.db, "DROP TABLE sessions")
	n := f.logCount()
	_, err := f.svc.GetSessionByUserID(ingestor, 1)
	if e := f.wantErr(err, telegramauth.CodeUnavailable); strings.Contains(e.Message, "sessions") {
		t.Fatalf("SQL in message: %v", e)
	}
	checkLog(t, f.lastLog(n), AccessLogEntry{UserID: 1, Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionGetSession), ErrorCode: telegramauth.CodeUnavailable, Channel: ChannelServiceBinding})
	_, err = f.svc.ListSessions(ingestor, 1)
	f.wantErr(err, telegramauth.CodeUnavailable)
	_, err = f.svc.RevokeSession(ingestor, info.SessionID)
	f.wantErr(err, telegramauth.CodeUnavailable)
	_, err = f.svc.ImportSession(ingestor, 1, str)
	f.wantErr(err, telegramauth.CodeUnavailable)
}

func TestRevoke(t *testing.T) {
	f := newFixture(t, Options{})
	_, str := testSession(18)
	info := f.importSession(ingestor, 77, str)

	f.clock.Advance(time.Minute)
	n := f.logCount()
	rev, err := f.svc.RevokeSession(overHTTP, info.SessionID)
	first := t0.Add(time.Minute)
	if err != nil || rev.SessionID != info.SessionID || !rev.RevokedAt.Equal(first) {
		t.Fatalf("revoke: %+v %v", rev, err)
	}
	checkLog(t, f.lastLog(n), AccessLogEntry{SessionID: info.SessionID, UserID: 77, Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionRevokeSession), Success: true, Channel: ChannelHTTP, ClientIP: "203.0.113.9"})

	// Again, later: the first time, and another log row.
	f.clock.Advance(time.Hour)
	n = f.logCount()
	rev, err = f.svc.RevokeSession(ingestor, info.SessionID)
	if err != nil || !rev.RevokedAt.Equal(first) {
		t.Fatalf("second revoke: %+v %v", rev, err)
	}
	checkLog(t, f.lastLog(n), AccessLogEntry{SessionID: info.SessionID, UserID: 77, Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionRevokeSession), Success: true, Channel: ChannelServiceBinding})

	// Unknown id.
	unknown := "ses_" + strings.Repeat("q", 26)
	n = f.logCount()
	_, err = f.svc.RevokeSession(ingestor, unknown)
	if e := f.wantErr(err, telegramauth.CodeSessionNotFound); e.SessionID != unknown {
		t.Fatalf("%+v", e)
	}
	checkLog(t, f.lastLog(n), AccessLogEntry{SessionID: unknown, Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionRevokeSession), ErrorCode: telegramauth.CodeSessionNotFound, Channel: ChannelServiceBinding})

	// Malformed ids: the message names the parameter and never echoes the input.
	for _, bad := range []string{"", "ses_", "ses_ABCDEFGHIJKLMNOPQRSTUVWXYZ", "ses_abcdefghijklmnopqrstuvwxy1", "x' OR '1'='1", str, strings.Repeat("ses_abcdefgh", 1000), "ses_abcdefghijklmnopqrstuvwxyz\n"} {
		n = f.logCount()
		_, err = f.svc.RevokeSession(ingestor, bad)
		e := f.wantErr(err, telegramauth.CodeInvalidArgument)
		if !strings.HasPrefix(e.Message, "sessionId (") || len(e.Message) > 120 || (len(bad) > 4 && strings.Contains(e.Message, bad)) {
			t.Fatalf("message %q", e.Message)
		}
		checkLog(t, f.lastLog(n), AccessLogEntry{Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionRevokeSession), ErrorCode: telegramauth.CodeInvalidArgument, Channel: ChannelServiceBinding})
	}
}

func TestListSessions(t *testing.T) {
	f := newFixture(t, Options{Lifetime: 48 * time.Hour})
	_, s1 := testSession(19)
	_, s2 := testSession(20)
	_, s3 := testSession(21)
	expired := f.importSession(ingestor, 5, s1)
	f.clock.Advance(24 * time.Hour)
	revoked := f.importSession(ingestor, 5, s2)
	f.clock.Advance(time.Hour)
	active := f.importSession(ingestor, 5, s3)
	if _, err := f.svc.RevokeSession(ingestor, revoked.SessionID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(24 * time.Hour) // the first is now 49h old
	if _, err := f.svc.GetSessionByUserID(ingestor, 5); err != nil {
		t.Fatal(err)
	}

	n := f.logCount()
	list, err := f.svc.ListSessions(overHTTP, 5)
	if err != nil {
		t.Fatal(err)
	}
	checkLog(t, f.lastLog(n), AccessLogEntry{UserID: 5, Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionListSessions), Success: true, Channel: ChannelHTTP, ClientIP: "203.0.113.9"})
	if len(list) != 3 {
		t.Fatalf("%d sessions", len(list))
	}
	now := f.clock.Now()
	wantIDs := []string{active.SessionID, revoked.SessionID, expired.SessionID}
	wantStatus := []string{telegramauth.StatusActive, telegramauth.StatusRevoked, telegramauth.StatusExpired}
	for i, s := range list {
		if s.SessionID != wantIDs[i] || s.Status != wantStatus[i] || s.UserID != 5 {
			t.Errorf("list[%d] = %+v, want %s %s", i, s, wantIDs[i], wantStatus[i])
		}
	}
	if list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(now) || list[0].RevokedAt != nil {
		t.Errorf("active: %+v", list[0])
	}
	if list[1].RevokedAt == nil || !list[1].RevokedAt.Equal(t0.Add(25*time.Hour)) {
		t.Errorf("revoked: %+v", list[1])
	}
	if !list[2].ExpiresAt.Equal(t0.Add(48*time.Hour)) || !list[2].CreatedAt.Equal(t0) {
		t.Errorf("expired: %+v", list[2])
	}
	js, _ := json.Marshal(list)
	for _, s := range []string{s1, s2, s3} {
		if strings.Contains(string(js), s[1:20]) {
			t.Fatal("the list carries a session")
		}
	}

	// A user without sessions: an empty list (JSON []), logged.
	n = f.logCount()
	list, err = f.svc.ListSessions(ingestor, 6)
	if err != nil || list == nil || len(list) != 0 {
		t.Fatalf("empty list: %#v %v", list, err)
	}
	f.lastLog(n)
	_, err = f.svc.ListSessions(ingestor, 0)
	if e := f.wantErr(err, telegramauth.CodeInvalidArgument); e.Message != "userId must be a positive integer below 2^53" {
		t.Fatal(e)
	}
}

func TestImportInvalid(t *testing.T) {
	f := newFixture(t, Options{})
	sess, str := testSession(22)
	short := sess
	short.Port = 0
	cases := []struct {
		in, want string
	}{
		{"", "sessionString: empty"},
		{"2" + str[1:], `sessionString: version prefix must be "1"`},
		{str[:200], "sessionString: "},
		{sessionstring.Encode(short), "sessionString: port 0 out of range 1..65535"},
		{str + strings.Repeat("A", 2000), "sessionString is 2369 bytes, longer than any session string"},
		{strings.Replace(str, "A", "*", 1), "sessionString: invalid base64 character at offset"},
	}
	for _, c := range cases {
		n := f.logCount()
		_, err := f.svc.ImportSession(ingestor, 3, c.in)
		e := f.wantErr(err, telegramauth.CodeInvalidArgument)
		if !strings.HasPrefix(e.Message, c.want) {
			t.Errorf("message %q, want prefix %q", e.Message, c.want)
		}
		checkLog(t, f.lastLog(n), AccessLogEntry{UserID: 3, Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionImportSession), ErrorCode: telegramauth.CodeInvalidArgument, Channel: ChannelServiceBinding})
	}
	_, err := f.svc.ImportSession(ingestor, 0, str)
	if e := f.wantErr(err, telegramauth.CodeInvalidArgument); e.Message != "userId must be a positive integer below 2^53" {
		t.Fatal(e)
	}
	if got := f.column("SELECT count(*) FROM sessions"); got != int64(0) {
		t.Fatal("an invalid import was stored")
	}
}

func TestAccessLogRead(t *testing.T) {
	operator := WithCaller(context.Background(), Caller{ServiceID: "operator", Channel: ChannelHTTP, ClientIP: "192.0.2.7"})
	pol := DefaultPolicy()
	pol[string(telegramauth.ActionReadAccessLog)] = []string{"operator"}
	f := newFixture(t, Options{Policy: pol})
	_, str := testSession(24)
	a := f.importSession(ingestor, 1, str)
	f.importSession(ingestor, 2, str)
	for i := 0; i < 5; i++ {
		f.clock.Advance(time.Second)
		if _, err := f.svc.GetSessionByUserID(ingestor, 1); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = f.svc.GetSessionByUserID(ingestor, 3) // not found

	all, err := f.svc.AccessLog(operator, AccessLogFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 8 || all[0].UserID != 3 || all[0].ErrorCode != telegramauth.CodeSessionNotFound || all[0].Success {
		t.Fatalf("all: %+v", all)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Fatal("not newest first")
		}
	}
	if e := all[1]; e.Action != string(telegramauth.ActionGetSession) || !e.Success || e.SessionID != a.SessionID || e.Caller != telegramauth.IngestorService || e.Channel != ChannelServiceBinding || !e.At.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("entry %+v", e)
	}
	// Reading the log does not add to it.
	if f.logCount() != 8 {
		t.Fatal("a successful read was logged")
	}

	user1, err := f.svc.AccessLog(operator, AccessLogFilter{UserID: 1})
	if err != nil || len(user1) != 6 {
		t.Fatalf("user 1: %d %v", len(user1), err)
	}
	bySession, err := f.svc.AccessLog(operator, AccessLogFilter{SessionID: a.SessionID, Limit: 2})
	if err != nil || len(bySession) != 2 || bySession[0].SessionID != a.SessionID {
		t.Fatalf("by session: %+v %v", bySession, err)
	}
	page2, err := f.svc.AccessLog(operator, AccessLogFilter{SessionID: a.SessionID, Limit: 2, BeforeID: bySession[1].ID})
	if err != nil || len(page2) != 2 || page2[0].ID >= bySession[1].ID {
		t.Fatalf("page 2: %+v %v", page2, err)
	}
	none, err := f.svc.AccessLog(operator, AccessLogFilter{UserID: 999})
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("none: %#v %v", none, err)
	}

	for _, bad := range []AccessLogFilter{{UserID: -1}, {SessionID: "x"}, {Limit: -1}, {BeforeID: -3}} {
		_, err := f.svc.AccessLog(operator, bad)
		f.wantErr(err, telegramauth.CodeInvalidArgument)
	}
	n := f.logCount()
	_, err = f.svc.AccessLog(ingestor, AccessLogFilter{})
	f.wantErr(err, telegramauth.CodeForbidden)
	checkLog(t, f.lastLog(n), AccessLogEntry{Caller: telegramauth.IngestorService, Action: string(telegramauth.ActionReadAccessLog), ErrorCode: telegramauth.CodeForbidden, Channel: ChannelServiceBinding})
}

// TestAccessLogBounds: ids above 2^53-1 cannot cross to D1 (its driver
// refuses such numbers), so they are bad input, named, not a store failure.
func TestAccessLogBounds(t *testing.T) {
	operator := WithCaller(context.Background(), Caller{ServiceID: "operator", Channel: ChannelHTTP})
	f := newFixture(t, Options{Policy: accesspolicy.Policy{string(telegramauth.ActionReadAccessLog): {"operator"}}})
	for _, c := range []struct {
		filter AccessLogFilter
		field  string
	}{
		{AccessLogFilter{BeforeID: telegramauth.MaxUserID + 1}, "beforeId"},
		{AccessLogFilter{BeforeID: 1<<63 - 1}, "beforeId"},
		{AccessLogFilter{BeforeID: -1}, "beforeId"},
		{AccessLogFilter{UserID: telegramauth.MaxUserID + 1}, "userId"},
		{AccessLogFilter{UserID: -1}, "userId"},
		{AccessLogFilter{Limit: -1}, "limit"},
	} {
		_, err := f.svc.AccessLog(operator, c.filter)
		if e := f.wantErr(err, telegramauth.CodeInvalidArgument); !strings.HasPrefix(e.Message, c.field+" ") {
			t.Errorf("%+v: message %q does not start with %s", c.filter, e.Message, c.field)
		}
	}
	// The largest ids are accepted.
	if _, err := f.svc.AccessLog(operator, AccessLogFilter{BeforeID: telegramauth.MaxUserID, UserID: telegramauth.MaxUserID}); err != nil {
		t.Fatal(err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

func TestSessionIDs(t *testing.T) {
	f := newFixture(t, Options{})
	_, str := testSession(25)
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		info := f.importSession(ingestor, 1, str)
		if !telegramauth.ValidSessionID(info.SessionID) || len(info.SessionID) != 30 || seen[info.SessionID] {
			t.Fatalf("id %q", info.SessionID)
		}
		seen[info.SessionID] = true
	}
	svc := f.service(mustSealer(t, secretA, nil), Options{Rand: zeroReader{}})
	if info, err := svc.ImportSession(ingestor, 1, str); err != nil || info.SessionID != "ses_aaaaaaaaaaaaaaaaaaaaaaaaaa" {
		t.Fatalf("zero id: %+v %v", info, err)
	}
	svc = f.service(mustSealer(t, secretA, nil), Options{Rand: failingReader{}})
	_, err := svc.ImportSession(ingestor, 1, str)
	f.wantErr(err, telegramauth.CodeInternal)

	for id, want := range map[string]bool{
		"ses_abcdefghijklmnopqrstuvwxyz": true, "ses_22222222222222222222222222": true,
		"ses_abcdefghijklmnopqrstuvwxy8": false, "ses_abcdefghijklmnopqrstuvwxy": false,
		"SES_abcdefghijklmnopqrstuvwxyz": false, "ses_abcdefghijklmnopqrstuvwxyzz": false,
	} {
		if telegramauth.ValidSessionID(id) != want {
			t.Errorf("telegramauth.ValidSessionID(%q) != %v", id, want)
		}
	}
}

func TestCallerContext(t *testing.T) {
	if _, ok := CallerFrom(context.Background()); ok {
		t.Fatal("caller in an empty context")
	}
	c := Caller{ServiceID: "a", Channel: ChannelHTTP, ClientIP: "::1"}
	got, ok := CallerFrom(WithCaller(context.Background(), c))
	if !ok || got != c {
		t.Fatalf("got %+v", got)
	}
	// Long caller-supplied text is clipped in the log.
	f := newFixture(t, Options{})
	long := WithCaller(context.Background(), Caller{ServiceID: strings.Repeat("é", 200), Channel: ChannelHTTP, ClientIP: strings.Repeat("1", 300)})
	n := f.logCount()
	_, err := f.svc.ListSessions(long, 1)
	e := f.wantErr(err, telegramauth.CodeForbidden)
	row := f.lastLog(n)
	if len(row.Caller) > 128 || len(row.ClientIP) > 64 || !strings.HasPrefix(row.Caller, "éé") {
		t.Fatalf("row %+v", row)
	}
	if len(e.Message) > 120 {
		t.Fatalf("message %q", e.Message)
	}
}

func TestNew(t *testing.T) {
	db := sqlitetest.Open(t, migrations)
	if _, err := New(nil, mustSealer(t, secretA, nil), Options{}); err == nil {
		t.Fatal("nil db accepted")
	}
	if _, err := New(db, nil, Options{}); err == nil {
		t.Fatal("nil sealer accepted")
	}
	if _, err := New(db, mustSealer(t, secretA, nil), Options{Lifetime: -time.Second}); err == nil {
		t.Fatal("negative lifetime accepted")
	}
	s, err := New(db, mustSealer(t, secretA, nil), Options{})
	if err != nil || s.lifetime != DefaultLifetime || s.policy == nil || s.rand == nil {
		t.Fatalf("defaults: %+v %v", s, err)
	}
}

// TestMigrationConstraints checks that the schema rejects rows the vault never writes.
func TestMigrationConstraints(t *testing.T) {
	db := sqlitetest.Open(t, migrations)
	ok := []any{"ses_abcdefghijklmnopqrstuvwxyz", 1, make([]byte, 40), "0123456789abcdef", 2, 1000, 2000}
	ins := "INSERT INTO sessions (id, user_id, sealed, key_id, dc_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
	if _, err := db.Exec(ins, ok...); err != nil {
		t.Fatal(err)
	}
	for i, bad := range []struct {
		col int
		v   any
	}{
		{0, "sess_abcdefghijklmnopqrstuvwx"}, {0, "ses_short"},
		{1, 0}, {1, int64(1) << 53},
		{2, "text-is-not-a-blob-but-it-is-quite-long-indeed"}, {2, make([]byte, 28)},
		{3, "short"}, {4, 0}, {4, 256}, {6, 1000},
	} {
		args := append([]any{}, ok...)
		args[0] = "ses_bbbbbbbbbbbbbbbbbbbbbbbbbb"
		args[bad.col] = bad.v
		if _, err := db.Exec(ins, args...); err == nil {
			t.Errorf("case %d: column %d = %v accepted", i, bad.col, bad.v)
		}
	}
	logIns := "INSERT INTO access_log (at, caller, action, success, error_code, channel) VALUES (1, 'c', 'get_session', ?, ?, 'http')"
	for _, c := range []struct {
		success int
		code    any
		ok      bool
	}{{1, nil, true}, {0, "INTERNAL", true}, {1, "INTERNAL", false}, {0, nil, false}, {2, nil, false}} {
		_, err := db.Exec(logIns, c.success, c.code)
		if (err == nil) != c.ok {
			t.Errorf("access_log success=%d code=%v: err %v", c.success, c.code, err)
		}
	}
}

// TestNoSecretsInErrorsOrLogs runs calls that succeed and fail, then checks
// that no error message, access-log row or operational log line contains a
// session string, an auth key, or their encodings.
func TestNoSecretsInErrorsOrLogs(t *testing.T) {
	f := newFixture(t, Options{})
	sess, str := testSession(26)
	tele, _ := sessionstring.EncodeTelethon(sess)
	info := f.importSession(ingestor, 1, str)
	f.importSession(ingestor, 1, tele)
	_, _ = f.svc.GetSessionByUserID(ingestor, 1)
	bad := sess
	bad.Port = 0
	for _, in := range []string{str[:300], str + "AAAA", strings.Replace(str, "A", "-", 3), sessionstring.Encode(bad), "2" + str[1:], tele[:200], str + "!"} {
		_, err := f.svc.ImportSession(ingestor, 2, in)
		f.wantErr(err, telegramauth.CodeInvalidArgument)
	}
	_, err := f.svc.RevokeSession(ingestor, str)
	f.wantErr(err, telegramauth.CodeInvalidArgument)
	_, err = f.svc.ImportSession(context.Background(), 2, str)
	f.wantErr(err, telegramauth.CodeForbidden)
	// A row that does not open, and a hand-out that cannot be logged.
	sqlitetest.Exec(t, f.db, "UPDATE sessions SET user_id = 9 WHERE id = '"+info.SessionID+"'")
	_, err = f.svc.GetSessionByUserID(ingestor, 9)
	f.wantErr(err, telegramauth.CodeInternal)
	failLogWrites(t, f.db, telegramauth.ActionGetSession)
	_, err = f.svc.GetSessionByUserID(ingestor, 1)
	f.wantErr(err, telegramauth.CodeUnavailable)

	var dump strings.Builder
	rows, err := f.db.Query("SELECT * FROM access_log")
	if err != nil {
		t.Fatal(err)
	}
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			dump.WriteString(strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(toString(v), "\n", " "), "\t", " ")) + "|")
		}
		dump.WriteString("\n")
	}
	rows.Close()
	haystacks := map[string]string{
		"errors":          strings.Join(f.errs, "\n"),
		"access log":      dump.String(),
		"operational log": f.logBuf.String(),
	}
	key := sess.AuthKey[:]
	secrets := []string{
		str, tele, string(key), hex.EncodeToString(key),
		base64.StdEncoding.EncodeToString(key), base64.URLEncoding.EncodeToString(key),
		str[1:], tele[1:],
	}
	for name, h := range haystacks {
		if h == "" {
			t.Fatalf("%s is empty", name)
		}
		for _, s := range secrets {
			for i := 0; i+9 <= len(s); i++ {
				if strings.Contains(h, s[i:i+9]) {
					t.Fatalf("%s contains %q, part of a secret:\n%s", name, s[i:i+9], h)
				}
			}
		}
	}
}

func toString(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return x
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func TestParsePolicy(t *testing.T) {
	p, err := ParsePolicy(`{"get_session":["ingestor-service"],"read_access_log":["ops.team"]}`)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Allows("get_session", telegramauth.IngestorService) || !p.Allows("read_access_log", "ops.team") || p.Allows("list_sessions", telegramauth.IngestorService) {
		t.Errorf("policy = %v", p)
	}
	for in, want := range map[string]string{
		`{"get_sessions":["a"]}`:                    `ACCESS_POLICY: unknown permission "get_sessions"`,
		`{"get_session":["a b"]}`:                   `"a b" is not a service id`,
		`{"get_session":"ingestor"}`:                "get_session must be a list of service ids",
		`[]`:                                        "must be a JSON object",
		`{"get_session":[""]}`:                      "is not a service id",
		`{"get_session":["x"]} trail`:               "must be a JSON object",
		`{"get_session":[],"get_session":["evil"]}`: `member "get_session" appears more than once`,
	} {
		_, err := ParsePolicy(in)
		if want == "" {
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

func TestPruneAccessLog(t *testing.T) {
	f := newFixture(t, Options{})
	sqlitetest.Exec(t, f.db, "DELETE FROM access_log")
	old, recent := t0.Add(-100*24*time.Hour).UnixMilli(), t0.Add(-time.Hour).UnixMilli()
	if _, err := f.db.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500) "+
		"INSERT INTO access_log (at, caller, action, success, channel) SELECT ?, 'x', 'get_session', 1, 'http' FROM n", old); err != nil {
		t.Fatal(err)
	}
	f.db.Exec("INSERT INTO access_log (at, caller, action, success, channel) VALUES (?, 'x', 'get_session', 1, 'http')", recent)
	n, err := f.svc.PruneAccessLog(context.Background(), t0.Add(-90*24*time.Hour))
	if err != nil || n != 2500 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	if got := f.column("SELECT count(*) FROM access_log"); got != int64(1) {
		t.Errorf("left %v rows, want the recent one", got)
	}
}

// importAs imports a session for each user through svc.
func (f *fixture) importAs(svc *Service, users ...int64) {
	f.t.Helper()
	for _, u := range users {
		_, str := testSession(uint64(1000 + u))
		if _, err := svc.ImportSession(ingestor, u, str); err != nil {
			f.t.Fatal(err)
		}
	}
}

// Stale tells the sessions that wait for a reseal (under a key the vault
// opens) from the active ones that no configured secret opens.
func TestStaleCounts(t *testing.T) {
	f := newFixture(t, Options{}) // seals with secretA
	f.importAs(f.svc, 1, 2, 3)
	f.importAs(f.service(mustSealer(t, secretB, nil), Options{}), 4, 5)
	idA, idB := mustSealer(t, secretA, nil).KeyID(), mustSealer(t, secretB, nil).KeyID()
	check := func(name string, current, prev []byte, pending, unreadable, inactive int64, unknown ...string) {
		t.Helper()
		got, err := f.service(mustSealer(t, current, prev), Options{}).Stale(context.Background())
		if err != nil || got.Pending != pending || got.Unreadable != unreadable || got.UnreadableInactive != inactive || !slices.Equal(got.UnknownKeyIDs, unknown) {
			t.Errorf("%s: %+v, %v; want %d pending, %d unreadable under %q, %d inactive", name, got, err, pending, unreadable, unknown, inactive)
		}
	}
	check("A", secretA, nil, 0, 2, 0, idB)
	check("B after A", secretB, secretA, 3, 0, 0)
	check("C after B", secretC, secretB, 2, 3, 0, idA)
	check("C after A", secretC, secretA, 3, 2, 0, idB)
	check("C", secretC, nil, 0, 5, 0, slices.Sorted(slices.Values([]string{idA, idB}))...)

	// Revoked and expired sessions are never handed out: they wait for a
	// reseal like any other, and are not unreadable ones in use.
	sqlitetest.Exec(t, f.db, "UPDATE sessions SET revoked_at = 1 WHERE user_id = 4")
	sqlitetest.Exec(t, f.db, "UPDATE sessions SET expires_at = created_at + 1 WHERE user_id = 1")
	f.clock.Advance(time.Second)
	check("C after A, one revoked", secretC, secretA, 3, 1, 1, idB)
	check("C after B, one expired", secretC, secretB, 2, 2, 1, idA)
	sqlitetest.Exec(t, f.db, "UPDATE sessions SET revoked_at = 1 WHERE user_id = 5")
	check("C after A, both revoked", secretC, secretA, 3, 0, 2)
}

// queryPlan returns the details of SQLite's plan for query.
func queryPlan(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return plan
}

// Health runs the stale count unauthenticated: it reads only the index
// entries of sessions not under the current key, never the whole table.
// ResealStale reads a page as one range of the index, without sorting.
func TestStaleQueriesReadTheIndexOnly(t *testing.T) {
	db := sqlitetest.Open(t, migrations)
	page := queryPlan(t, db, underKeyQuery, "0123456789abcdef", 0, 10)
	if len(page) != 1 || page[0] != "SEARCH sessions USING INDEX sessions_by_key (key_id=? AND rowid>?)" {
		t.Errorf("page plan %q", page)
	}
	plan := queryPlan(t, db, staleKeysQuery, 1, "0123456789abcdef", 1, "0123456789abcdef")
	searches := 0
	for _, d := range plan {
		if strings.HasPrefix(d, "SCAN") || strings.Contains(d, "TEMP B-TREE") {
			t.Errorf("plan %q", plan)
		}
		if strings.HasPrefix(d, "SEARCH sessions USING ") && strings.Contains(d, "INDEX sessions_by_key (key_id") {
			searches++
		}
	}
	if searches != 2 {
		t.Errorf("plan %q, want two searches of sessions_by_key", plan)
	}
}

func TestResealStale(t *testing.T) {
	f := newFixture(t, Options{})
	for u := int64(1); u <= 5; u++ {
		_, str := testSession(uint64(40 + u))
		f.importSession(ingestor, u, str)
	}
	// Rotate: B is the new secret, A the previous.
	svc := f.service(mustSealer(t, secretB, secretA), Options{})
	if n, err := svc.Stale(context.Background()); err != nil || n.Pending != 5 || n.Unreadable != 0 {
		t.Fatalf("stale before = %+v, %v", n, err)
	}
	r, err := svc.ResealStale(context.Background(), 3)
	if err != nil || r.Resealed != 3 || r.Skipped != 0 || r.Left.Pending != 2 {
		t.Fatalf("first pass: %+v, %v", r, err)
	}
	if r, err = svc.ResealStale(context.Background(), 3); err != nil || r.Resealed != 2 || r.Left.Pending != 0 {
		t.Fatalf("second pass: %+v, %v", r, err)
	}
	// The old secret removed: every session still opens.
	only := f.service(mustSealer(t, secretB, nil), Options{})
	for u := int64(1); u <= 5; u++ {
		if _, err := only.GetSessionByUserID(ingestor, u); err != nil {
			t.Errorf("user %d after the rotation: %v", u, err)
		}
	}
}

// The key id moved from an HMAC under the sealing key to an HKDF output of
// its own. Rows under the legacy id of the current or the previous key open,
// count as pending (not unreadable), and are resealed under the new id on
// read and by ResealStale; then the previous secret can go.
func TestLegacyKeyIDMigration(t *testing.T) {
	f := newFixture(t, Options{}) // secretA
	f.importAs(f.svc, 1, 2, 3)
	f.importAs(f.service(mustSealer(t, secretB, nil), Options{}), 4, 5)
	// Rows sealed before the change: the same ciphertext, the legacy id.
	sqlitetest.Exec(t, f.db, "UPDATE sessions SET key_id = '"+legacyKeyID(t, secretA)+"' WHERE user_id <= 3")
	sqlitetest.Exec(t, f.db, "UPDATE sessions SET key_id = '"+legacyKeyID(t, secretB)+"' WHERE user_id > 3")
	ctx := context.Background()

	// Under A alone: A's legacy rows wait, B's are unreadable.
	if n, err := f.svc.Stale(ctx); err != nil || n.Pending != 3 || n.Unreadable != 2 || !slices.Equal(n.UnknownKeyIDs, []string{legacyKeyID(t, secretB)}) {
		t.Fatalf("under A: %+v, %v", n, err)
	}
	// A rotation to C, with B as previous, in the middle of it.
	svc := f.service(mustSealer(t, secretC, secretB), Options{})
	if n, err := svc.Stale(ctx); err != nil || n.Pending != 2 || n.Unreadable != 3 {
		t.Fatalf("C after B: %+v, %v", n, err)
	}
	// Back to A: a read reseals under the new id, and so does the job.
	svc = f.service(mustSealer(t, secretA, secretB), Options{})
	if _, err := svc.GetSessionByUserID(ingestor, 1); err != nil {
		t.Fatal(err)
	}
	if kid := f.column("SELECT key_id FROM sessions WHERE user_id = 1"); kid != svc.sealer.KeyID() {
		t.Fatalf("after a read: key_id %v, want %s", kid, svc.sealer.KeyID())
	}
	r, err := svc.ResealStale(ctx, 10)
	if err != nil || r.Resealed != 4 || r.Skipped != 0 || r.Left.Pending != 0 || r.Left.Unreadable != 0 {
		t.Fatalf("reseal: %+v, %v", r, err)
	}
	if got := f.column("SELECT count(DISTINCT key_id) FROM sessions"); got != int64(1) {
		t.Fatalf("%v key ids after the reseal", got)
	}
	// Every session opens with A alone.
	only := f.service(mustSealer(t, secretA, nil), Options{})
	for u := int64(1); u <= 5; u++ {
		if _, err := only.GetSessionByUserID(ingestor, u); err != nil {
			t.Errorf("user %d: %v", u, err)
		}
	}
}

// Rows that do not open do not stall the job: a run pages past them and
// still reseals up to its limit, each run again.
func TestResealStalePagesPastRowsThatDoNotOpen(t *testing.T) {
	f := newFixture(t, Options{})
	f.importAs(f.svc, 1, 2, 3, 4, 5, 6)
	// The three oldest rows, which a run meets first, do not open.
	sqlitetest.Exec(t, f.db, "UPDATE sessions SET sealed = zeroblob(length(sealed)) WHERE user_id <= 3")
	svc := f.service(mustSealer(t, secretB, secretA), Options{})
	r, err := svc.ResealStale(context.Background(), 2)
	if err != nil || r.Resealed != 2 || r.Skipped != 3 || r.Left.Pending != 4 {
		t.Fatalf("first run: %+v, %v", r, err)
	}
	if r, err = svc.ResealStale(context.Background(), 2); err != nil || r.Resealed != 1 || r.Skipped != 3 || r.Left.Pending != 3 {
		t.Fatalf("second run: %+v, %v", r, err)
	}
	if got := f.column("SELECT count(*) FROM sessions WHERE user_id > 3 AND key_id = ?", svc.sealer.KeyID()); got != int64(3) {
		t.Fatalf("%v good rows resealed, want 3", got)
	}
	for u := 1; u <= 3; u++ {
		id := f.column("SELECT id FROM sessions WHERE user_id = ?", u).(string)
		if strings.Count(f.logBuf.String(), id) != 2 {
			t.Errorf("user %d's row is not reported once a run:\n%s", u, f.logBuf)
		}
	}
}

// A row under the previous key that does not open (tampered) is left alone,
// reported, and still counted as not under the current key.
func TestResealStaleSkipsRowsThatDoNotOpen(t *testing.T) {
	f := newFixture(t, Options{})
	_, s1 := testSession(51)
	_, s2 := testSession(52)
	a := f.importSession(ingestor, 1, s1)
	f.importSession(ingestor, 2, s2)
	sqlitetest.Exec(t, f.db, "UPDATE sessions SET sealed = zeroblob(length(sealed)) WHERE id = '"+a.SessionID+"'")
	before := f.column("SELECT hex(sealed) FROM sessions WHERE id = ?", a.SessionID)
	svc := f.service(mustSealer(t, secretB, secretA), Options{})
	r, err := svc.ResealStale(context.Background(), 10)
	if err != nil || r.Resealed != 1 || r.Skipped != 1 || r.Left.Pending != 1 || r.Left.Unreadable != 0 {
		t.Fatalf("%+v, %v", r, err)
	}
	if after := f.column("SELECT hex(sealed) FROM sessions WHERE id = ?", a.SessionID); after != before {
		t.Error("the row that did not open was changed")
	}
	if !strings.Contains(f.logBuf.String(), a.SessionID) || !strings.Contains(f.logBuf.String(), "cannot be resealed") {
		t.Errorf("not reported: %s", f.logBuf.String())
	}
}
