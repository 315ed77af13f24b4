-- ingestor: Telegram dialogs and messages, normalized, per communicator user.
--
-- Runs on Cloudflare D1 (`wrangler d1 migrations apply`) and, in native tests,
-- on SQLite. Times are INTEGER unix milliseconds; ids that Telegram gives as
-- 64-bit integers are kept as text where they can exceed 2^53 (peer ids of
-- channels), as integers where they cannot (message ids are 32-bit).

-- A dialog (user, group, channel) of a communicator user's Telegram account.
CREATE TABLE dialogs (
  user_id        INTEGER NOT NULL,   -- the communicator user whose account this is
  peer_kind      TEXT    NOT NULL CHECK (peer_kind IN ('user', 'chat', 'channel')),
  peer_id        TEXT    NOT NULL,   -- Telegram's id of the peer, as decimal text
  title          TEXT    NOT NULL DEFAULT '',
  top_message_id INTEGER,
  synced_at      INTEGER NOT NULL,
  PRIMARY KEY (user_id, peer_kind, peer_id)
);

-- A message in a dialog, as of its last edit.
CREATE TABLE messages (
  user_id    INTEGER NOT NULL,
  peer_kind  TEXT    NOT NULL CHECK (peer_kind IN ('user', 'chat', 'channel')),
  peer_id    TEXT    NOT NULL,
  message_id INTEGER NOT NULL,
  sender_id  TEXT,                   -- null for channel posts and service messages
  sent_at    INTEGER NOT NULL,
  edited_at  INTEGER,
  kind       TEXT    NOT NULL CHECK (kind IN ('text', 'media', 'service')),
  text       TEXT    NOT NULL DEFAULT '',
  media      TEXT,                   -- a placeholder naming the media type
  ingested_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, peer_kind, peer_id, message_id)
);

CREATE INDEX messages_by_time ON messages (user_id, sent_at);
