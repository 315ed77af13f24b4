-- auth-telegram: sealed Telegram sessions and the access log.
--
-- Runs on Cloudflare D1 (`wrangler d1 migrations apply`) and, in native tests,
-- on SQLite (internal/sqlitetest). Times are INTEGER unix milliseconds: D1
-- returns integers as JavaScript numbers, exact up to 2^53, which covers both
-- millisecond timestamps and Telegram user ids (vault checks ids < 2^53).

-- One row per stored session. `sealed` is AES-256-GCM output (12-byte nonce ||
-- ciphertext || 16-byte tag) of the session string, with the session id and
-- user id as additional data; `key_id` names the key that sealed it, so that
-- SESSION_SECRET can be rotated (vault.Sealer). Nothing here is a secret
-- without the key.
CREATE TABLE sessions (
  id           TEXT    PRIMARY KEY
                       CHECK (length(id) = 30 AND substr(id, 1, 4) = 'ses_'),
  user_id      INTEGER NOT NULL
                       CHECK (user_id BETWEEN 1 AND 9007199254740991),
  sealed       BLOB    NOT NULL
                       CHECK (typeof(sealed) = 'blob' AND length(sealed) > 28),
  key_id       TEXT    NOT NULL CHECK (length(key_id) = 16),
  dc_id        INTEGER CHECK (dc_id IS NULL OR dc_id BETWEEN 1 AND 255),
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL CHECK (expires_at > created_at),
  last_used_at INTEGER,
  revoked_at   INTEGER
);

-- A user's sessions, newest first: the hand-out and the list.
CREATE INDEX sessions_by_user ON sessions (user_id, created_at);

-- Every hand-out, list, revoke, import, and every denied or failed attempt.
-- No foreign key to sessions: the log outlives sessions and also records
-- attempts on session ids that do not exist. AUTOINCREMENT keeps ids strictly
-- increasing even after old rows are pruned, so they work as a paging cursor.
CREATE TABLE access_log (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  at         INTEGER NOT NULL,
  session_id TEXT    CHECK (session_id IS NULL OR length(session_id) BETWEEN 1 AND 64),
  user_id    INTEGER CHECK (user_id IS NULL OR user_id BETWEEN 1 AND 9007199254740991),
  caller     TEXT    NOT NULL CHECK (length(caller) <= 128),
  action     TEXT    NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
  success    INTEGER NOT NULL CHECK (success IN (0, 1)),
  error_code TEXT    CHECK (error_code IS NULL OR length(error_code) BETWEEN 1 AND 64),
  channel    TEXT    NOT NULL CHECK (length(channel) BETWEEN 1 AND 32),
  client_ip  TEXT    CHECK (client_ip IS NULL OR length(client_ip) BETWEEN 1 AND 64),
  -- A success has no error code; a failure always has one.
  CHECK ((success = 1 AND error_code IS NULL) OR (success = 0 AND error_code IS NOT NULL))
);

-- Reading the log of one user or one session, newest first (ids follow time);
-- `at` serves pruning by age.
CREATE INDEX access_log_by_user ON access_log (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX access_log_by_session ON access_log (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX access_log_by_at ON access_log (at);
