-- When an event's next automatic retry is due (NULL when none is scheduled).
ALTER TABLE {db}.events ADD COLUMN IF NOT EXISTS next_attempt_at Nullable(DateTime64(3, 'UTC'));
