package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/gotd/td/tg"

	"github.com/communicator/communicator/authclient"
	"github.com/communicator/communicator/ingest"
	"github.com/communicator/communicator/mtproto/sessionstring"
	"github.com/communicator/communicator/mtproto/tgclient"
	"github.com/communicator/communicator/mtproto/tgsource"
	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/workers"
	"github.com/communicator/communicator/workers/d1"
)

// The bindings of ingestion: the sync queue, and the message shards
// MESSAGES_0..MESSAGES_{INGEST_SHARDS-1}.
const (
	syncQueueBinding = "SYNC_QUEUE"
	shardPrefix      = "MESSAGES_"
	// sliceTimeout bounds one slice's connection to Telegram. A slice reads
	// at most ingest.DefaultPagesPerSlice pages, 4 at a time: seconds at
	// Telegram's pace. A connection that keeps dropping (gotd reconnects and
	// sends again) ends here; the pages committed stay, and the retry
	// resumes from them.
	sliceTimeout = time.Minute
	// cronBatch bounds the accounts one cron run queues.
	cronBatch = 500
)

// newIngest builds ingestion from its configuration, the session client and
// Telegram's app and endpoint; it returns why not when something is missing.
func newIngest(log *slog.Logger, db *d1Opener, sessions *authclient.Client, app tgclient.App, endpoint tgclient.Endpoint) (*ingest.Service, error) {
	cfg, err := ingest.ParseConfig(workers.LookupEnv)
	if err != nil {
		return nil, err
	}
	if sessions == nil {
		return nil, errors.New("ingestion needs the session client, whose configuration is unusable")
	}
	if !workers.HasBinding(syncQueueBinding) {
		return nil, errors.New(syncQueueBinding + " is not bound: declare the sync queue as a [[queues.producers]] of this environment")
	}
	shards := make([]*sql.DB, 0, cfg.Shards)
	for i := range cfg.Shards {
		name := shardPrefix + strconv.Itoa(i)
		if !workers.HasBinding(name) {
			return nil, errors.New(ingest.EnvShards + " is " + strconv.Itoa(cfg.Shards) + " but " + name + " is not bound: declare it as a [[d1_databases]] binding")
		}
		shards = append(shards, db.open(name))
	}
	endpoint.Timeout = sliceTimeout
	tgc := tgclient.New(app, endpoint, (&workers.Dialer{}).DialContext)
	return ingest.New(db.open("DB"), shards, cfg, dialer(log, sessions, tgc), syncQueue{workers.Queue{Binding: syncQueueBinding}}, ingest.Options{Logger: log})
}

// d1Opener opens each D1 binding once.
type d1Opener struct{ dbs map[string]*sql.DB }

func (o *d1Opener) open(name string) *sql.DB {
	if o.dbs == nil {
		o.dbs = map[string]*sql.DB{}
	}
	if db, ok := o.dbs[name]; ok {
		return db
	}
	db := d1.Open(name)
	o.dbs[name] = db
	return db
}

// dialer connects a slice to Telegram as the account of a user: the session
// from auth-telegram (a missing or ended one means the user must log in
// again), then one MTProto connection through connect(). A session Telegram
// refuses leaves the session cache at once.
func dialer(log *slog.Logger, sessions *authclient.Client, tgc *tgclient.Client) ingest.Dialer {
	return func(ctx context.Context, userID int64, fn func(context.Context, ingest.Source) error) error {
		sess, _, err := sessions.GetSession(ctx, userID)
		if err != nil {
			switch code := telegramauth.CodeOf(err); code {
			case telegramauth.CodeSessionNotFound, telegramauth.CodeSessionRevoked, telegramauth.CodeSessionExpired:
				return &ingest.NeedsLoginError{Reason: string(code)}
			}
			return err
		}
		parsed, _, err := sessionstring.Parse(sess.SessionString)
		if err != nil {
			return &ingest.NeedsLoginError{Reason: "TELEGRAM_BAD_SESSION"}
		}
		err = tgc.Run(ctx, parsed, func(ctx context.Context, api *tg.Client) error { return fn(ctx, tgsource.Source{API: api}) })
		var te *tgclient.Error
		if errors.As(err, &te) {
			switch te.Kind {
			case tgclient.KindFloodWait:
				return &ingest.FloodWaitError{RetryAfter: te.RetryAfter}
			case tgclient.KindSessionRejected:
				if err := sessions.ReportRejected(context.WithoutCancel(ctx), userID, sess.SessionID, te.Type); err != nil {
					log.Error("Telegram rejected a session; auth-telegram could not be told", "user_id", userID, "session_id", sess.SessionID, "err", err)
				}
				return &ingest.NeedsLoginError{Reason: te.Type}
			}
		}
		return err
	}
}

// syncQueue is ingest.Enqueuer over the SYNC_QUEUE producer binding.
type syncQueue struct{ q workers.Queue }

func (s syncQueue) Enqueue(ctx context.Context, jobs []ingest.Job, delay time.Duration) error {
	msgs := make([]workers.QueueSend, len(jobs))
	for i, j := range jobs {
		body, err := json.Marshal(j)
		if err != nil {
			return err
		}
		msgs[i] = workers.QueueSend{Body: body, Delay: delay}
	}
	for len(msgs) > 0 { // a sendBatch holds at most 100 messages
		n := min(len(msgs), 100)
		if err := s.q.SendBatch(ctx, msgs[:n]); err != nil {
			return err
		}
		msgs = msgs[n:]
	}
	return nil
}

// consume runs one slice per message of a batch of the sync queue.
func consume(log *slog.Logger, svc *ingest.Service) func(ctx context.Context, queue string, msgs []workers.QueueMessage) []workers.QueueResult {
	return func(ctx context.Context, queue string, msgs []workers.QueueMessage) []workers.QueueResult {
		out := make([]workers.QueueResult, len(msgs))
		for i, m := range msgs {
			var job ingest.Job
			if err := json.Unmarshal(m.Body, &job); err != nil || !telegramauth.ValidUserID(job.UserID) || job.SyncID == "" {
				log.Error("a sync queue message that is not a job; dropped", "queue", queue, "message_id", m.ID)
				continue
			}
			if r := svc.RunSlice(ctx, job, m.Attempts); r.RetryAfter > 0 {
				out[i] = workers.QueueResult{Retry: true, Delay: r.RetryAfter}
			}
		}
		return out
	}
}
