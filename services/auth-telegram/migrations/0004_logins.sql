-- Logins in progress (vault.Service.StartLogin and the steps after it). A
-- login spans several requests that may reach different isolates, so its
-- state lives here, sealed like a session (AES-256-GCM under SESSION_SECRET's
-- key, with the login id and user id as additional data under a prefix of
-- its own): the fresh auth key, the server salt, the data center, the phone
-- and Telegram's phone_code_hash. A row is deleted when its login ends,
-- either way; the daily job deletes the ones that expired untouched.
CREATE TABLE logins (
  id         TEXT    PRIMARY KEY
                     CHECK (length(id) = 30 AND substr(id, 1, 4) = 'lgn_'),
  user_id    INTEGER NOT NULL
                     CHECK (user_id BETWEEN 1 AND 9007199254740991),
  -- The service that started the login: only it can continue it.
  caller     TEXT    NOT NULL CHECK (length(caller) BETWEEN 1 AND 64),
  kind       TEXT    NOT NULL CHECK (kind IN ('code', 'qr')),
  -- A keyed hash of the phone (never the phone): one live login per
  -- (user, phone). NULL for QR logins.
  phone_tag  TEXT    CHECK (phone_tag IS NULL OR length(phone_tag) = 32),
  sealed     BLOB    NOT NULL
                     CHECK (typeof(sealed) = 'blob' AND length(sealed) > 28),
  key_id     TEXT    NOT NULL CHECK (length(key_id) = 16),
  -- Wrong codes and passwords so far; at 5 the login ends.
  attempts   INTEGER NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 5),
  -- A step in progress holds the login until this time, so that concurrent
  -- steps of one login do not both reach Telegram: one wins.
  busy_until INTEGER,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL CHECK (expires_at > created_at)
);

CREATE UNIQUE INDEX logins_by_phone ON logins (user_id, phone_tag) WHERE phone_tag IS NOT NULL;
CREATE INDEX logins_by_expiry ON logins (expires_at);

-- What else an access-log row is about, never a secret: a login's id and
-- the last four digits of its phone, a rejection's reason.
ALTER TABLE access_log ADD COLUMN detail TEXT CHECK (detail IS NULL OR length(detail) <= 256);

-- Telegram refused the session (vault.Service.ReportSessionRejected): it is
-- never handed out again.
ALTER TABLE sessions ADD COLUMN rejected_at INTEGER;
ALTER TABLE sessions ADD COLUMN rejected_reason TEXT CHECK (rejected_reason IS NULL OR length(rejected_reason) <= 64);
-- The revocation's auth.logOut: NULL while Telegram has not confirmed it
-- (the daily job tries again), the time it did.
ALTER TABLE sessions ADD COLUMN logged_out_at INTEGER;
-- The daily job's retries of logouts Telegram has not confirmed.
CREATE INDEX sessions_logout_pending ON sessions (revoked_at) WHERE revoked_at IS NOT NULL AND logged_out_at IS NULL;
