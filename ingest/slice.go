package ingest

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"sync"
	"time"
)

// SliceResult is what the queue does with a job after its slice: nothing
// (the job is done, and any continuation is queued already), or retry it
// after RetryAfter.
type SliceResult struct {
	RetryAfter time.Duration
}

// errStopped ends a slice whose sync was paused, replaced or deleted.
var errStopped = errors.New("ingest: the sync was stopped")

// slice is one slice in progress.
type slice struct {
	s       *Service
	a       *account
	owner   string
	shard   *sql.DB
	pages   int
	rows    int
	done    bool // the sync has nothing left
	checked time.Time
	// Where the slice's time went, for its log line: from its start until
	// the connection was up (the session and the handshake), waiting on
	// Telegram's answers (their decoding included), and on the shard and DB
	// (choosing dialogs, checking the lease, committing pages), of which
	// the batches that commit history pages.
	begin, connected         time.Time
	telegram, store, batches time.Duration
}

// RunSlice runs one slice of job's sync: attempts is how many times the
// queue has delivered the job (1 the first time).
func (s *Service) RunSlice(ctx context.Context, job Job, attempts int) SliceResult {
	begin := s.now()
	a, err := s.account(ctx, job.UserID)
	if errors.Is(err, ErrNotFound) {
		s.log.Info("ingest: a job for an account no longer registered; dropped", "user_id", job.UserID)
		return SliceResult{}
	}
	if err != nil {
		return s.retry(job, attempts, "the ingestor's database did not answer", err)
	}
	if a.SyncID != job.SyncID || (a.State != StateQueued && a.State != StateSyncing && a.State != StateFloodWait) {
		s.log.Info("ingest: a job of a sync that is over or replaced; dropped", "user_id", job.UserID, "sync_id", job.SyncID, "state", a.State)
		return SliceResult{}
	}
	now := s.now()
	owner := newID("slc_")
	res, err := s.db.ExecContext(ctx,
		"UPDATE accounts SET state = ?, lease_owner = ?, lease_until = ?, slices = slices + 1, next_run_at = ? "+
			"WHERE user_id = ? AND sync_id = ? AND state IN (?, ?, ?) AND coalesce(lease_until, 0) < ?",
		StateSyncing, owner, now.Add(s.cfg.Lease).UnixMilli(), now.Add(s.watchdog()).UnixMilli(),
		job.UserID, job.SyncID, StateQueued, StateSyncing, StateFloodWait, now.UnixMilli())
	if err != nil {
		return s.retry(job, attempts, "the ingestor's database did not answer", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Another slice holds the account: it continues the sync.
		s.log.Info("ingest: another slice holds the account; this job is dropped", "user_id", job.UserID)
		return SliceResult{}
	}
	shard, err := s.shard(a.Shard)
	if err != nil {
		s.release(ctx, job.UserID, owner, StateQueued, "INTERNAL: "+err.Error(), 0)
		return s.retry(job, attempts, "the account's shard is missing", err)
	}
	sl := &slice{s: s, a: a, owner: owner, shard: shard, checked: now, begin: begin}
	err = s.dial(ctx, job.UserID, func(ctx context.Context, src Source) error {
		sl.connected = s.now()
		return sl.run(ctx, src)
	})
	out := s.finish(ctx, sl, job, attempts, err)
	sl.logEnd(job)
	return out
}

// logEnd logs what the slice did and where its time went (milliseconds).
func (sl *slice) logEnd(job Job) {
	connect := time.Duration(0)
	if !sl.connected.IsZero() {
		connect = sl.connected.Sub(sl.begin)
	}
	msOf := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	sl.s.log.Info("ingest: slice ended", "user_id", job.UserID, "sync_id", job.SyncID, "pages", sl.pages, "rows", sl.rows,
		"done", sl.done, "ms", msOf(sl.s.now().Sub(sl.begin)), "connect_ms", msOf(connect),
		"telegram_ms", msOf(sl.telegram), "store_ms", msOf(sl.store), "commit_ms", msOf(sl.batches))
}

// since is the time from t to now.
func (sl *slice) since(t time.Time) time.Duration { return sl.s.now().Sub(t) }

// finish records the slice's outcome and says what the queue should do.
func (s *Service) finish(ctx context.Context, sl *slice, job Job, attempts int, err error) SliceResult {
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	var flood *FloodWaitError
	var login *NeedsLoginError
	switch {
	case errors.Is(err, errStopped):
		s.release(ctx, job.UserID, sl.owner, "", "", 0)
		return SliceResult{}
	case errors.As(err, &flood):
		until := now.Add(flood.RetryAfter)
		s.log.Warn("ingest: Telegram asks to wait; the slice is retried after it", "user_id", job.UserID, "retry_after_s", int(flood.RetryAfter.Seconds()))
		s.release(ctx, job.UserID, sl.owner, StateFloodWait, "", until.UnixMilli())
		// A little jitter, so that the accounts of one flood do not return
		// in step.
		return SliceResult{RetryAfter: flood.RetryAfter + time.Second + rand.N(flood.RetryAfter/10+time.Second)}
	case errors.As(err, &login):
		s.log.Warn("ingest: the account needs a new login; its sync stops", "user_id", job.UserID, "reason", login.Reason)
		s.release(ctx, job.UserID, sl.owner, StateNeedsLogin, login.Reason, 0)
		return SliceResult{}
	case err != nil:
		s.release(ctx, job.UserID, sl.owner, StateQueued, "UNAVAILABLE: Telegram or auth-telegram did not answer; retried", 0)
		return s.retry(job, attempts, "the slice failed", err)
	}
	if err := s.saveProgress(ctx, sl); err != nil {
		s.release(ctx, job.UserID, sl.owner, StateQueued, "", 0)
		return s.retry(job, attempts, "the ingestor's database did not answer", err)
	}
	if sl.done {
		_, err := s.db.ExecContext(ctx,
			"UPDATE accounts SET state = ?, phase = ?, last_success_at = ?, next_run_at = ?, last_error = NULL, last_error_at = NULL, "+
				"lease_owner = NULL, lease_until = NULL WHERE user_id = ? AND lease_owner = ?",
			StateIdle, PhaseDone, now.UnixMilli(), now.Add(s.cfg.Interval).UnixMilli(), job.UserID, sl.owner)
		if err != nil {
			return s.retry(job, attempts, "the ingestor's database did not answer", err)
		}
		s.log.Info("ingest: sync finished", "user_id", job.UserID, "sync_id", job.SyncID, "slices", sl.a.Slices+1)
		return SliceResult{}
	}
	// More to do: the next slice of the same sync.
	s.release(ctx, job.UserID, sl.owner, StateQueued, "", 0)
	if err := s.queueJob.Enqueue(ctx, []Job{job}, 0); err != nil {
		return s.retry(job, attempts, "the sync queue refused the next slice", err)
	}
	return SliceResult{}
}

// release gives up the slice's lease, setting state (unless empty) and, if
// given, the last error and the flood wait.
func (s *Service) release(ctx context.Context, userID int64, owner, state, lastError string, floodUntil int64) {
	now := s.now().UnixMilli()
	q := "UPDATE accounts SET lease_owner = NULL, lease_until = NULL"
	var args []any
	if state != "" {
		q += ", state = ?"
		args = append(args, state)
	}
	if lastError != "" {
		q += ", last_error = ?, last_error_at = ?"
		args = append(args, lastError, now)
	}
	if floodUntil != 0 {
		q += ", flood_wait_until = ?, next_run_at = ?"
		args = append(args, floodUntil, floodUntil+s.watchdog().Milliseconds())
	}
	q += " WHERE user_id = ? AND lease_owner = ?"
	args = append(args, userID, owner)
	if _, err := s.db.ExecContext(context.WithoutCancel(ctx), q, args...); err != nil {
		s.log.Error("ingest: releasing a lease failed; it lapses by itself", "user_id", userID, "err", err)
	}
}

// retry retries the job with exponential backoff (10 s, 20 s, ... at most
// 10 min, with jitter), logging why.
func (s *Service) retry(job Job, attempts int, why string, err error) SliceResult {
	d := 10 * time.Second << min(max(attempts-1, 0), 6)
	d = min(d, 10*time.Minute)
	d += rand.N(d / 5)
	s.log.Warn("ingest: "+why+"; the slice is retried", "user_id", job.UserID, "attempt", attempts, "retry_after_s", int(d.Seconds()), "err", err)
	return SliceResult{RetryAfter: d}
}

// saveProgress records how far the sync got.
func (s *Service) saveProgress(ctx context.Context, sl *slice) error {
	done, total, stored, err := progress(ctx, sl.shard, sl.a.UserID, s.cfg.HistoryLimit)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, "UPDATE accounts SET dialogs_done = ?, messages_stored = ?, dialogs_total = max(dialogs_total, ?) WHERE user_id = ? AND lease_owner = ?",
		done, stored, total, sl.a.UserID, sl.owner)
	return err
}

// budgetLeft reports whether the slice may make another request.
func (sl *slice) budgetLeft() bool {
	return sl.pages < sl.s.cfg.PagesPerSlice && sl.rows < sl.s.cfg.RowsPerSlice
}

// stillOurs checks, before pages are committed, that the sync is still this
// slice's (not paused, replaced or deleted), and extends the lease when half
// of it is gone.
func (sl *slice) stillOurs(ctx context.Context) error {
	now := sl.s.now()
	var state, syncID, owner string
	err := sl.s.db.QueryRowContext(ctx, "SELECT state, sync_id, coalesce(lease_owner, '') FROM accounts WHERE user_id = ?", sl.a.UserID).Scan(&state, &syncID, &owner)
	if errors.Is(err, sql.ErrNoRows) {
		return errStopped
	}
	if err != nil {
		return err
	}
	if owner != sl.owner || syncID != sl.a.SyncID || state != StateSyncing {
		return errStopped
	}
	if now.Sub(sl.checked) > sl.s.cfg.Lease/2 {
		if _, err := sl.s.db.ExecContext(ctx, "UPDATE accounts SET lease_until = ? WHERE user_id = ? AND lease_owner = ?",
			now.Add(sl.s.cfg.Lease).UnixMilli(), sl.a.UserID, sl.owner); err != nil {
			return err
		}
		sl.checked = now
	}
	return nil
}

// run is the slice's work over one connection: the dialogs, then history.
func (sl *slice) run(ctx context.Context, src Source) error {
	if sl.a.Phase == PhaseDialogs || sl.a.Phase == PhaseDone {
		if err := sl.listDialogs(ctx, src); err != nil {
			return err
		}
	}
	if !sl.budgetLeft() {
		return nil
	}
	return sl.readHistory(ctx, src)
}

// listDialogs pages through the account's dialogs from the saved cursor.
func (sl *slice) listDialogs(ctx context.Context, src Source) error {
	cursor := sl.a.dialogsCursor
	for sl.budgetLeft() {
		t := sl.s.now()
		page, total, next, err := src.Dialogs(ctx, cursor, DialogsPageSize)
		sl.telegram += sl.since(t)
		sl.pages++
		if err != nil {
			return err
		}
		t = sl.s.now()
		err = sl.storeDialogs(ctx, page, total, next)
		sl.store += sl.since(t)
		if err != nil {
			return err
		}
		if next == "" {
			sl.a.Phase = PhaseHistory
			return nil
		}
		cursor = next
	}
	return nil
}

// storeDialogs stores a page of the listing and moves the account's dialogs
// cursor past it (to the history phase after the last page).
func (sl *slice) storeDialogs(ctx context.Context, page []Dialog, total int, next string) error {
	if err := sl.stillOurs(ctx); err != nil {
		return err
	}
	var tops []Message
	for _, d := range page {
		if d.Top != nil {
			tops = append(tops, *d.Top)
		}
	}
	if err := upsertDialogs(ctx, sl.shard, sl.a.UserID, page, tops, sl.s.now()); err != nil {
		return err
	}
	phase := PhaseDialogs
	if next == "" {
		phase = PhaseHistory
	}
	_, err := sl.s.db.ExecContext(ctx, "UPDATE accounts SET dialogs_cursor = ?, dialogs_total = ?, phase = ? WHERE user_id = ? AND lease_owner = ?",
		nullIfEmpty(next), total, phase, sl.a.UserID, sl.owner)
	return err
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// readHistory reads history pages of the dialogs that need them, up to
// InFlight dialogs at a time on the one connection, committing each page
// with its cursor, until the budget is spent or no dialog needs work.
func (sl *slice) readHistory(ctx context.Context, src Source) error {
	limit := sl.s.cfg.HistoryLimit
	for sl.budgetLeft() {
		want := min(sl.s.cfg.InFlight, sl.s.cfg.PagesPerSlice-sl.pages)
		t := sl.s.now()
		dialogs, err := dialogsToWork(ctx, sl.shard, sl.a.UserID, limit, want)
		sl.store += sl.since(t)
		if err != nil {
			return err
		}
		if len(dialogs) == 0 {
			sl.done = true
			return nil
		}
		pages := make([][]Message, len(dialogs))
		errs := make([]error, len(dialogs))
		var wg sync.WaitGroup
		t = sl.s.now()
		for i, d := range dialogs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pages[i], errs[i] = src.History(ctx, d.Dialog, d.nextOffset(), PageSize)
			}()
		}
		wg.Wait()
		sl.telegram += sl.since(t)
		sl.pages += len(dialogs)
		t = sl.s.now()
		err = sl.commitAll(ctx, dialogs, pages, errs)
		sl.store += sl.since(t)
		if err != nil {
			return err
		}
	}
	return nil
}

// commitAll commits the pages of a round in order, up to the first that
// failed to arrive. The sync is checked to be still this slice's once for
// the round (at most InFlight pages), not before every page: a pause or a
// delete takes effect within a round, for one D1 read instead of four.
func (sl *slice) commitAll(ctx context.Context, dialogs []*dialogRow, pages [][]Message, errs []error) error {
	if err := sl.stillOurs(ctx); err != nil {
		return err
	}
	for i, d := range dialogs {
		if errs[i] != nil {
			return errs[i] // what was committed stays; the retry resumes from it
		}
		if err := sl.commit(ctx, d, pages[i]); err != nil {
			return err
		}
		sl.rows += len(pages[i])
	}
	return nil
}

// nextOffset is the offset_id of d's next history page: where its catch-up
// pass continues (0: the newest), or below its oldest message.
func (d *dialogRow) nextOffset() int {
	if d.catchingUp() {
		return d.catchupOffset
	}
	return d.oldestID
}

// catchingUp reports whether d's next page belongs to a catch-up pass (new
// messages, or a dialog never read) rather than to older history.
func (d *dialogRow) catchingUp() bool {
	return d.catchupTop > 0 || d.TopMessageID > d.newestID
}

// commit stores page and moves d's cursors past it:
//   - A catch-up pass reads from the newest message down to newest_id (to the
//     start of the dialog, or the history limit, on its first pass). Its top
//     is the newest id it has seen; it ends when a page reaches newest_id or
//     comes back short, and newest_id becomes its top. Its first page is
//     stored whole, messages already stored included, so recent edits are
//     seen.
//   - Older history reads below oldest_id until the start or the limit.
//
// Stored messages stay contiguous from oldest_id to newest_id: a cursor only
// moves in the batch that stores the page it moves past.
func (sl *slice) commit(ctx context.Context, d *dialogRow, page []Message) error {
	limit := sl.s.cfg.HistoryLimit
	short := len(page) < PageSize
	minID, maxID := 0, 0
	for _, m := range page {
		if minID == 0 || m.ID < minID {
			minID = m.ID
		}
		maxID = max(maxID, m.ID)
	}
	first := d.newestID == 0 // the dialog's first pass
	limitHit := func(stored int) bool { return limit > 0 && stored >= limit }
	passEnds := false
	if d.catchingUp() {
		if d.catchupTop == 0 {
			d.catchupTop = max(d.TopMessageID, maxID)
		}
		reached := !first && minID != 0 && minID <= d.newestID
		passEnds = reached || short
		if first && minID != 0 {
			d.oldestID = minID
		}
		if passEnds {
			d.endPass(first && short)
		} else {
			d.catchupOffset = minID
		}
	} else {
		if minID != 0 {
			d.oldestID = minID
		}
		d.historyDone = short
	}
	t := sl.s.now()
	stored, err := commitPage(ctx, sl.shard, sl.a.UserID, d, page, t)
	sl.batches += sl.since(t)
	if err != nil {
		return err
	}
	// The history limit ends a first pass, or older history, where it falls.
	if limitHit(stored) && !passEnds && (first || !d.catchingUp()) {
		if d.catchingUp() {
			d.endPass(true)
		}
		d.historyDone = true
		return setCursors(ctx, sl.shard, sl.a.UserID, d)
	}
	return nil
}

// endPass ends d's catch-up pass; atStart says the pass reached the start
// of the dialog (or the limit), so older history is complete too.
func (d *dialogRow) endPass(atStart bool) {
	d.newestID = d.catchupTop
	d.catchupTop, d.catchupOffset = 0, 0
	if atStart {
		d.historyDone = true
	}
}
