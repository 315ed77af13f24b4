package ingest

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strconv"
	"time"
)

// Service runs and answers ingestion. One per isolate.
type Service struct {
	db       *sql.DB   // accounts, sync state, leases
	shards   []*sql.DB // dialogs and messages: MESSAGES_0..N-1
	cfg      Config
	dial     Dialer
	queueJob Enqueuer
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
	log      *slog.Logger
}

// Options are a Service's clock and logger; zero fields take the defaults.
type Options struct {
	Now    func() time.Time
	Sleep  func(context.Context, time.Duration) error
	Logger *slog.Logger
}

// New returns a Service over db (with the ingestor's migrations applied)
// and shards (with migrations-messages applied), at least cfg.Shards of them.
func New(db *sql.DB, shards []*sql.DB, cfg Config, dial Dialer, q Enqueuer, opts Options) (*Service, error) {
	cfg.fill()
	switch {
	case db == nil || dial == nil || q == nil:
		return nil, errors.New("ingest: New needs a database, a Dialer and an Enqueuer")
	case len(shards) < cfg.Shards:
		return nil, errors.New("ingest: " + strconv.Itoa(cfg.Shards) + " shards configured, " + strconv.Itoa(len(shards)) + " databases given")
	}
	s := &Service{db: db, shards: shards, cfg: cfg, dial: dial, queueJob: q, now: opts.Now, sleep: opts.Sleep, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.sleep == nil {
		s.sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Config is the configuration the Service runs with (defaults filled in).
func (s *Service) Config() Config { return s.cfg }

// shard is the database of shard i. An account whose shard has no database
// (INGEST_SHARDS lowered, or a binding removed) is an error, never a silent
// move to another shard.
func (s *Service) shard(i int) (*sql.DB, error) {
	if i < 0 || i >= len(s.shards) || s.shards[i] == nil {
		return nil, errors.New("ingest: the account's shard " + strconv.Itoa(i) + " has no database (MESSAGES_" + strconv.Itoa(i) + ")")
	}
	return s.shards[i], nil
}
