-- A shard of ingested Telegram data: the dialogs and messages of the
-- accounts assigned to it (accounts.shard in DB). Every row is keyed by the
-- communicator user, and no query reads across users. A dialog's cursors
-- live on its row, so a page of messages and the cursor past it are one
-- D1 batch.
--
-- Times are INTEGER unix milliseconds. Peers are "user:ID", "chat:ID" or
-- "channel:ID", Telegram's ids as decimal text.

CREATE TABLE dialogs (
  user_id          INTEGER NOT NULL,
  peer             TEXT    NOT NULL CHECK (length(peer) BETWEEN 6 AND 40),
  title            TEXT    NOT NULL DEFAULT '',
  unread_count     INTEGER NOT NULL DEFAULT 0,
  pinned           INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
  top_message_id   INTEGER NOT NULL DEFAULT 0,
  top_message_date INTEGER NOT NULL DEFAULT 0,
  -- what getHistory needs to address the peer (Telegram's access hash; not a
  -- secret on its own: it is valid only with this account's session)
  access_hash      TEXT    NOT NULL DEFAULT '0',
  -- History cursors. Stored messages are contiguous from oldest_id to
  -- newest_id. A catch-up pass reads from the newest message down to
  -- newest_id: catchup_top is the newest id when it began, catchup_offset
  -- where it continues (0: none under way). Older history continues below
  -- oldest_id until history_done.
  newest_id        INTEGER NOT NULL DEFAULT 0,
  oldest_id        INTEGER NOT NULL DEFAULT 0,
  catchup_top      INTEGER NOT NULL DEFAULT 0,
  catchup_offset   INTEGER NOT NULL DEFAULT 0,
  history_done     INTEGER NOT NULL DEFAULT 0 CHECK (history_done IN (0, 1)),
  stored           INTEGER NOT NULL DEFAULT 0,
  synced_at        INTEGER NOT NULL,
  PRIMARY KEY (user_id, peer)
) WITHOUT ROWID;

-- Dialogs, newest activity first (pinned order is Telegram's, not kept).
CREATE INDEX dialogs_by_activity ON dialogs (user_id, top_message_date, peer);

-- A message as Telegram sent it, as of the last time it was read.
CREATE TABLE messages (
  user_id     INTEGER NOT NULL,
  peer        TEXT    NOT NULL,
  id          INTEGER NOT NULL,
  sender      TEXT,                 -- a peer; null for channel posts without an author
  date        INTEGER NOT NULL,
  edit_date   INTEGER,
  text        TEXT    NOT NULL DEFAULT '',
  entities    TEXT,                 -- JSON: formatting entities, offsets in UTF-16 code units as Telegram's
  reply_to_id INTEGER,
  forward     TEXT,                 -- JSON: forward origin
  media       TEXT,                 -- JSON: media kind and a small descriptor (no file)
  action      TEXT,                 -- a service message's action kind
  views       INTEGER,
  grouped_id  TEXT,                 -- album id, decimal
  PRIMARY KEY (user_id, peer, id)
) WITHOUT ROWID;
