package vault

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/communicator/communicator/mtproto/sessionstring"
	"github.com/communicator/communicator/telegramauth"
)

// ReportSessionRejected implements telegramauth.Service: Telegram refused
// the session, so it is never handed out again (status rejected, with the
// reason). The first report's time and reason stand.
func (s *Service) ReportSessionRejected(ctx context.Context, sessionID, reason string) (telegramauth.SessionInfo, error) {
	c, err := s.beginForSession(ctx, telegramauth.ActionReportRejected, sessionID)
	if err != nil {
		return telegramauth.SessionInfo{}, err
	}
	if !slices.Contains(telegramauth.RejectionReasons, reason) {
		return telegramauth.SessionInfo{}, s.fail(ctx, c, telegramauth.NewError(telegramauth.CodeInvalidArgument,
			"reason must be one of Telegram's rejections of a session, such as AUTH_KEY_UNREGISTERED"))
	}
	c.detail = "reason " + reason
	row, err := s.store.session(ctx, sessionID)
	if err != nil {
		return telegramauth.SessionInfo{}, s.unavailable(ctx, c, msgStoreDown, err)
	}
	if row == nil {
		return telegramauth.SessionInfo{}, s.fail(ctx, c, &telegramauth.Error{Code: telegramauth.CodeSessionNotFound, Message: msgUnknownSession, SessionID: sessionID})
	}
	c.userID = row.UserID
	if err := s.store.rejectLogged(ctx, row.ID, reason, c.at, c.row(true, "")); err != nil {
		return telegramauth.SessionInfo{}, s.unavailable(ctx, c, msgStoreDown, err)
	}
	s.log.Warn("vault: Telegram rejected a session; it is no longer handed out", "session_id", row.ID, "user_id", row.UserID, "reason", reason)
	// The first report's time and reason stand (rejectLogged keeps them).
	if !row.RejectedAt.Valid {
		row.RejectedAt = sql.NullInt64{Int64: c.at, Valid: true}
		row.RejectedReason = sql.NullString{String: reason, Valid: true}
	}
	return row.info(c.at, s.tg != nil), nil
}

// logoutTimeout bounds a revocation's auth.logOut: the revocation stands
// without it, and the daily job tries again.
const logoutTimeout = 5 * time.Second

// logOut asks Telegram to log the revoked session's key out, and records
// when it confirms. A key Telegram no longer knows is as good as logged out.
// It reports whether Telegram confirmed.
func (s *Service) logOut(ctx context.Context, row *sessionRow) bool {
	if s.tg == nil {
		return false
	}
	plain, _, err := s.sealer.Open(row.ID, row.UserID, row.KeyID, row.Sealed)
	var sess sessionstring.Session
	if err == nil {
		sess, _, err = sessionstring.Parse(string(plain))
		clear(plain)
	}
	if err != nil {
		s.log.Error("vault: a revoked session does not open; Telegram cannot be asked to log it out", "session_id", row.ID, "reason", err)
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, logoutTimeout)
	defer cancel()
	err = s.tg.LogOut(ctx, sess)
	var te *TelegramError
	if err != nil && !(errors.As(err, &te) && slices.Contains(telegramauth.RejectionReasons, te.Type)) {
		s.log.Warn("vault: Telegram did not confirm a revoked session's logout; the daily job tries again", "session_id", row.ID, "err", err)
		return false
	}
	if err := s.store.loggedOut(context.WithoutCancel(ctx), row.ID, s.now().UnixMilli()); err != nil {
		s.log.Warn("vault: Telegram logged a revoked session out, but that could not be recorded", "session_id", row.ID, "err", err)
	}
	return true
}

// logoutRetryWindow is how long after a revocation the daily job still
// asks Telegram to log the session out.
const logoutRetryWindow = 7 * 24 * time.Hour

// RetryLogouts asks Telegram again to log out up to limit revoked sessions
// whose logout it has not confirmed (revoked in the last 7 days), and
// reports how many it confirmed and how many are still pending of those tried.
func (s *Service) RetryLogouts(ctx context.Context, limit int) (confirmed, pending int, err error) {
	if s.tg == nil {
		return 0, 0, nil
	}
	rows, err := s.store.pendingLogouts(ctx, s.now().Add(-logoutRetryWindow).UnixMilli(), limit)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range rows {
		if s.logOut(ctx, r) {
			confirmed++
		} else {
			pending++
		}
	}
	return confirmed, pending, nil
}
