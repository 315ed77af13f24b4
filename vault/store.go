package vault

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/workers/d1"
)

// store is the SQL of the vault, over the tables of
// services/auth-telegram/migrations. Every statement is plain SQLite that D1
// runs: `?` placeholders (at most 10 per statement), RETURNING only where a
// write returns the row it changed (a login step's hold), times as
// INTEGER unix milliseconds, reads outside transactions, and transactions only
// for write batches (see the package comment).
type store struct{ db *sql.DB }

// sessionRow is a row of sessions. Metadata queries leave Sealed and KeyID empty.
type sessionRow struct {
	ID         string
	UserID     int64
	Sealed     []byte
	KeyID      string
	DCID       sql.NullInt64
	CreatedAt  int64
	ExpiresAt  int64
	LastUsedAt sql.NullInt64
	RevokedAt  sql.NullInt64
	// RejectedAt and RejectedReason: Telegram refused the session.
	RejectedAt     sql.NullInt64
	RejectedReason sql.NullString
	// LoggedOutAt is when Telegram confirmed the revocation's auth.logOut.
	LoggedOutAt sql.NullInt64
}

// status is the row's status at nowMs: revocation wins over rejection,
// and rejection over expiry.
func (r *sessionRow) status(nowMs int64) string {
	switch {
	case r.RevokedAt.Valid:
		return telegramauth.StatusRevoked
	case r.RejectedAt.Valid:
		return telegramauth.StatusRejected
	case r.ExpiresAt <= nowMs:
		return telegramauth.StatusExpired
	default:
		return telegramauth.StatusActive
	}
}

// info is the row's metadata at nowMs; retries says whether the daily job
// asks Telegram to log revoked sessions out (whether the vault has Telegram).
func (r *sessionRow) info(nowMs int64, retries bool) telegramauth.SessionInfo {
	return telegramauth.SessionInfo{
		SessionID:  r.ID,
		UserID:     r.UserID,
		CreatedAt:  fromMillis(r.CreatedAt),
		ExpiresAt:  fromMillis(r.ExpiresAt),
		LastUsedAt: nullTime(r.LastUsedAt),
		RevokedAt:  nullTime(r.RevokedAt),
		Status:     r.status(nowMs),

		RejectedReason: r.RejectedReason.String,
		TelegramLogout: r.logout(nowMs, retries),
	}
}

// logout is the state of a revoked session's auth.logOut with Telegram at
// nowMs: pending while RetryLogouts would still ask for it.
func (r *sessionRow) logout(nowMs int64, retries bool) string {
	switch {
	case !r.RevokedAt.Valid:
		return ""
	case r.LoggedOutAt.Valid:
		return telegramauth.LogoutConfirmed
	case retries && r.RevokedAt.Int64 >= nowMs-logoutRetryWindow.Milliseconds():
		return telegramauth.LogoutPending
	}
	return telegramauth.LogoutUnconfirmed
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func nullTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMillis(v.Int64)
	return &t
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// Ties in created_at are broken by rowid, i.e. insertion order.
const newestFirst = " ORDER BY created_at DESC, rowid DESC"

const sessionColumns = "id, user_id, sealed, key_id, dc_id, created_at, expires_at, last_used_at, revoked_at, rejected_at, rejected_reason, logged_out_at"

func scanSession(sc interface{ Scan(...any) error }) (*sessionRow, error) {
	var r sessionRow
	if err := sc.Scan(&r.ID, &r.UserID, &r.Sealed, &r.KeyID, &r.DCID, &r.CreatedAt, &r.ExpiresAt, &r.LastUsedAt, &r.RevokedAt,
		&r.RejectedAt, &r.RejectedReason, &r.LoggedOutAt); err != nil {
		return nil, err
	}
	return &r, nil
}

// one returns the single row of query, or nil if there is none.
func (s *store) one(ctx context.Context, query string, args ...any) (*sessionRow, error) {
	r, err := scanSession(s.db.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// newestUsable returns the user's newest session that is neither revoked nor
// expired at nowMs nor among excluded, or nil.
func (s *store) newestUsable(ctx context.Context, userID, nowMs int64, excluded []string) (*sessionRow, error) {
	return s.one(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE id = "+pickUsable(len(excluded)), pickArgs(userID, nowMs, excluded)...)
}

// newest returns the user's newest session whatever its status, or nil.
func (s *store) newest(ctx context.Context, userID int64) (*sessionRow, error) {
	return s.one(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE user_id = ?"+newestFirst+" LIMIT 1", userID)
}

// session returns the session with the id, or nil.
func (s *store) session(ctx context.Context, id string) (*sessionRow, error) {
	return s.one(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE id = ?", id)
}

// sessionsOf returns the metadata of every session of the user, newest first.
func (s *store) sessionsOf(ctx context.Context, userID int64) ([]sessionRow, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, user_id, dc_id, created_at, expires_at, last_used_at, revoked_at, rejected_at, rejected_reason, logged_out_at FROM sessions WHERE user_id = ?"+newestFirst, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sessionRow
	for rows.Next() {
		var r sessionRow
		if err := rows.Scan(&r.ID, &r.UserID, &r.DCID, &r.CreatedAt, &r.ExpiresAt, &r.LastUsedAt, &r.RevokedAt, &r.RejectedAt, &r.RejectedReason, &r.LoggedOutAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// logRow is a row of access_log. Zero values of the optional columns are NULL.
type logRow struct {
	At        int64
	SessionID string
	UserID    int64
	Caller    string
	Action    telegramauth.Action
	Success   bool
	ErrorCode telegramauth.Code
	Channel   string
	ClientIP  string
	Detail    string
}

const insertLog = "INSERT INTO access_log (at, session_id, user_id, caller, action, success, error_code, channel, client_ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

func (l logRow) args() []any {
	success := 0
	if l.Success {
		success = 1
	}
	return []any{l.At, nullString(l.SessionID), nullInt(l.UserID), l.Caller, string(l.Action), success, nullString(string(l.ErrorCode)), l.Channel, nullString(l.ClientIP), nullString(l.Detail)}
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// appendLog writes one access-log row on its own.
func (s *store) appendLog(ctx context.Context, l logRow) error {
	_, err := s.db.ExecContext(ctx, insertLog, l.args()...)
	return err
}

// batch runs the statements as one atomic write batch (a D1 batch; a
// transaction on SQLite). Results of the statements are not used: D1 has none
// before the commit.
func (s *store) batch(ctx context.Context, f func(execer) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// insertSessionLogged inserts the session and its access-log row together.
func (s *store) insertSessionLogged(ctx context.Context, r *sessionRow, l logRow) error {
	return s.batch(ctx, func(x execer) error {
		if _, err := x.ExecContext(ctx,
			"INSERT INTO sessions (id, user_id, sealed, key_id, dc_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			r.ID, r.UserID, r.Sealed, r.KeyID, r.DCID, r.CreatedAt, r.ExpiresAt); err != nil {
			return err
		}
		_, err := x.ExecContext(ctx, insertLog, l.args()...)
		return err
	})
}

// countRefusal adds n attempts to the counted refusal row of bucket (a
// failed authentication), creating it at atMs if it is new.
func (s *store) countRefusal(ctx context.Context, bucket string, atMs, n int64, c Caller) error {
	_, err := s.db.ExecContext(ctx,
		"INSERT INTO access_log (at, caller, action, success, error_code, channel, client_ip, attempts, bucket) "+
			"VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?) "+
			"ON CONFLICT (bucket) WHERE bucket IS NOT NULL DO UPDATE SET attempts = attempts + excluded.attempts",
		atMs, c.ServiceID, string(telegramauth.ActionAuthenticate), string(telegramauth.CodeUnauthenticated),
		logChannel(c.Channel), nullString(c.ClientIP), n, bucket)
	return err
}

// resealed is a session sealed again under the current key.
type resealed struct {
	Sealed []byte
	KeyID  string
}

// markUsedLogged records a hand-out: last_used_at, the reseal if any, and the
// access-log row, all or nothing.
func (s *store) markUsedLogged(ctx context.Context, id string, nowMs int64, re *resealed, l logRow) error {
	return s.batch(ctx, func(x execer) error {
		var err error
		if re != nil {
			_, err = x.ExecContext(ctx, "UPDATE sessions SET last_used_at = ?, sealed = ?, key_id = ? WHERE id = ?", nowMs, re.Sealed, re.KeyID, id)
		} else {
			_, err = x.ExecContext(ctx, "UPDATE sessions SET last_used_at = ? WHERE id = ?", nowMs, id)
		}
		if err != nil {
			return err
		}
		_, err = x.ExecContext(ctx, insertLog, l.args()...)
		return err
	})
}

// pickUsable is a subquery: the id of the user's newest session that is
// neither revoked nor expired, and none of a number (excluded) of ids. Its
// arguments are pickArgs.
func pickUsable(excluded int) string {
	q := "(SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND rejected_at IS NULL AND expires_at > ?"
	if excluded > 0 {
		q += " AND id NOT IN (?" + strings.Repeat(", ?", excluded-1) + ")"
	}
	return q + newestFirst + " LIMIT 1)"
}

func pickArgs(userID, nowMs int64, excluded []string) []any {
	args := []any{userID, nowMs}
	for _, id := range excluded {
		args = append(args, id)
	}
	return args
}

// claim hands out the user's newest usable session that is not one of
// excluded (sessions already tried): it sets last_used_at and writes the
// hand-out's access-log row (a success) atomically, in one round trip to D1,
// and returns the row as it was before with the log row's id. So a session is
// never read without its log row. If there is no such session, claim changes
// nothing and returns nil. Its INSERT has 7 placeholders and one per excluded
// id.
func (s *store) claim(ctx context.Context, userID, nowMs int64, l logRow, excluded []string) (*sessionRow, int64, error) {
	pick, args := pickUsable(len(excluded)), pickArgs(userID, nowMs, excluded)
	res, err := d1.Batch(ctx, s.db, []d1.Statement{
		{Query: "SELECT " + sessionColumns + " FROM sessions WHERE id = " + pick, Args: args},
		{Query: "UPDATE sessions SET last_used_at = ? WHERE id = " + pick, Args: append([]any{nowMs}, args...)},
		{Query: "INSERT INTO access_log (at, session_id, user_id, caller, action, success, error_code, channel, client_ip) " +
			"SELECT ?, id, user_id, ?, ?, 1, NULL, ?, ? FROM sessions WHERE id = " + pick,
			Args: append([]any{l.At, l.Caller, string(l.Action), l.Channel, nullString(l.ClientIP)}, args...)},
		{Query: "SELECT last_insert_rowid() AS log_id"},
	})
	if err != nil {
		return nil, 0, err
	}
	if len(res) != 4 || len(res[0].Rows) == 0 {
		return nil, 0, nil
	}
	row, err := sessionFromValues(res[0].Rows[0])
	if err != nil {
		return nil, 0, err
	}
	if len(res[3].Rows) != 1 || len(res[3].Rows[0]) != 1 {
		return nil, 0, errors.New("vault: claim returned no log row id")
	}
	logID, ok := res[3].Rows[0][0].(int64)
	if !ok {
		return nil, 0, errors.New("vault: claim returned a malformed log row id")
	}
	return row, logID, nil
}

// unclaim undoes a claim whose session could not be served: last_used_at goes
// back to what it was, and the log row becomes the failure it was.
func (s *store) unclaim(ctx context.Context, r *sessionRow, nowMs, logID int64, code telegramauth.Code) error {
	var prev any
	if r.LastUsedAt.Valid {
		prev = r.LastUsedAt.Int64
	}
	_, err := d1.Batch(ctx, s.db, []d1.Statement{
		{Query: "UPDATE sessions SET last_used_at = ? WHERE id = ? AND last_used_at = ?", Args: []any{prev, r.ID, nowMs}},
		{Query: "UPDATE access_log SET success = 0, error_code = ? WHERE id = ?", Args: []any{string(code), logID}},
	})
	return err
}

// reseal stores the session sealed again under the current key, unless
// another request did already.
func (s *store) reseal(ctx context.Context, id, oldKeyID string, re resealed) error {
	_, err := s.db.ExecContext(ctx, "UPDATE sessions SET sealed = ?, key_id = ? WHERE id = ? AND key_id = ?", re.Sealed, re.KeyID, id, oldKeyID)
	return err
}

// underKeyQuery selects a page of the sessions under a key id: those whose
// rowid is above a given one, in rowid order. sessions_by_key holds (key_id,
// rowid), so a page is one range of that index.
const underKeyQuery = "SELECT " + sessionColumns + ", rowid AS row_id FROM sessions WHERE key_id = ? AND rowid > ? ORDER BY rowid LIMIT ?"

// sessionsUnderKey returns up to n sessions under keyID whose rowid is above
// after, in rowid order, and the rowid of the last.
func (s *store) sessionsUnderKey(ctx context.Context, keyID string, after int64, n int) ([]*sessionRow, int64, error) {
	rows, err := s.db.QueryContext(ctx, underKeyQuery, keyID, after, n)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*sessionRow
	last := after
	for rows.Next() {
		r, err := scanSession(withRowID{rows, &last})
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, last, rows.Err()
}

// withRowID scans a row of sessionColumns followed by its rowid.
type withRowID struct {
	rows  *sql.Rows
	rowid *int64
}

func (w withRowID) Scan(dest ...any) error { return w.rows.Scan(append(dest, w.rowid)...) }

// staleKeysQuery counts, for each key id but the current one, the sessions
// under it and the active ones among them. Its arguments are the time and the
// current key id, twice. Two ranges rather than != so that SQLite reads only
// the matching entries of sessions_by_key (health runs this, unauthenticated),
// and UNION ALL rather than OR, whose GROUP BY SQLite runs over the whole index.
const staleKeysQuery = "SELECT key_id, count(*) AS sessions, sum(revoked_at IS NULL AND rejected_at IS NULL AND expires_at > ?) AS active FROM sessions WHERE key_id < ? GROUP BY key_id" +
	" UNION ALL SELECT key_id, count(*) AS sessions, sum(revoked_at IS NULL AND rejected_at IS NULL AND expires_at > ?) AS active FROM sessions WHERE key_id > ? GROUP BY key_id"

// keyCount is a row of staleKeysQuery.
type keyCount struct {
	KeyID            string
	Sessions, Active int64
}

// staleKeys counts the sessions under each key id but currentKeyID.
func (s *store) staleKeys(ctx context.Context, currentKeyID string, nowMs int64) ([]keyCount, error) {
	rows, err := s.db.QueryContext(ctx, staleKeysQuery, nowMs, currentKeyID, nowMs, currentKeyID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []keyCount
	for rows.Next() {
		var k keyCount
		if err := rows.Scan(&k.KeyID, &k.Sessions, &k.Active); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// sessionFromValues reads a row of sessionColumns as Batch returns it.
func sessionFromValues(v []any) (*sessionRow, error) {
	if len(v) != 12 {
		return nil, errors.New("vault: malformed session row")
	}
	var r sessionRow
	var ok [5]bool
	r.ID, ok[0] = v[0].(string)
	r.UserID, ok[1] = v[1].(int64)
	r.Sealed, ok[2] = v[2].([]byte)
	r.KeyID, ok[3] = v[3].(string)
	r.DCID = nullInt64(v[4])
	r.CreatedAt, ok[4] = v[5].(int64)
	var okExp bool
	r.ExpiresAt, okExp = v[6].(int64)
	r.LastUsedAt = nullInt64(v[7])
	r.RevokedAt = nullInt64(v[8])
	r.RejectedAt = nullInt64(v[9])
	if reason, ok := v[10].(string); ok {
		r.RejectedReason = sql.NullString{String: reason, Valid: true}
	}
	r.LoggedOutAt = nullInt64(v[11])
	if !ok[0] || !ok[1] || !ok[2] || !ok[3] || !ok[4] || !okExp {
		return nil, errors.New("vault: malformed session row")
	}
	return &r, nil
}

func nullInt64(v any) sql.NullInt64 {
	if i, ok := v.(int64); ok {
		return sql.NullInt64{Int64: i, Valid: true}
	}
	return sql.NullInt64{}
}

// revokeSQL keeps the first revocation time: revoking twice changes nothing.
const revokeSQL = "UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?"

// revokeLogged revokes the session and writes its access-log row together.
func (s *store) revokeLogged(ctx context.Context, id string, nowMs int64, l logRow) error {
	return s.batch(ctx, func(x execer) error {
		if _, err := x.ExecContext(ctx, revokeSQL, nowMs, id); err != nil {
			return err
		}
		_, err := x.ExecContext(ctx, insertLog, l.args()...)
		return err
	})
}

// revoke revokes the session without logging (the fallback when the log
// cannot be written: a revocation must not depend on the log).
func (s *store) revoke(ctx context.Context, id string, nowMs int64) error {
	_, err := s.db.ExecContext(ctx, revokeSQL, nowMs, id)
	return err
}

// AccessLogEntry is a row of the access log (the contract's type).
type AccessLogEntry = telegramauth.AccessLogEntry

// AccessLogFilter selects access-log rows, newest first (the contract's
// AccessLogQuery). Zero fields do not filter.
type AccessLogFilter = telegramauth.AccessLogQuery

// Limits of AccessLogFilter.Limit.
const (
	DefaultAccessLogLimit = 100
	MaxAccessLogLimit     = 1000
)

func (s *store) accessLog(ctx context.Context, f AccessLogFilter) ([]AccessLogEntry, error) {
	var where []string
	var args []any
	if f.UserID != 0 {
		where, args = append(where, "user_id = ?"), append(args, f.UserID)
	}
	if f.SessionID != "" {
		where, args = append(where, "session_id = ?"), append(args, f.SessionID)
	}
	if f.BeforeID != 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	q := "SELECT id, at, session_id, user_id, caller, action, success, error_code, channel, client_ip, attempts, detail FROM access_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit)

	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AccessLogEntry{}
	for rows.Next() {
		var (
			e                         AccessLogEntry
			at, success               int64
			sessionID, code, clientIP sql.NullString
			detail                    sql.NullString
			userID                    sql.NullInt64
			action                    string
		)
		if err := rows.Scan(&e.ID, &at, &sessionID, &userID, &e.Caller, &action, &success, &code, &e.Channel, &clientIP, &e.Attempts, &detail); err != nil {
			return nil, err
		}
		e.At = fromMillis(at)
		e.SessionID = sessionID.String
		e.Detail = detail.String
		e.UserID = userID.Int64
		e.Action = action
		e.Success = success == 1
		e.ErrorCode = telegramauth.Code(code.String)
		e.ClientIP = clientIP.String
		out = append(out, e)
	}
	return out, rows.Err()
}
