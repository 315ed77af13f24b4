-- Ingestion's bookkeeping. Messages and dialogs live in the shards
-- (migrations-messages/, bindings MESSAGES_0..N-1); what stays here is
-- small, one row per account: which shard holds it, where its sync stands,
-- and the lease that keeps one sync per account at a time.
--
-- 0001's dialogs and messages tables never had a writer: dropped.
DROP TABLE IF EXISTS messages;
DROP TABLE IF EXISTS dialogs;

-- A communicator user whose Telegram account is ingested.
CREATE TABLE accounts (
  user_id          INTEGER PRIMARY KEY CHECK (user_id BETWEEN 1 AND 9007199254740991),
  shard            INTEGER NOT NULL CHECK (shard BETWEEN 0 AND 99),
  -- idle (waits for next_run_at), queued, syncing, flood_wait, needs_login
  -- (no usable session, or Telegram refused it), paused
  state            TEXT    NOT NULL CHECK (state IN ('idle', 'queued', 'syncing', 'flood_wait', 'needs_login', 'paused')),
  -- dialogs (listing them) or history (pulling messages); done when a sync finished
  phase            TEXT    NOT NULL CHECK (phase IN ('dialogs', 'history', 'done')),
  sync_id          TEXT    NOT NULL,             -- the current (or last) sync
  dialogs_cursor   TEXT,                         -- getDialogs paging within the sync, JSON
  dialogs_total    INTEGER NOT NULL DEFAULT 0,
  dialogs_done     INTEGER NOT NULL DEFAULT 0,   -- dialogs whose history this sync finished
  messages_stored  INTEGER NOT NULL DEFAULT 0,   -- messages stored, all syncs
  slices           INTEGER NOT NULL DEFAULT 0,   -- slices run in this sync
  created_at       INTEGER NOT NULL,
  started_at       INTEGER,                      -- this sync's start
  last_success_at  INTEGER,                      -- the last sync that finished
  last_error       TEXT,                         -- a contract code and message, never a secret
  last_error_at    INTEGER,
  -- when the cron looks at it next: an idle account is queued then; a
  -- queued or syncing one whose lease has lapsed is queued again (its queue
  -- message was lost, or its slice died)
  next_run_at      INTEGER NOT NULL,
  flood_wait_until INTEGER,                      -- Telegram asked to wait until then
  lease_owner      TEXT,                         -- the slice running now, if any
  lease_until      INTEGER                       -- its lease ends then (a crashed slice's lapses)
);

-- The cron's question: which accounts are due.
CREATE INDEX accounts_due ON accounts (next_run_at);
