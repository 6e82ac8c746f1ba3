ALTER TABLE {db}.events DROP COLUMN IF EXISTS next_attempt_at;
