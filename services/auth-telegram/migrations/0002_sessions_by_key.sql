-- Sessions by the key that sealed them: health counts the sessions not under
-- the current key, and the daily job finds those under the previous one,
-- without reading every row.
CREATE INDEX sessions_by_key ON sessions (key_id);
