// Package ingest is the ingestor's domain: it pulls an account's Telegram
// dialogs and messages into D1, one bounded slice at a time, and answers
// what is stored.
//
// A sync of an account is a chain of slices. Each slice is one queue
// message: it takes the account's lease (one slice per account at a time),
// opens one connection to Telegram, lists dialogs (phase "dialogs") or reads
// history pages (phase "history") until a budget of pages or rows is spent,
// commits each page's rows together with the cursor past them (one D1
// batch), and queues the next slice if work is left. A redelivered message,
// a dropped connection or a crash resumes from the cursors: rows are upserted
// on (account, peer, message id), so nothing is stored twice and, because a
// cursor moves only with its rows, nothing is skipped.
//
// What is stored where: accounts, their sync state and leases in the
// ingestor's DB; dialogs, messages and the per-dialog cursors in one of the
// message shards, chosen for an account when it is registered (ShardOf) and
// kept. No query reads across accounts.
//
// The package knows neither gotd nor the Workers bridge: Telegram is a
// Source behind a Dialer, the queue is an Enqueuer, the databases are
// *sql.DB (D1 in a worker, SQLite in tests).
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"strconv"
	"time"
)

// Dialog is a dialog of an account, as listed by Telegram.
type Dialog struct {
	// Peer is "user:ID", "chat:ID" or "channel:ID".
	Peer           string
	Title          string
	UnreadCount    int
	Pinned         bool
	TopMessageID   int
	TopMessageDate time.Time
	// AccessHash addresses the peer in requests (with this account's
	// session only); 0 for basic groups.
	AccessHash int64
	// Top is the dialog's newest message as the listing carries it, if the
	// Source has it: a stored copy is refreshed from it (edits show there).
	Top *Message
}

// Message is a message as Telegram sent it. Entities, Forward and Media are
// JSON objects the Source builds (nil when absent); the store keeps and
// returns them as they are.
type Message struct {
	ID        int
	Peer      string
	Sender    string // a peer, or "" (a channel post without an author)
	Date      time.Time
	EditDate  time.Time // zero: never edited
	Text      string
	Entities  json.RawMessage
	ReplyToID int
	Forward   json.RawMessage
	Media     json.RawMessage
	Action    string // a service message's action kind, "" for others
	Views     int    // 0: not counted (not a channel post)
	GroupedID int64  // an album's id, 0 for none
}

// Source reads an account's Telegram over one open connection.
type Source interface {
	// Dialogs returns a page of at most limit dialogs after cursor ("" for
	// the first page), Telegram's count of all dialogs, and the cursor of the
	// next page ("" after the last).
	Dialogs(ctx context.Context, cursor string, limit int) (page []Dialog, total int, next string, err error)
	// History returns at most limit messages of d older than offsetID (0:
	// from the newest), newest first.
	History(ctx context.Context, d Dialog, offsetID, limit int) ([]Message, error)
}

// Dialer connects to Telegram as the account of userID and runs fn with a
// Source over that connection, closing it when fn returns. Its errors are
// the ones below (or others, which count as unavailable).
type Dialer func(ctx context.Context, userID int64, fn func(ctx context.Context, src Source) error) error

// FloodWaitError is Telegram asking to wait before the next call.
type FloodWaitError struct{ RetryAfter time.Duration }

func (e *FloodWaitError) Error() string {
	return "Telegram asks to wait " + e.RetryAfter.String() + " (FLOOD_WAIT)"
}

// NeedsLoginError is an account that cannot be read until its user logs in
// again: no usable session, or Telegram refuses the one there is. Reason is
// a contract code or Telegram's error type, never a secret.
type NeedsLoginError struct{ Reason string }

func (e *NeedsLoginError) Error() string { return "the account needs a new login: " + e.Reason }

// Job is a queue message: one slice of the sync SyncID of UserID.
type Job struct {
	UserID int64  `json:"userId"`
	SyncID string `json:"syncId"`
}

// Enqueuer sends jobs to the sync queue, each after its delay.
type Enqueuer interface {
	Enqueue(ctx context.Context, jobs []Job, delay time.Duration) error
}

// ShardOf is the shard of userID among n: FNV-1a of its decimal id, modulo
// n. It is stable across releases and is stored with the account when it is
// registered, so changing n later moves no account.
func ShardOf(userID int64, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write(strconv.AppendInt(nil, userID, 10))
	return int(h.Sum64() % uint64(n))
}

// Errors of the query side, for the API to map to codes.
var (
	// ErrNotFound: the account is not registered, or a dialog is not stored.
	ErrNotFound = errors.New("ingest: not found")
	// ErrBusy: a slice holds the account and did not let go in time.
	ErrBusy = errors.New("ingest: a sync slice holds the account")
)
