//go:build !js

package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communicator/communicator/internal/sqlitetest"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

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

// telegram is a scripted Telegram: dialogs with messages, and faults.
type telegram struct {
	mu       sync.Mutex
	dialogs  []*fakeDialog
	calls    map[string]int
	fail     map[string]func(n int) error // method -> fault by call number (1-based)
	inFlight int
	maxIn    int
}

type fakeDialog struct {
	Dialog
	msgs []Message // ascending ids
}

func newTelegram(sizes ...int) *telegram {
	tg := &telegram{calls: map[string]int{}, fail: map[string]func(int) error{}}
	for i, n := range sizes {
		d := &fakeDialog{Dialog: Dialog{Peer: "user:" + strconv.Itoa(100+i), Title: fmt.Sprintf("Dialog %d", i), AccessHash: int64(7000 + i)}}
		for j := 1; j <= n; j++ {
			d.msgs = append(d.msgs, Message{ID: j * 2, Peer: d.Peer, Sender: d.Peer, Date: t0.Add(time.Duration(i*1000+j) * time.Minute), Text: fmt.Sprintf("message %d of %s ✓", j, d.Peer)})
		}
		tg.dialogs = append(tg.dialogs, d)
	}
	tg.retop()
	return tg
}

// retop sets each dialog's top message and sorts by activity, as Telegram lists them.
func (tg *telegram) retop() {
	for _, d := range tg.dialogs {
		d.Top = nil
		d.TopMessageID, d.TopMessageDate = 0, time.Time{}
		if n := len(d.msgs); n > 0 {
			top := d.msgs[n-1]
			d.TopMessageID, d.TopMessageDate, d.Top = top.ID, top.Date, &top
		}
	}
	sort.SliceStable(tg.dialogs, func(i, j int) bool { return tg.dialogs[i].TopMessageDate.After(tg.dialogs[j].TopMessageDate) })
}

func (tg *telegram) call(method string) error {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.calls[method]++
	if f := tg.fail[method]; f != nil {
		return f(tg.calls[method])
	}
	return nil
}

func (tg *telegram) Dialogs(ctx context.Context, cursor string, limit int) ([]Dialog, int, string, error) {
	if err := tg.call("getDialogs"); err != nil {
		return nil, 0, "", err
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	from := 0
	if cursor != "" {
		from, _ = strconv.Atoi(cursor)
	}
	to := min(from+limit, len(tg.dialogs))
	var page []Dialog
	for _, d := range tg.dialogs[from:to] {
		page = append(page, d.Dialog)
	}
	next := ""
	if to < len(tg.dialogs) {
		next = strconv.Itoa(to)
	}
	return page, len(tg.dialogs), next, nil
}

func (tg *telegram) History(ctx context.Context, d Dialog, offsetID, limit int) ([]Message, error) {
	tg.mu.Lock()
	tg.inFlight++
	tg.maxIn = max(tg.maxIn, tg.inFlight)
	tg.mu.Unlock()
	defer func() { tg.mu.Lock(); tg.inFlight--; tg.mu.Unlock() }()
	time.Sleep(time.Millisecond) // long enough for the requests of a round to overlap
	if err := tg.call("getHistory"); err != nil {
		return nil, err
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	for _, fd := range tg.dialogs {
		if fd.Peer != d.Peer {
			continue
		}
		if fd.AccessHash != d.AccessHash {
			return nil, errors.New("PEER_ID_INVALID")
		}
		var out []Message
		for i := len(fd.msgs) - 1; i >= 0 && len(out) < limit; i-- {
			if offsetID == 0 || fd.msgs[i].ID < offsetID {
				out = append(out, fd.msgs[i])
			}
		}
		return out, nil
	}
	return nil, errors.New("PEER_ID_INVALID")
}

// peer is the peer of the i-th dialog newTelegram made.
func peer(i int) string { return "user:" + strconv.Itoa(100+i) }

// post adds a message to the dialog of peer; edit changes the text of message id.
func (tg *telegram) post(peer string, text string) Message {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	var d *fakeDialog
	for _, x := range tg.dialogs {
		if x.Peer == peer {
			d = x
		}
	}
	last := d.msgs[len(d.msgs)-1]
	m := Message{ID: last.ID + 1, Peer: d.Peer, Sender: d.Peer, Date: last.Date.Add(time.Minute), Text: text}
	d.msgs = append(d.msgs, m)
	tg.retop()
	return m
}

func (tg *telegram) edit(peer string, id int, text string) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	for _, d := range tg.dialogs {
		for i := range d.msgs {
			if d.Peer == peer && d.msgs[i].ID == id {
				d.msgs[i].Text, d.msgs[i].EditDate = text, d.msgs[i].Date.Add(time.Hour)
			}
		}
	}
	tg.retop()
}

// queue is a fake sync queue: the jobs sent, in order.
type queue struct {
	mu   sync.Mutex
	jobs []Job
	down bool
}

func (q *queue) Enqueue(ctx context.Context, jobs []Job, delay time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.down {
		return errors.New("queue unavailable")
	}
	q.jobs = append(q.jobs, jobs...)
	return nil
}

func (q *queue) take() (Job, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.jobs) == 0 {
		return Job{}, false
	}
	j := q.jobs[0]
	q.jobs = q.jobs[1:]
	return j, true
}

type fixture struct {
	t      *testing.T
	db     *sql.DB
	shards []*sql.DB
	clock  *clock
	tg     *telegram
	q      *queue
	svc    *Service
	dial   func(ctx context.Context, userID int64, fn func(context.Context, Source) error) error
	logs   bytes.Buffer
}

func newFixture(t *testing.T, cfg Config, tg *telegram) *fixture {
	f := &fixture{t: t, db: sqlitetest.Open(t, "../services/ingestor/migrations"), clock: &clock{t: t0}, tg: tg, q: &queue{}}
	for range 2 {
		f.shards = append(f.shards, sqlitetest.Open(t, "../services/ingestor/migrations-messages"))
	}
	if cfg.Shards == 0 {
		cfg.Shards = 2
	}
	f.dial = func(ctx context.Context, userID int64, fn func(context.Context, Source) error) error {
		return fn(ctx, tg)
	}
	svc, err := New(f.db, f.shards, cfg, func(ctx context.Context, userID int64, fn func(context.Context, Source) error) error {
		return f.dial(ctx, userID, fn)
	}, f.q, Options{Now: f.clock.Now, Logger: slog.New(slog.NewTextHandler(&f.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

// drain runs queued jobs until none is left (retries after their delay),
// at most max slices; it returns the slices run.
func (f *fixture) drain(max int) int {
	f.t.Helper()
	n := 0
	attempts := map[Job]int{}
	for {
		job, ok := f.q.take()
		if !ok {
			return n
		}
		if n++; n > max {
			f.t.Fatalf("more than %d slices", max)
		}
		attempts[job]++
		if r := f.svc.RunSlice(context.Background(), job, attempts[job]); r.RetryAfter > 0 {
			f.clock.Advance(r.RetryAfter)
			f.q.Enqueue(context.Background(), []Job{job}, 0)
		} else {
			delete(attempts, job)
		}
	}
}

func (f *fixture) status(userID int64) Status {
	f.t.Helper()
	st, err := f.svc.Status(context.Background(), userID)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// stored returns every stored message of userID, by peer, ascending ids,
// read straight from its shard.
func (f *fixture) stored(userID int64) map[string][]Message {
	f.t.Helper()
	st := f.status(userID)
	rows, err := f.shards[st.Shard].Query("SELECT peer, id, text, coalesce(edit_date, 0) FROM messages WHERE user_id = ? ORDER BY peer, id", userID)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]Message{}
	for rows.Next() {
		var m Message
		var edit int64
		if err := rows.Scan(&m.Peer, &m.ID, &m.Text, &edit); err != nil {
			f.t.Fatal(err)
		}
		m.EditDate = ms(edit)
		out[m.Peer] = append(out[m.Peer], m)
	}
	return out
}

// checksum is over the peers, ids and texts of msgs.
func checksum(msgs map[string][]Message) (int, string) {
	h := sha256.New()
	n := 0
	peers := make([]string, 0, len(msgs))
	for p := range msgs {
		peers = append(peers, p)
	}
	sort.Strings(peers)
	for _, p := range peers {
		for _, m := range msgs[p] {
			fmt.Fprintf(h, "%s|%d|%s\n", p, m.ID, m.Text)
			n++
		}
	}
	return n, hex.EncodeToString(h.Sum(nil))
}

// want is what Telegram holds: per dialog the newest limit messages (all when 0).
func (tg *telegram) want(limit int) map[string][]Message {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	out := map[string][]Message{}
	for _, d := range tg.dialogs {
		msgs := d.msgs
		if limit > 0 && len(msgs) > limit {
			msgs = msgs[len(msgs)-limit:]
		}
		if len(msgs) > 0 {
			out[d.Peer] = slices.Clone(msgs)
		}
	}
	return out
}

func (f *fixture) start(userID int64) Status {
	f.t.Helper()
	st, _, err := f.svc.StartSync(context.Background(), userID)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

func (f *fixture) wantStored(userID int64, limit int) {
	f.t.Helper()
	gotN, got := checksum(f.stored(userID))
	wantN, want := checksum(f.tg.want(limit))
	if gotN != wantN || got != want {
		f.t.Fatalf("stored %d messages (%s), Telegram has %d (%s)", gotN, got[:8], wantN, want[:8])
	}
}

func TestShardOf(t *testing.T) {
	// Stable across releases: these values are stored with accounts.
	for id, want := range map[int64]int{1: 0, 2: 1, 1001: 1, 42: 1} {
		if got := ShardOf(id, 2); got != want {
			t.Errorf("ShardOf(%d, 2) = %d, want %d", id, got, want)
		}
	}
	counts := make([]int, 4)
	for id := int64(1); id <= 10_000; id++ {
		counts[ShardOf(id, 4)]++
	}
	for i, c := range counts {
		if c < 2300 || c > 2700 {
			t.Errorf("shard %d of 4 holds %d of 10,000 accounts", i, c)
		}
	}
	if ShardOf(99, 1) != 0 || ShardOf(99, 0) != 0 {
		t.Error("one shard")
	}
}

func TestFirstSyncStoresEverything(t *testing.T) {
	tg := newTelegram(250, 0, 100, 99, 1, 301)
	f := newFixture(t, Config{PagesPerSlice: 4}, tg)
	st := f.start(1001)
	if st.State != StateQueued || st.Phase != PhaseDialogs || st.Shard != ShardOf(1001, 2) {
		t.Fatalf("after StartSync: %+v", st)
	}
	slices := f.drain(50)
	f.wantStored(1001, 0)
	st = f.status(1001)
	if st.State != StateIdle || st.Phase != PhaseDone || st.DialogsTotal != 6 || st.DialogsDone != 6 || st.MessagesStored != 751 ||
		st.LastSuccessAt.IsZero() || !st.NextRunAt.Equal(f.clock.Now().Add(DefaultInterval)) {
		t.Fatalf("after the sync: %+v", st)
	}
	if slices < 3 {
		t.Errorf("%d slices for 4 pages each", slices)
	}
	if tg.maxIn < 2 || tg.maxIn > DefaultInFlight {
		t.Errorf("%d history pages were in flight at most, want 2..%d", tg.maxIn, DefaultInFlight)
	}
	// The other shard holds nothing of this account.
	var n int
	f.shards[1-st.Shard].QueryRow("SELECT count(*) FROM messages").Scan(&n)
	if n != 0 {
		t.Errorf("%d rows in the other shard", n)
	}

	// A second sync with nothing new lists the dialogs and reads no history.
	calls := tg.calls["getHistory"]
	f.start(1001)
	f.drain(5)
	if got := tg.calls["getHistory"] - calls; got != 0 {
		t.Errorf("an incremental sync with nothing new read %d history pages", got)
	}
	f.wantStored(1001, 0)

	// New and edited messages appear after the next sync; an edit of the
	// newest message shows through the listing alone.
	tg.post(peer(2), "new in dialog 2")
	tg.post(peer(2), "newer in dialog 2 — ✓")
	top := tg.post(peer(4), "new in dialog 4")
	tg.edit(top.Peer, top.ID, "edited after posting")
	calls = tg.calls["getHistory"]
	f.start(1001)
	f.drain(5)
	f.wantStored(1001, 0)
	if got := tg.calls["getHistory"] - calls; got != 2 {
		t.Errorf("an incremental sync of two dialogs read %d history pages", got)
	}
	tg.edit(top.Peer, top.ID, "edited again")
	f.start(1001)
	f.drain(5)
	f.wantStored(1001, 0)
}

// TestSliceLogsItsWork: every slice logs its pages, rows and where its time
// went, and the pages of all slices are the Telegram calls made.
func TestSliceLogsItsWork(t *testing.T) {
	tg := newTelegram(250, 0, 100, 99, 1, 301)
	f := newFixture(t, Config{PagesPerSlice: 4}, tg)
	f.dial = func(ctx context.Context, userID int64, fn func(context.Context, Source) error) error {
		f.clock.Advance(1500 * time.Millisecond) // connecting
		return fn(ctx, tg)
	}
	f.start(1001)
	slices := f.drain(50)
	line := regexp.MustCompile(`msg="ingest: slice ended" user_id=1001 sync_id=syn_\w+ pages=(\d+) rows=(\d+) done=(true|false) ms=1500 connect_ms=1500 telegram_ms=0 store_ms=0 commit_ms=0`)
	var lines, pages, rows int
	done := ""
	for _, l := range strings.Split(f.logs.String(), "\n") {
		if !strings.Contains(l, "slice ended") {
			continue
		}
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("slice log line %q", l)
		}
		p, _ := strconv.Atoi(m[1])
		r, _ := strconv.Atoi(m[2])
		lines, pages, rows, done = lines+1, pages+p, rows+r, m[3]
	}
	if lines != slices || rows != 751 || done != "true" || pages != tg.calls["getDialogs"]+tg.calls["getHistory"] {
		t.Fatalf("%d slice lines for %d slices, %d pages for %v calls, %d rows (want 751), last done=%s", lines, slices, pages, tg.calls, rows, done)
	}
}

func TestHistoryLimit(t *testing.T) {
	tg := newTelegram(250, 30)
	f := newFixture(t, Config{HistoryLimit: 120, PagesPerSlice: 3}, tg)
	f.start(7)
	f.drain(20)
	f.wantStored(7, 120+80) // pages of 100: the limit falls inside the second page, which is stored whole
	st := f.status(7)
	if st.State != StateIdle || st.DialogsDone != 2 {
		t.Fatalf("%+v", st)
	}
	// New messages are always stored, above the limit.
	tg.post(peer(0), "one more")
	f.start(7)
	f.drain(5)
	if got := len(f.stored(7)[peer(0)]); got != 201 {
		t.Errorf("%d stored after a new message, want 201", got)
	}
}

// A flood wait ends the slice and retries the job after it; a dropped
// connection mid-history retries too; either way the sync resumes from its
// cursors with no gap and no duplicate.
func TestFaultsResumeFromCursors(t *testing.T) {
	tg := newTelegram(450, 320, 10)
	f := newFixture(t, Config{PagesPerSlice: 5}, tg)
	tg.fail["getHistory"] = func(n int) error {
		switch n {
		case 3:
			return &FloodWaitError{RetryAfter: 30 * time.Second}
		case 7:
			return errors.New("the connection to Telegram closed before the call completed")
		}
		return nil
	}
	f.start(1)
	job, _ := f.q.take()
	var r SliceResult
	for i := 1; ; i++ {
		if r = f.svc.RunSlice(context.Background(), job, i); r.RetryAfter > 0 {
			break
		}
		if job, _ = f.q.take(); job.UserID == 0 {
			t.Fatal("no flood wait")
		}
	}
	st := f.status(1)
	if r.RetryAfter < 31*time.Second || r.RetryAfter > 35*time.Second || st.State != StateFloodWait || !st.FloodWaitUntil.Equal(f.clock.Now().Add(30*time.Second)) {
		t.Fatalf("flood wait: retry after %v, %+v", r.RetryAfter, st)
	}
	f.clock.Advance(r.RetryAfter)
	f.q.Enqueue(context.Background(), []Job{job}, 0)
	f.drain(50)
	f.wantStored(1, 0)
	if st := f.status(1); st.State != StateIdle || st.MessagesStored != 780 {
		t.Fatalf("after the faults: %+v", st)
	}
	if !bytes.Contains(f.logs.Bytes(), []byte("the slice is retried")) {
		t.Error("the dropped connection was not logged")
	}
}

// Two deliveries of one job (or a cron overlapping a running sync) run one
// slice: the second finds the lease held and drops its job.
func TestOneSliceAtATime(t *testing.T) {
	tg := newTelegram(300)
	f := newFixture(t, Config{}, tg)
	f.start(5)
	job, _ := f.q.take()
	entered, release := make(chan struct{}), make(chan struct{})
	f.dial = func(ctx context.Context, userID int64, fn func(context.Context, Source) error) error {
		close(entered)
		<-release
		return fn(ctx, tg)
	}
	done := make(chan SliceResult)
	go func() { done <- f.svc.RunSlice(context.Background(), job, 1) }()
	<-entered
	f.dial = func(ctx context.Context, userID int64, fn func(context.Context, Source) error) error {
		t.Error("a second slice connected")
		return nil
	}
	if r := f.svc.RunSlice(context.Background(), job, 2); r.RetryAfter != 0 {
		t.Errorf("the second delivery: %+v", r)
	}
	if _, started, _ := f.svc.StartSync(context.Background(), 5); started {
		t.Error("a sync request during a running slice started another sync")
	}
	close(release)
	<-done
	f.drain(10)
	f.wantStored(5, 0)
}

func TestNeedsLoginAndPause(t *testing.T) {
	tg := newTelegram(20)
	f := newFixture(t, Config{}, tg)
	f.dial = func(ctx context.Context, userID int64, fn func(context.Context, Source) error) error {
		return &NeedsLoginError{Reason: "SESSION_REVOKED"}
	}
	f.start(9)
	f.drain(3)
	if st := f.status(9); st.State != StateNeedsLogin || st.LastError != "SESSION_REVOKED" {
		t.Fatalf("%+v", st)
	}
	if n, _ := f.svc.QueueDue(context.Background(), 10); n != 0 {
		t.Errorf("the cron queued an account that needs a login")
	}
	// A new login, a new request: it runs.
	f.dial = func(ctx context.Context, userID int64, fn func(context.Context, Source) error) error {
		return fn(ctx, tg)
	}
	f.start(9)
	f.drain(3)
	f.wantStored(9, 0)

	// A paused account's queued job is dropped, and the cron leaves it.
	f.start(9)
	if _, err := f.svc.Pause(context.Background(), 9); err != nil {
		t.Fatal(err)
	}
	calls := tg.calls["getDialogs"]
	f.drain(3)
	f.clock.Advance(48 * time.Hour)
	f.svc.QueueDue(context.Background(), 10)
	f.drain(3)
	if tg.calls["getDialogs"] != calls || f.status(9).State != StatePaused {
		t.Errorf("a paused account was read: %+v", f.status(9))
	}
}

func TestCronQueuesDueAndLostSyncs(t *testing.T) {
	tg := newTelegram(5)
	f := newFixture(t, Config{Interval: time.Hour}, tg)
	for _, id := range []int64{1, 2, 3} {
		f.start(id)
	}
	f.drain(10)
	if n, _ := f.svc.QueueDue(context.Background(), 10); n != 0 {
		t.Fatalf("%d queued before they were due", n)
	}
	f.clock.Advance(time.Hour)
	if n, _ := f.svc.QueueDue(context.Background(), 2); n != 2 {
		t.Fatalf("%d queued, want the limit of 2", n)
	}
	// The queued jobs are lost; after the watchdog the cron queues them again.
	f.q.jobs = nil
	if n, _ := f.svc.QueueDue(context.Background(), 10); n != 1 {
		t.Fatalf("%d queued, want the third account only", n)
	}
	f.q.jobs = nil
	f.clock.Advance(f.svc.watchdog() + time.Second)
	if n, _ := f.svc.QueueDue(context.Background(), 10); n != 3 {
		t.Fatalf("%d lost syncs queued again, want 3", n)
	}
	f.drain(10)
	for _, id := range []int64{1, 2, 3} {
		if st := f.status(id); st.State != StateIdle {
			t.Errorf("account %d: %+v", id, st)
		}
	}
	// A queue that refuses: the account is due again at once.
	f.clock.Advance(time.Hour)
	f.q.down = true
	if _, err := f.svc.QueueDue(context.Background(), 10); err == nil {
		t.Error("a refused job was not an error")
	}
	if st := f.status(1); st.State != StateIdle || st.NextRunAt.After(f.clock.Now()) || st.LastError == "" {
		t.Errorf("after a refused job: %+v", st)
	}
}

func TestDeleteRemovesEverything(t *testing.T) {
	tg := newTelegram(150, 40)
	f := newFixture(t, Config{}, tg)
	for _, id := range []int64{1, 2} { // one in each shard
		f.start(id)
	}
	f.drain(20)
	if ShardOf(1, 2) == ShardOf(2, 2) {
		t.Fatal("the test wants accounts in both shards")
	}
	if err := f.svc.Delete(context.Background(), 1, time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Status(context.Background(), 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("status after delete: %v", err)
	}
	for i, sh := range f.shards {
		var n1, n2 int
		sh.QueryRow("SELECT count(*) FROM messages WHERE user_id = 1").Scan(&n1)
		sh.QueryRow("SELECT count(*) FROM dialogs WHERE user_id = 1").Scan(&n2)
		if n1 != 0 || n2 != 0 {
			t.Errorf("shard %d still holds %d messages and %d dialogs of the deleted account", i, n1, n2)
		}
	}
	f.wantStored(2, 0) // the other account is untouched
	if err := f.svc.Delete(context.Background(), 1, time.Second); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	// A slice holding the lease: Delete waits, then gives up.
	f.start(2)
	job, _ := f.q.take()
	f.db.Exec("UPDATE accounts SET lease_owner = 'slc_x', lease_until = ? WHERE user_id = 2", f.clock.Now().Add(time.Hour).UnixMilli())
	f.svc.sleep = func(ctx context.Context, d time.Duration) error { f.clock.Advance(d); return nil }
	if err := f.svc.Delete(context.Background(), 2, time.Second); !errors.Is(err, ErrBusy) {
		t.Errorf("delete during a slice: %v", err)
	}
	_ = job
}

func TestQueries(t *testing.T) {
	tg := newTelegram(130, 3, 0, 7)
	f := newFixture(t, Config{}, tg)
	f.start(3)
	f.drain(10)
	var peers []string
	cursor := ""
	for i := 0; ; i++ {
		page, next, err := f.svc.Dialogs(context.Background(), 3, 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page {
			peers = append(peers, d.Peer)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	var want []string
	for _, d := range tg.dialogs {
		want = append(want, d.Peer)
	}
	if !slices.Equal(peers, want) {
		t.Errorf("dialogs %v, want %v (newest activity first)", peers, want)
	}
	for _, bad := range []string{"x", "bm90LWEtY3Vyc29y", dialogCursor(5, "bogus")} {
		if _, _, err := f.svc.Dialogs(context.Background(), 3, 2, bad); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
	var ids []int
	before := 0
	for {
		page, next, err := f.svc.Messages(context.Background(), 3, peer(0), 50, before)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			ids = append(ids, m.ID)
		}
		if next == 0 {
			break
		}
		before = next
	}
	if len(ids) != 130 || ids[0] != 260 || ids[129] != 2 || !slices.IsSortedFunc(ids, func(a, b int) int { return b - a }) {
		t.Errorf("messages %d, first %d last %d", len(ids), ids[0], ids[len(ids)-1])
	}
	if _, _, err := f.svc.Messages(context.Background(), 3, "user:424242", 10, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown dialog: %v", err)
	}
	if _, _, err := f.svc.Dialogs(context.Background(), 404, 10, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown account: %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	c, err := ParseConfig(env(map[string]string{EnvShards: "3", EnvHistoryLimit: "0", EnvInterval: "15m"}))
	if err != nil || c.Shards != 3 || c.HistoryLimit != 0 || c.Interval != 15*time.Minute {
		t.Fatalf("%+v, %v", c, err)
	}
	_, err = ParseConfig(env(map[string]string{EnvShards: "0", EnvHistoryLimit: "-1", EnvInterval: "1s"}))
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 3 {
		t.Fatalf("%v", err)
	}
}
