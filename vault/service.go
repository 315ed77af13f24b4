package vault

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/communicator/communicator/accesspolicy"
	"github.com/communicator/communicator/internal/errtext"
	"github.com/communicator/communicator/mtproto/sessionstring"
	"github.com/communicator/communicator/telegramauth"
)

var _ telegramauth.Service = (*Service)(nil)

// DefaultLifetime is how long a stored session stays usable.
const DefaultLifetime = 90 * 24 * time.Hour

// maxSessionStringLen bounds what ImportSession decodes. Real session strings
// are about 370 characters (a GramJS one with a 100-byte host name is 489).
const maxSessionStringLen = 1024

// Messages of the errors Service returns. None contains input, a secret or SQL.
const (
	msgNoCaller       = "the call carries no caller identity"
	msgBadUserID      = "userId must be a positive integer below 2^53"
	msgStoreDown      = "the session store is unavailable"
	msgCannotOpen     = "session could not be opened"
	msgUnloggedRead   = "a session read that cannot be logged is refused"
	msgUnloggedWrite  = "a session write that cannot be logged is refused"
	msgNoSession      = "the user has no session"
	msgUnknownSession = "no session has this id"
)

// Options configures a Service. Zero fields take the defaults.
type Options struct {
	Now      func() time.Time    // clock; time.Now
	Lifetime time.Duration       // session lifetime from import; DefaultLifetime
	Rand     io.Reader           // source of session ids; crypto/rand.Reader
	Policy   accesspolicy.Policy // who may do what (telegramauth.Action names); nil means DefaultPolicy()
	// Telegram runs logins and the logouts of revoked sessions; nil means
	// logins answer UNAVAILABLE and revocations stay local.
	Telegram Telegram
	// LoginLifetime is how long a login may take from its start (or from
	// its password step); DefaultLoginLifetime.
	LoginLifetime time.Duration
	// Logger receives operational events that callers must not see, such as
	// the SQL error behind UNAVAILABLE or why a row did not open. Never a
	// secret. Defaults to discarding them.
	Logger *slog.Logger
}

// Service is auth-telegram's vault: it implements telegramauth.Service over
// the sessions and access_log tables.
//
// Every list, revoke and import, and every denied or failed call, writes
// exactly one access-log row; a hand-out writes one for each session it reads
// (a session that does not open gets a failure row, and the next is tried).
// A hand-out, a list and an import whose row cannot be written are refused
// with UNAVAILABLE (the row is written in the same batch as the change it
// records). A revocation is not: it takes effect even when the log is down,
// because refusing to revoke is the less safe failure; that gap is reported
// to the Logger.
type Service struct {
	store    store
	sealer   *Sealer
	now      func() time.Time
	lifetime time.Duration
	rand     io.Reader
	policy   accesspolicy.Policy
	log      *slog.Logger
	refused  refusals
	tg       Telegram
	loginTTL time.Duration
}

// New returns a Service over db (with the migrations of
// services/auth-telegram/migrations applied) that seals with sealer.
func New(db *sql.DB, sealer *Sealer, opts Options) (*Service, error) {
	if db == nil || sealer == nil {
		return nil, errors.New("vault: New needs a database and a sealer")
	}
	if opts.Lifetime < 0 {
		return nil, errors.New("vault: negative session lifetime")
	}
	if opts.LoginLifetime < 0 {
		return nil, errors.New("vault: negative login lifetime")
	}
	s := &Service{store: store{db}, sealer: sealer, now: opts.Now, lifetime: opts.Lifetime, rand: opts.Rand, policy: opts.Policy, log: opts.Logger,
		tg: opts.Telegram, loginTTL: opts.LoginLifetime}
	if s.loginTTL == 0 {
		s.loginTTL = DefaultLoginLifetime
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.lifetime == 0 {
		s.lifetime = DefaultLifetime
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.policy == nil {
		s.policy = DefaultPolicy()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// call is one call in progress: what its access-log row will say.
type call struct {
	action    telegramauth.Action
	caller    Caller
	userID    int64
	sessionID string
	detail    string
	at        int64
}

func (c *call) row(success bool, code telegramauth.Code) logRow {
	return logRow{
		At: c.at, SessionID: c.sessionID, UserID: c.userID,
		Caller: errtext.Clip(c.caller.ServiceID, 128), Action: c.action,
		Success: success, ErrorCode: code,
		Channel: logChannel(c.caller.Channel), ClientIP: errtext.Clip(c.caller.ClientIP, 64),
		Detail: c.detail,
	}
}

// begin starts a call: it reads the caller from ctx and checks the policy.
func (s *Service) begin(ctx context.Context, action telegramauth.Action) (*call, *telegramauth.Error) {
	c := &call{action: action, at: s.now().UnixMilli()}
	caller, ok := CallerFrom(ctx)
	c.caller = caller
	switch {
	case !ok || caller.ServiceID == "":
		return c, telegramauth.NewError(telegramauth.CodeForbidden, msgNoCaller)
	case caller.Channel != ChannelServiceBinding && caller.Channel != ChannelHTTP:
		return c, telegramauth.NewError(telegramauth.CodeForbidden, "the call arrived on an unknown channel")
	case !s.policy.Allows(string(telegramauth.Permission(action)), caller.ServiceID):
		return c, telegramauth.NewError(telegramauth.CodeForbidden,
			"service "+strconv.Quote(errtext.Clip(caller.ServiceID, 64))+" may not "+string(telegramauth.Permission(action)))
	}
	return c, nil
}

// beginFor starts a call about a user: the caller and its permission, then
// the user id. A refusal is logged (with the user, if the id is valid) and
// returned.
func (s *Service) beginFor(ctx context.Context, action telegramauth.Action, userID int64) (*call, error) {
	c, denied := s.begin(ctx, action)
	if telegramauth.ValidUserID(userID) {
		c.userID = userID
	}
	return c, s.admit(ctx, c, denied, c.userID != 0, msgBadUserID)
}

// admit fails a begun call that is denied, or else whose id is malformed
// (!valid; bad says why), and answers nil for one that may go on.
func (s *Service) admit(ctx context.Context, c *call, denied *telegramauth.Error, valid bool, bad string) error {
	if denied != nil {
		return s.fail(ctx, c, denied)
	}
	if !valid {
		return s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeInvalidArgument, bad))
	}
	return nil
}

// beginForSession is begin for an action on one session: the access-log
// row names the session if its id is well formed, and a malformed id is
// refused (after the permission: a caller without it learns nothing more).
func (s *Service) beginForSession(ctx context.Context, action telegramauth.Action, sessionID string) (*call, error) {
	c, denied := s.begin(ctx, action)
	if telegramauth.ValidSessionID(sessionID) {
		c.sessionID = sessionID
	}
	return c, s.admit(ctx, c, denied, c.sessionID != "",
		"sessionId ("+strconv.Itoa(len(sessionID))+" bytes) is not a session id: want "+telegramauth.SessionIDRule)
}

// fail writes the failure's access-log row and returns e. A failure to write
// the row is reported to the Logger and does not replace e.
func (s *Service) fail(ctx context.Context, c *call, e *telegramauth.Error) error {
	if e.SessionID != "" && c.sessionID == "" {
		c.sessionID = e.SessionID
	}
	if err := s.store.appendLog(context.WithoutCancel(ctx), c.row(false, e.Code)); err != nil {
		s.log.Error("vault: access log write failed", "action", string(c.action), "code", string(e.Code), "session_id", c.sessionID, "err", err)
	}
	return e
}

// RecordDenied writes the access-log row of a request refused before it
// reached the service, such as an RPC call whose binding's props disagree
// with its entrypoint, so that every denied attempt is in the log.
// caller.ServiceID is who the caller is taken for; action names what was
// refused, target what it was about (see Target).
func (s *Service) RecordDenied(ctx context.Context, caller Caller, action telegramauth.Action, target Target, code telegramauth.Code) {
	c := &call{action: action, caller: caller, at: s.now().UnixMilli()}
	c.about(target)
	_ = s.fail(ctx, c, telegramauth.NewError(code, ""))
}

// unavailable reports a store failure: the cause goes to the Logger only.
func (s *Service) unavailable(ctx context.Context, c *call, msg string, cause error) error {
	s.log.Error("vault: store failure", "action", string(c.action), "session_id", c.sessionID, "err", cause)
	return s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeUnavailable, msg))
}

// maxHandOutTries bounds the sessions one hand-out tries to open. Each try
// is a claim, one D1 batch; the third excludes two ids, which keeps its
// statements within the store's 10 placeholders.
const maxHandOutTries = 3

// GetSessionByUserID hands out the user's newest active session that opens.
// One that does not open is reported (an ERROR line, and a failure row in the
// access log) and the next newest is tried, up to maxHandOutTries; if none
// opens, the answer is INTERNAL about the newest.
func (s *Service) GetSessionByUserID(ctx context.Context, userID int64) (telegramauth.Session, error) {
	c, err := s.beginFor(ctx, telegramauth.ActionGetSession, userID)
	if err != nil {
		return telegramauth.Session{}, err
	}

	var tried []string
	var refused error // the answer about the first session that did not open
	for len(tried) < maxHandOutTries {
		// One round trip: the row is read, marked used and logged together.
		row, logID, err := s.store.claim(ctx, userID, c.at, c.row(true, ""), tried)
		if err != nil {
			return telegramauth.Session{}, s.claimFailed(ctx, c, tried, refused, err)
		}
		if row == nil {
			break
		}
		sess, err := s.serve(ctx, c, row, logID)
		if err == nil {
			return sess, nil
		}
		tried = append(tried, row.ID)
		if refused == nil {
			refused = err
		}
	}
	if refused != nil {
		return telegramauth.Session{}, refused
	}
	return telegramauth.Session{}, s.noUsableSession(ctx, c)
}

// claimFailed answers a hand-out whose claim batch failed as a whole, after
// the sessions tried. It finds out what the claim would have handed out:
// nothing keeps the answer it would have had; a usable session is refused,
// because its read could not be logged.
func (s *Service) claimFailed(ctx context.Context, c *call, tried []string, refused, cause error) error {
	r, err := s.store.newestUsable(ctx, c.userID, c.at, tried)
	switch {
	case err == nil && r == nil && refused != nil:
		s.log.Warn("vault: hand-out batch failed; the user has no other usable session", "user_id", c.userID, "err", cause)
		return refused
	case err == nil && r == nil:
		s.log.Warn("vault: hand-out batch failed; the user has no usable session", "user_id", c.userID, "err", cause)
		return s.noUsableSession(ctx, c)
	case err == nil:
		c.sessionID = r.ID
	}
	return s.unavailable(ctx, c, msgUnloggedRead, cause)
}

// serve opens a claimed row and returns its session, resealed under the
// current key if it was under a stale one. A row that does not open
// (tampered, moved to another row, under an unknown key, or not a session) is
// never served: the reason goes to the Logger (it holds no secret), the claim
// is undone (its log row becomes this failure), and the error is INTERNAL.
func (s *Service) serve(ctx context.Context, c *call, row *sessionRow, logID int64) (telegramauth.Session, error) {
	plain, stale, err := s.sealer.Open(row.ID, row.UserID, row.KeyID, row.Sealed)
	var sess sessionstring.Session
	if err == nil {
		sess, _, err = sessionstring.Parse(string(plain))
		clear(plain)
	}
	if err != nil {
		s.log.Error("vault: "+msgCannotOpen, "session_id", row.ID, "user_id", row.UserID, "key_id", row.KeyID, "reason", err)
		e := &telegramauth.Error{Code: telegramauth.CodeInternal, Message: msgCannotOpen, SessionID: row.ID}
		if uerr := s.store.unclaim(context.WithoutCancel(ctx), row, c.at, logID, e.Code); uerr != nil {
			s.log.Error("vault: could not record a refused hand-out; its access-log row says success", "session_id", row.ID, "log_id", logID, "err", uerr)
		}
		return telegramauth.Session{}, e
	}
	str := sessionstring.Encode(sess)

	if stale {
		sealed, keyID := s.sealer.Seal(row.ID, row.UserID, []byte(str))
		if err := s.store.reseal(ctx, row.ID, row.KeyID, resealed{Sealed: sealed, KeyID: keyID}); err != nil {
			s.log.Warn("vault: reseal under the current key failed; it is retried on the next read", "session_id", row.ID, "err", err)
		} else {
			s.log.Info("vault: resealed a session under the current key", "session_id", row.ID, "key_id", keyID)
		}
	}
	return telegramauth.Session{SessionString: str, SessionID: row.ID, UserID: row.UserID, ExpiresAt: fromMillis(row.ExpiresAt)}, nil
}

// noUsableSession explains why the user has no active session.
func (s *Service) noUsableSession(ctx context.Context, c *call) error {
	newest, err := s.store.newest(ctx, c.userID)
	switch {
	case err != nil:
		return s.unavailable(ctx, c, msgStoreDown, err)
	case newest == nil:
		return s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeSessionNotFound, msgNoSession))
	case newest.RevokedAt.Valid:
		return s.fail(ctx, c, &telegramauth.Error{Code: telegramauth.CodeSessionRevoked,
			Message: "the user's newest session was revoked at " + stamp(newest.RevokedAt.Int64), SessionID: newest.ID})
	case newest.RejectedAt.Valid:
		return s.fail(ctx, c, &telegramauth.Error{Code: telegramauth.CodeSessionRejected,
			Message:   "Telegram rejected the user's newest session at " + stamp(newest.RejectedAt.Int64) + ": log in again",
			SessionID: newest.ID, Reason: newest.RejectedReason.String})
	default:
		return s.fail(ctx, c, &telegramauth.Error{Code: telegramauth.CodeSessionExpired,
			Message: "the user's newest session expired at " + stamp(newest.ExpiresAt), SessionID: newest.ID})
	}
}

// ListSessions lists the metadata of every session of the user, newest first.
func (s *Service) ListSessions(ctx context.Context, userID int64) ([]telegramauth.SessionInfo, error) {
	c, err := s.beginFor(ctx, telegramauth.ActionListSessions, userID)
	if err != nil {
		return nil, err
	}
	rows, err := s.store.sessionsOf(ctx, userID)
	if err != nil {
		return nil, s.unavailable(ctx, c, msgStoreDown, err)
	}
	out := make([]telegramauth.SessionInfo, len(rows))
	for i := range rows {
		out[i] = rows[i].info(c.at, s.tg != nil)
	}
	if err := s.store.appendLog(ctx, c.row(true, "")); err != nil {
		return nil, s.unavailable(ctx, c, "a session list that cannot be logged is refused", err)
	}
	return out, nil
}

// RevokeSession revokes a session; revoking it again returns the first time.
func (s *Service) RevokeSession(ctx context.Context, sessionID string) (telegramauth.Revocation, error) {
	c, err := s.beginForSession(ctx, telegramauth.ActionRevokeSession, sessionID)
	if err != nil {
		return telegramauth.Revocation{}, err
	}
	row, err := s.store.session(ctx, sessionID)
	if err != nil {
		return telegramauth.Revocation{}, s.unavailable(ctx, c, msgStoreDown, err)
	}
	if row == nil {
		return telegramauth.Revocation{}, s.fail(ctx, c, &telegramauth.Error{Code: telegramauth.CodeSessionNotFound, Message: msgUnknownSession, SessionID: sessionID})
	}
	c.userID = row.UserID

	if row.RevokedAt.Valid {
		// Already revoked: report the first revocation, and log this call.
		if err := s.store.appendLog(ctx, c.row(true, "")); err != nil {
			s.log.Error("vault: access log write failed for a repeated revocation", "session_id", row.ID, "err", err)
		}
		return telegramauth.Revocation{SessionID: row.ID, RevokedAt: fromMillis(row.RevokedAt.Int64)}, nil
	}

	if err := s.store.revokeLogged(ctx, row.ID, c.at, c.row(true, "")); err != nil {
		// The log (or the batch) failed: revoke anyway, alone.
		if err2 := s.store.revoke(ctx, row.ID, c.at); err2 != nil {
			return telegramauth.Revocation{}, s.unavailable(ctx, c, msgStoreDown, errors.Join(err, err2))
		}
		s.log.Error("vault: session revoked but the revocation could not be logged", "session_id", row.ID, "user_id", row.UserID, "err", err)
	}
	// Telegram forgets the key too, if it answers in time; if not, the
	// daily job asks again (SessionInfo.TelegramLogout says which).
	s.logOut(ctx, row)
	// Read back: a concurrent revocation may have been first.
	revokedAt := c.at
	if after, err := s.store.session(ctx, row.ID); err == nil && after != nil && after.RevokedAt.Valid {
		revokedAt = after.RevokedAt.Int64
	}
	return telegramauth.Revocation{SessionID: row.ID, RevokedAt: fromMillis(revokedAt)}, nil
}

// ImportSession stores a GramJS or Telethon string session for the user.
func (s *Service) ImportSession(ctx context.Context, userID int64, sessionString string) (telegramauth.SessionInfo, error) {
	c, err := s.beginFor(ctx, telegramauth.ActionImportSession, userID)
	if err != nil {
		return telegramauth.SessionInfo{}, err
	}
	if len(sessionString) > maxSessionStringLen {
		return telegramauth.SessionInfo{}, s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeInvalidArgument,
			"sessionString is "+strconv.Itoa(len(sessionString))+" bytes, longer than any session string"))
	}
	sess, _, err := sessionstring.Parse(sessionString)
	if err != nil {
		// The parse error describes the fault without quoting the input.
		msg := "sessionString: " + strings.TrimPrefix(err.Error(), "session string: ")
		return telegramauth.SessionInfo{}, s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeInvalidArgument, msg))
	}
	return s.save(ctx, c, sess)
}

// save seals the canonical GramJS string of sess and stores it with its log row.
//
// The plaintext is the canonical string (sessionstring.Encode) rather than a
// private encoding of the fields: it carries its own format version (the "1"),
// is exactly what a hand-out returns, and is parsed again after every open, so
// a row whose plaintext is not a valid session is refused like a tampered one.
func (s *Service) save(ctx context.Context, c *call, sess sessionstring.Session) (telegramauth.SessionInfo, error) {
	id, err := s.newSessionID()
	if err != nil {
		s.log.Error("vault: session id source failed", "err", err)
		return telegramauth.SessionInfo{}, s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeInternal, "no session id could be generated"))
	}
	c.sessionID = id
	row := s.newSessionRow(c, id, sess)
	if err := s.store.insertSessionLogged(ctx, row, c.row(true, "")); err != nil {
		return telegramauth.SessionInfo{}, s.unavailable(ctx, c, msgUnloggedWrite, err)
	}
	return row.info(c.at, s.tg != nil), nil
}

// newSessionRow seals the canonical string of sess as session id of the
// call's user.
func (s *Service) newSessionRow(c *call, id string, sess sessionstring.Session) *sessionRow {
	plain := []byte(sessionstring.Encode(sess))
	sealed, keyID := s.sealer.Seal(id, c.userID, plain)
	clear(plain)
	return &sessionRow{
		ID: id, UserID: c.userID, Sealed: sealed, KeyID: keyID,
		DCID:      sql.NullInt64{Int64: int64(sess.DC), Valid: true},
		CreatedAt: c.at, ExpiresAt: c.at + s.lifetime.Milliseconds(),
	}
}

// maxAccessLogID bounds AccessLogFilter.BeforeID: like user ids, access-log
// ids cross to D1 as JavaScript numbers, exact up to 2^53-1, and D1's driver
// refuses larger ones.
const maxAccessLogID = telegramauth.MaxUserID

// AccessLog reads the access log, newest first. The policy must allow the
// caller telegramauth.ActionReadAccessLog. A denied or failed read is logged, a successful
// one is not (so that paging through the log does not add to it).
func (s *Service) AccessLog(ctx context.Context, f AccessLogFilter) ([]AccessLogEntry, error) {
	c, denied := s.begin(ctx, telegramauth.ActionReadAccessLog)
	if denied != nil {
		return nil, s.fail(ctx, c, denied)
	}
	var bad string
	switch {
	case f.UserID != 0 && !telegramauth.ValidUserID(f.UserID):
		bad = "userId must be a positive integer below 2^53, or 0 for all users"
	case f.SessionID != "" && !telegramauth.ValidSessionID(f.SessionID):
		bad = "sessionId is not a session id"
	case f.BeforeID < 0 || f.BeforeID > maxAccessLogID:
		bad = "beforeId must be an access-log id below 2^53, or 0 for the newest entries"
	case f.Limit < 0:
		bad = "limit must not be negative"
	}
	if bad != "" {
		return nil, s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeInvalidArgument, bad))
	}
	if f.Limit == 0 {
		f.Limit = DefaultAccessLogLimit
	}
	f.Limit = min(f.Limit, MaxAccessLogLimit)
	out, err := s.store.accessLog(ctx, f)
	if err != nil {
		return nil, s.unavailable(ctx, c, msgStoreDown, err)
	}
	return out, nil
}

// sessionIDs is base32 (RFC 4648 alphabet) in lower case, without padding.
var sessionIDs = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newSessionID returns "ses_" and 26 characters encoding 128 random bits.
func (s *Service) newSessionID() (string, error) { return s.newID(telegramauth.SessionIDPrefix) }

// newID returns prefix and 26 characters encoding 128 random bits.
func (s *Service) newID(prefix string) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", err
	}
	return prefix + sessionIDs.EncodeToString(b[:]), nil
}

// stamp formats a time for a message.
func stamp(ms int64) string { return fromMillis(ms).Format(time.RFC3339) }

// logChannel is the channel as stored: an unknown channel is logged as "unknown".
func logChannel(ch string) string {
	if ch == ChannelServiceBinding || ch == ChannelHTTP {
		return ch
	}
	return "unknown"
}

// pruneBatch bounds the rows one pruning statement deletes, so that each
// stays well within D1's per-query time.
const pruneBatch = 1000

// PruneAccessLog deletes access-log rows older than before, in batches, and
// returns how many it deleted. The scheduled handler runs it daily with the
// retention (ACCESS_LOG_RETENTION_DAYS).
func (s *Service) PruneAccessLog(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		res, err := s.store.db.ExecContext(ctx,
			"DELETE FROM access_log WHERE id IN (SELECT id FROM access_log WHERE at < ? ORDER BY id LIMIT ?)", before.UnixMilli(), pruneBatch)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
		if n < pruneBatch {
			s.log.Info("vault: access log pruned", "deleted", total, "before", before.UTC().Format(time.RFC3339))
			return total, nil
		}
	}
}

// ResealReport is what a ResealStale run did.
type ResealReport struct {
	Resealed int // sessions sealed again under the current key
	// Skipped sessions are under a key that opens, yet did not open
	// (tampered, or moved to another row): each is logged and left as it is.
	Skipped int
	Left    StaleCounts // what is left after the run
}

// ResealStale reseals, under the current key id, up to limit sessions still
// under a stale key id (SESSION_SECRET_PREVIOUS's, or the legacy id of either
// key), and reports what it did and what is left. A session that does not open is logged and
// skipped; the run pages past it, so it never holds back the others. The
// scheduled handler runs it daily during a rotation; once Stale reports none
// pending, the previous secret can be removed (docs/operations.md).
func (s *Service) ResealStale(ctx context.Context, limit int) (ResealReport, error) {
	var r ResealReport
	for _, keyID := range s.sealer.staleKeyIDs() {
		// Page through the key's rows in rowid order, so that rows that do
		// not open are passed, not read again by every page.
		var after int64
		for r.Resealed < limit {
			page, last, err := s.store.sessionsUnderKey(ctx, keyID, after, limit)
			if err != nil {
				return r, err
			}
			for _, row := range page {
				if r.Resealed == limit {
					break
				}
				plain, _, err := s.sealer.Open(row.ID, row.UserID, row.KeyID, row.Sealed)
				if err != nil {
					s.log.Error("vault: a session under a stale key does not open; it cannot be resealed", "session_id", row.ID, "reason", err)
					r.Skipped++
					continue
				}
				sealed, newKeyID := s.sealer.Seal(row.ID, row.UserID, plain)
				clear(plain)
				if err := s.store.reseal(ctx, row.ID, row.KeyID, resealed{Sealed: sealed, KeyID: newKeyID}); err != nil {
					return r, err
				}
				r.Resealed++
			}
			if len(page) < limit {
				break
			}
			after = last
		}
	}
	var err error
	r.Left, err = s.Stale(ctx)
	return r, err
}

// StaleCounts counts the sessions not sealed under the current key.
type StaleCounts struct {
	// Pending sessions are under a key id that opens but is not the current
	// key's: SESSION_SECRET_PREVIOUS's, or the legacy id of either key (see
	// sealKey). They are resealed under the current key id when handed out
	// and by ResealStale.
	Pending int64
	// Unreadable sessions are active sessions under a key of no configured
	// secret. They cannot be opened (a hand-out passes them over for the
	// user's next newest session, or fails) until the secret that sealed them
	// is set as SESSION_SECRET_PREVIOUS, or they are revoked.
	Unreadable int64
	// UnreadableInactive sessions are revoked or expired sessions under a key
	// of no configured secret: never handed out, so they do no harm.
	UnreadableInactive int64
	// UnknownKeyIDs are the key ids of the unreadable active sessions, sorted,
	// for the operator's log. A key id says nothing about its key.
	UnknownKeyIDs []string
}

// Stale counts the sessions not sealed under the current key id. Health runs
// it, unauthenticated: it reads only those sessions, found through the index
// sessions_by_key.
func (s *Service) Stale(ctx context.Context) (StaleCounts, error) {
	keys, err := s.store.staleKeys(ctx, s.sealer.KeyID(), s.now().UnixMilli())
	if err != nil {
		return StaleCounts{}, err
	}
	var c StaleCounts
	for _, k := range keys {
		if s.sealer.opens(k.KeyID) {
			c.Pending += k.Sessions
			continue
		}
		c.UnreadableInactive += k.Sessions - k.Active
		if k.Active > 0 {
			c.Unreadable += k.Active
			c.UnknownKeyIDs = append(c.UnknownKeyIDs, k.KeyID)
		}
	}
	slices.Sort(c.UnknownKeyIDs)
	return c, nil
}
