package ingest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"
)

// Account states.
const (
	StateIdle       = "idle"        // waits for its next run
	StateQueued     = "queued"      // a slice is queued
	StateSyncing    = "syncing"     // a slice runs
	StateFloodWait  = "flood_wait"  // Telegram asked to wait; the slice is retried after it
	StateNeedsLogin = "needs_login" // no usable session: the user must log in again
	StatePaused     = "paused"      // stopped by a caller until the next sync request
)

// Sync phases.
const (
	PhaseDialogs = "dialogs"
	PhaseHistory = "history"
	PhaseDone    = "done"
)

// Status is an account's ingestion state, as the API reports it.
type Status struct {
	UserID         int64
	Shard          int
	State          string
	Phase          string
	SyncID         string
	DialogsTotal   int
	DialogsDone    int
	MessagesStored int
	Slices         int
	CreatedAt      time.Time
	StartedAt      time.Time // zero: none
	LastSuccessAt  time.Time // zero: none
	LastError      string
	LastErrorAt    time.Time
	NextRunAt      time.Time
	FloodWaitUntil time.Time
}

// account is a row of accounts, with what only slices use.
type account struct {
	Status
	dialogsCursor string
	leaseOwner    string
	leaseUntil    int64
}

const accountColumns = "user_id, shard, state, phase, sync_id, coalesce(dialogs_cursor, ''), dialogs_total, dialogs_done, " +
	"messages_stored, slices, created_at, coalesce(started_at, 0), coalesce(last_success_at, 0), coalesce(last_error, ''), " +
	"coalesce(last_error_at, 0), next_run_at, coalesce(flood_wait_until, 0), coalesce(lease_owner, ''), coalesce(lease_until, 0)"

func scanAccount(sc interface{ Scan(...any) error }) (*account, error) {
	var a account
	var created, started, success, errAt, next, flood int64
	err := sc.Scan(&a.UserID, &a.Shard, &a.State, &a.Phase, &a.SyncID, &a.dialogsCursor, &a.DialogsTotal, &a.DialogsDone,
		&a.MessagesStored, &a.Slices, &created, &started, &success, &a.LastError, &errAt, &next, &flood, &a.leaseOwner, &a.leaseUntil)
	if err != nil {
		return nil, err
	}
	a.CreatedAt, a.StartedAt, a.LastSuccessAt = ms(created), ms(started), ms(success)
	a.LastErrorAt, a.NextRunAt, a.FloodWaitUntil = ms(errAt), ms(next), ms(flood)
	return &a, nil
}

// ms is a unix-millisecond time; 0 is the zero time.
func ms(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// millis is t in unix milliseconds; the zero time is 0.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func (s *Service) account(ctx context.Context, userID int64) (*account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, "SELECT "+accountColumns+" FROM accounts WHERE user_id = ?", userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return a, err
}

// newID is a random id with prefix: a sync's, a slice's.
func newID(prefix string) string {
	var b [10]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// Status reports the account's ingestion; ErrNotFound if it is not registered.
func (s *Service) Status(ctx context.Context, userID int64) (Status, error) {
	a, err := s.account(ctx, userID)
	if err != nil {
		return Status{}, err
	}
	return a.Status, nil
}

// StartSync registers the account if it is new (in the shard ShardOf picks)
// and queues a sync of it now, unless one is queued or running already:
// then it returns that one. A paused account, or one that needed a login,
// starts again. started reports whether a new sync was queued.
func (s *Service) StartSync(ctx context.Context, userID int64) (st Status, started bool, err error) {
	now := s.now()
	if _, err := s.db.ExecContext(ctx,
		"INSERT INTO accounts (user_id, shard, state, phase, sync_id, created_at, next_run_at) VALUES (?, ?, ?, ?, '', ?, ?) ON CONFLICT (user_id) DO NOTHING",
		userID, ShardOf(userID, s.cfg.Shards), StateIdle, PhaseDone, now.UnixMilli(), now.UnixMilli()); err != nil {
		return Status{}, false, err
	}
	a, err := s.account(ctx, userID)
	if err != nil {
		return Status{}, false, err
	}
	switch a.State {
	case StateQueued, StateSyncing, StateFloodWait:
		if a.leaseUntil >= now.UnixMilli() || millis(a.NextRunAt) > now.UnixMilli() {
			return a.Status, false, nil // under way
		}
	}
	started, err = s.queue(ctx, a, now, a.State)
	if err != nil {
		return Status{}, false, err
	}
	a, err = s.account(ctx, userID)
	if err != nil {
		return Status{}, false, err
	}
	return a.Status, started, nil
}

// queue starts a new sync of a (if its state is still from) and sends its
// first slice. If the queue refuses the job, the account goes back to idle
// and is due now, so the next cron tries again.
func (s *Service) queue(ctx context.Context, a *account, now time.Time, from string) (bool, error) {
	syncID := newID("syn_")
	res, err := s.db.ExecContext(ctx,
		"UPDATE accounts SET state = ?, phase = ?, sync_id = ?, dialogs_cursor = NULL, dialogs_done = 0, slices = 0, "+
			"started_at = ?, next_run_at = ?, flood_wait_until = NULL WHERE user_id = ? AND state = ? AND sync_id = ?",
		StateQueued, PhaseDialogs, syncID, now.UnixMilli(), now.Add(s.watchdog()).UnixMilli(), a.UserID, from, a.SyncID)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err // someone else changed it first
	}
	if err := s.queueJob.Enqueue(ctx, []Job{{UserID: a.UserID, SyncID: syncID}}, 0); err != nil {
		s.log.Error("ingest: the sync queue refused a job; the account is due again", "user_id", a.UserID, "err", err)
		_, _ = s.db.ExecContext(context.WithoutCancel(ctx),
			"UPDATE accounts SET state = ?, next_run_at = ?, last_error = ?, last_error_at = ? WHERE user_id = ? AND sync_id = ?",
			StateIdle, now.UnixMilli(), "UNAVAILABLE: the sync queue refused the job", now.UnixMilli(), a.UserID, syncID)
		return false, err
	}
	return true, nil
}

// watchdog is how long a queued or running sync may go without a slice
// before the cron queues it again.
func (s *Service) watchdog() time.Duration { return 2 * s.cfg.Lease }

// QueueDue queues the syncs that are due, at most limit: idle accounts whose
// next run has come, and syncs whose queue message or slice was lost (queued
// or running, lease lapsed, watchdog passed: they continue where they
// stopped). The cron runs it. It returns how many it queued.
func (s *Service) QueueDue(ctx context.Context, limit int) (int, error) {
	now := s.now()
	rows, err := s.db.QueryContext(ctx,
		"SELECT "+accountColumns+" FROM accounts WHERE next_run_at <= ? AND state IN (?, ?, ?, ?) "+
			"AND coalesce(lease_until, 0) < ? ORDER BY next_run_at LIMIT ?",
		now.UnixMilli(), StateIdle, StateQueued, StateSyncing, StateFloodWait, now.UnixMilli(), limit)
	if err != nil {
		return 0, err
	}
	var due []*account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			rows.Close()
			return 0, err
		}
		due = append(due, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var jobs []Job
	for _, a := range due {
		if a.State == StateIdle {
			if ok, err := s.queue(ctx, a, now, StateIdle); err != nil {
				return len(jobs), err
			} else if ok {
				jobs = append(jobs, Job{UserID: a.UserID})
			}
			continue
		}
		// A lost sync: its job again, same sync, from its cursors.
		res, err := s.db.ExecContext(ctx, "UPDATE accounts SET state = ?, next_run_at = ? WHERE user_id = ? AND sync_id = ? AND next_run_at = ?",
			StateQueued, now.Add(s.watchdog()).UnixMilli(), a.UserID, a.SyncID, millis(a.NextRunAt))
		if err != nil {
			return len(jobs), err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		s.log.Warn("ingest: a sync went quiet; queued again", "user_id", a.UserID, "sync_id", a.SyncID, "state", a.State)
		if err := s.queueJob.Enqueue(ctx, []Job{{UserID: a.UserID, SyncID: a.SyncID}}, 0); err != nil {
			return len(jobs), err
		}
		jobs = append(jobs, Job{UserID: a.UserID})
	}
	return len(jobs), nil
}

// Pause stops the account's ingestion: a slice running now stops at its
// next page, queued slices find the sync gone, and the cron leaves the
// account alone until StartSync.
func (s *Service) Pause(ctx context.Context, userID int64) (Status, error) {
	res, err := s.db.ExecContext(ctx, "UPDATE accounts SET state = ?, sync_id = ? WHERE user_id = ?", StatePaused, newID("syn_"), userID)
	if err != nil {
		return Status{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Status{}, ErrNotFound
	}
	return s.Status(ctx, userID)
}

// Delete stops ingesting the account and deletes everything stored for it:
// its dialogs and messages in its shard, then its account row. It pauses the
// account first and waits (up to wait) for a running slice to let go, so
// that no slice writes after the delete; ErrBusy if it does not.
func (s *Service) Delete(ctx context.Context, userID int64, wait time.Duration) error {
	if _, err := s.Pause(ctx, userID); err != nil {
		return err
	}
	deadline := s.now().Add(wait)
	for {
		a, err := s.account(ctx, userID)
		if err != nil {
			return err
		}
		now := s.now()
		if a.leaseUntil < now.UnixMilli() {
			shard, err := s.shard(a.Shard)
			if err != nil {
				return err
			}
			if _, err := shard.ExecContext(ctx, "DELETE FROM messages WHERE user_id = ?", userID); err != nil {
				return err
			}
			if _, err := shard.ExecContext(ctx, "DELETE FROM dialogs WHERE user_id = ?", userID); err != nil {
				return err
			}
			_, err = s.db.ExecContext(ctx, "DELETE FROM accounts WHERE user_id = ?", userID)
			return err
		}
		if now.After(deadline) {
			return ErrBusy
		}
		if err := s.sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}
