package main

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/query"
	"github.com/gotd/td/tg"

	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/ingest"
	"github.com/communicator/communicator/internal/sqlitetest"
	"github.com/communicator/communicator/mtproto/sessionstring"
	"github.com/communicator/communicator/mtproto/tgclient"
	"github.com/communicator/communicator/mtproto/tgsource"
)

// The Telegram app of every client here: placeholders of the right shape,
// which the local Telegram does not check (as make dev's).
const (
	benchAppID   = 17349
	benchAppHash = "344583e45741c457fe1862106095a5eb"
)

// anchorFetch is what a Go programmer would write instead of the ingestor,
// fetch-only: a gotd client with the account's session, gotd's own
// iterators over the dialogs and, dialog after dialog, over each one's
// history in pages of 100 (Telegram's most), every message decoded and
// counted, nothing stored. Its time includes connecting, as the ingestor's
// does. The dialogs come in batches of 100 too (the ingestor's page): gotd's
// default batch is one dialog a request, which would make the anchor slower
// for no reason.
func anchorFetch(ctx context.Context, fake *faketelegram.Server, sessionString string) (dialogs, messages int, err error) {
	data, err := faketelegram.GotdSession(sessionString)
	if err != nil {
		return 0, 0, err
	}
	storage := new(session.StorageMemory)
	if err := (&session.Loader{Storage: storage}).Save(ctx, data); err != nil {
		return 0, 0, err
	}
	client := telegram.NewClient(benchAppID, benchAppHash, fake.ClientOptions(storage))
	err = client.Run(ctx, func(ctx context.Context) error {
		api := client.API()
		it := query.GetDialogs(api).BatchSize(100).Iter()
		for it.Next(ctx) {
			dialogs++
			history := query.Messages(api).GetHistory(it.Value().Peer).BatchSize(100).Iter()
			for history.Next(ctx) {
				messages++
			}
			if err := history.Err(); err != nil {
				return err
			}
		}
		return it.Err()
	})
	return dialogs, messages, err
}

// nativeIngest runs the ingestor's own code natively: package ingest's
// slices over tgsource and gotd, on SQLite files with the ingestor's
// migrations in place of D1, the next slice run at once in place of the
// queue. The same Telegram requests as in the worker (several history pages
// in flight), without wasm, workerd, D1 or the queue.
func nativeIngest(ctx context.Context, fake *faketelegram.Server, sessionString string) (messages, slices int, err error) {
	sess, _, err := sessionstring.Parse(sessionString)
	if err != nil {
		return 0, 0, err
	}
	dir, err := os.MkdirTemp("", "communicator-bench-ingest-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	db, err := sqlitetest.OpenFile(filepath.Join(dir, "ingestor.db"), filepath.Join(root, "services", "ingestor", "migrations"))
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	shard, err := sqlitetest.OpenFile(filepath.Join(dir, "messages.db"), filepath.Join(root, "services", "ingestor", "migrations-messages"))
	if err != nil {
		return 0, 0, err
	}
	defer shard.Close()
	ep := fake.Endpoint()
	ep.Timeout = time.Minute
	client := tgclient.New(tgclient.App{ID: benchAppID, Hash: benchAppHash}, ep, (&net.Dialer{}).DialContext)
	dial := func(ctx context.Context, userID int64, fn func(context.Context, ingest.Source) error) error {
		return client.Run(ctx, sess, func(ctx context.Context, api *tg.Client) error { return fn(ctx, tgsource.Source{API: api}) })
	}
	q := &memQueue{}
	svc, err := ingest.New(db, []*sql.DB{shard}, ingest.Config{Shards: 1}, dial, q, ingest.Options{})
	if err != nil {
		return 0, 0, err
	}
	const user = 1
	if _, _, err := svc.StartSync(ctx, user); err != nil {
		return 0, 0, err
	}
	for len(q.jobs) > 0 {
		job := q.jobs[0]
		q.jobs = q.jobs[1:]
		if r := svc.RunSlice(ctx, job, 1); r.RetryAfter > 0 {
			st, _ := svc.Status(ctx, user)
			return 0, 0, errors.New("a native slice asks to be retried: " + st.LastError)
		}
	}
	st, err := svc.Status(ctx, user)
	if err != nil {
		return 0, 0, err
	}
	if st.State != ingest.StateIdle || st.Phase != ingest.PhaseDone {
		return 0, 0, errors.New("the native sync stopped in state " + st.State + ", phase " + st.Phase)
	}
	return st.MessagesStored, st.Slices, nil
}

// memQueue is ingest.Enqueuer in memory.
type memQueue struct{ jobs []ingest.Job }

func (q *memQueue) Enqueue(ctx context.Context, jobs []ingest.Job, delay time.Duration) error {
	q.jobs = append(q.jobs, jobs...)
	return nil
}
