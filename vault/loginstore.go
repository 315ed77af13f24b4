package vault

import (
	"context"
	"database/sql"
	"errors"
)

// loginRow is a row of logins.
type loginRow struct {
	ID        string
	UserID    int64
	Caller    string
	Kind      string // loginByCode or loginByQR
	PhoneTag  string // "" for QR logins
	Sealed    []byte
	KeyID     string
	Attempts  int
	CreatedAt int64
	ExpiresAt int64
}

const (
	loginByCode = "code"
	loginByQR   = "qr"
)

const loginColumns = "id, user_id, caller, kind, phone_tag, sealed, key_id, attempts, created_at, expires_at"

// login returns the login with the id, or nil.
func (s *store) login(ctx context.Context, id string) (*loginRow, error) {
	return scanLogin(s.db.QueryRowContext(ctx, "SELECT "+loginColumns+" FROM logins WHERE id = ?", id))
}

// scanLogin reads a row of loginColumns; nil if there is none.
func scanLogin(row *sql.Row) (*loginRow, error) {
	var r loginRow
	var tag sql.NullString
	err := row.Scan(&r.ID, &r.UserID, &r.Caller, &r.Kind, &tag, &r.Sealed, &r.KeyID, &r.Attempts, &r.CreatedAt, &r.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.PhoneTag = tag.String
	return &r, nil
}

// insertLogin stores a new login with its access-log row, replacing the live
// login of the same user and phone, if any, in one batch.
func (s *store) insertLogin(ctx context.Context, r *loginRow, l logRow) error {
	return s.batch(ctx, func(x execer) error {
		if r.PhoneTag != "" {
			if _, err := x.ExecContext(ctx, "DELETE FROM logins WHERE user_id = ? AND phone_tag = ?", r.UserID, r.PhoneTag); err != nil {
				return err
			}
		}
		if _, err := x.ExecContext(ctx,
			"INSERT INTO logins ("+loginColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			r.ID, r.UserID, r.Caller, r.Kind, nullString(r.PhoneTag), r.Sealed, r.KeyID, r.Attempts, r.CreatedAt, r.ExpiresAt); err != nil {
			return err
		}
		_, err := x.ExecContext(ctx, insertLog, l.args()...)
		return err
	})
}

// holdLogin marks the login busy until untilMs for a step of caller, if it
// is live at nowMs and no other step holds it, and returns it; nil if this
// step did not get the hold (of concurrent steps of one login, one does), or
// there is no such login. One statement: the read and the hold of a step are
// one D1 round trip, and only a step that gets no hold reads again to say why.
func (s *store) holdLogin(ctx context.Context, id, caller string, nowMs, untilMs int64) (*loginRow, error) {
	return scanLogin(s.db.QueryRowContext(ctx,
		"UPDATE logins SET busy_until = ? WHERE id = ? AND caller = ? AND expires_at > ? AND (busy_until IS NULL OR busy_until <= ?) RETURNING "+loginColumns,
		untilMs, id, caller, nowMs, nowMs))
}

// updateLogin writes a held login's new state, attempts and expiry, releases
// the hold and writes the step's access-log row, in one batch. sealed nil
// keeps the state.
func (s *store) updateLogin(ctx context.Context, r *loginRow, sealed []byte, keyID string, l logRow) error {
	return s.batch(ctx, func(x execer) error {
		var err error
		if sealed != nil {
			_, err = x.ExecContext(ctx, "UPDATE logins SET sealed = ?, key_id = ?, attempts = ?, expires_at = ?, busy_until = NULL WHERE id = ?",
				sealed, keyID, r.Attempts, r.ExpiresAt, r.ID)
		} else {
			_, err = x.ExecContext(ctx, "UPDATE logins SET attempts = ?, expires_at = ?, busy_until = NULL WHERE id = ?", r.Attempts, r.ExpiresAt, r.ID)
		}
		if err != nil {
			return err
		}
		_, err = x.ExecContext(ctx, insertLog, l.args()...)
		return err
	})
}

// deleteLogin deletes the login and writes the step's access-log row.
func (s *store) deleteLogin(ctx context.Context, id string, l logRow) error {
	return s.batch(ctx, func(x execer) error {
		if _, err := x.ExecContext(ctx, "DELETE FROM logins WHERE id = ?", id); err != nil {
			return err
		}
		_, err := x.ExecContext(ctx, insertLog, l.args()...)
		return err
	})
}

// finishLogin stores the session a login made, deletes the login and writes
// the step's access-log row, in one batch: the login never ends without
// its session, nor the session stays without the login ending.
func (s *store) finishLogin(ctx context.Context, loginID string, r *sessionRow, l logRow) error {
	return s.batch(ctx, func(x execer) error {
		if _, err := x.ExecContext(ctx,
			"INSERT INTO sessions (id, user_id, sealed, key_id, dc_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			r.ID, r.UserID, r.Sealed, r.KeyID, r.DCID, r.CreatedAt, r.ExpiresAt); err != nil {
			return err
		}
		if _, err := x.ExecContext(ctx, "DELETE FROM logins WHERE id = ?", loginID); err != nil {
			return err
		}
		_, err := x.ExecContext(ctx, insertLog, l.args()...)
		return err
	})
}

// pruneLogins deletes logins that expired before nowMs.
func (s *store) pruneLogins(ctx context.Context, nowMs int64) (int64, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM logins WHERE expires_at <= ?", nowMs)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// rejectLogged marks the session rejected by Telegram (keeping the first
// rejection) and writes the access-log row together.
func (s *store) rejectLogged(ctx context.Context, id, reason string, nowMs int64, l logRow) error {
	return s.batch(ctx, func(x execer) error {
		if _, err := x.ExecContext(ctx,
			"UPDATE sessions SET rejected_at = COALESCE(rejected_at, ?), rejected_reason = COALESCE(rejected_reason, ?) WHERE id = ?",
			nowMs, reason, id); err != nil {
			return err
		}
		_, err := x.ExecContext(ctx, insertLog, l.args()...)
		return err
	})
}

// loggedOut records that Telegram confirmed the session's auth.logOut.
func (s *store) loggedOut(ctx context.Context, id string, nowMs int64) error {
	_, err := s.db.ExecContext(ctx, "UPDATE sessions SET logged_out_at = ? WHERE id = ? AND logged_out_at IS NULL", nowMs, id)
	return err
}

// pendingLogouts returns up to n sessions revoked since sinceMs whose
// logout Telegram has not confirmed, oldest revocation first.
func (s *store) pendingLogouts(ctx context.Context, sinceMs int64, n int) ([]*sessionRow, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+sessionColumns+
		" FROM sessions WHERE revoked_at IS NOT NULL AND revoked_at >= ? AND logged_out_at IS NULL ORDER BY revoked_at LIMIT ?", sinceMs, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*sessionRow
	for rows.Next() {
		r, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
