-- Refusals of callers that did not authenticate are counted, not logged one
-- row each: one row per (claimed service, client address, minute) whose
-- `attempts` grows as more arrive (vault.RecordUnauthenticated), so a flood
-- of bad credentials can neither grow the log nor slow the hand-outs that
-- write to it. Every other row stands for one attempt.
ALTER TABLE access_log ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1 CHECK (attempts >= 1);
-- The key of a counted row: NULL for every row that stands for one attempt.
ALTER TABLE access_log ADD COLUMN bucket TEXT CHECK (bucket IS NULL OR length(bucket) <= 256);
CREATE UNIQUE INDEX access_log_by_bucket ON access_log (bucket) WHERE bucket IS NOT NULL;
