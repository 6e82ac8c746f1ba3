DROP VIEW IF EXISTS {db}.events_of_attempts;
ALTER TABLE {db}.attempts
    DROP COLUMN IF EXISTS next_attempt_at,
    DROP COLUMN IF EXISTS event_status,
    DROP COLUMN IF EXISTS event_created_at,
    DROP COLUMN IF EXISTS source_id;
