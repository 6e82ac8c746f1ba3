-- An attempt row also carries its event's state after the attempt (status, when the
-- next automatic retry is due), and a materialized view writes that state into
-- events: the deliverer sends one record per attempt instead of an attempt and an
-- event (one Kafka record fewer per delivery).  Rows without event_status (stored
-- before this, or made by hand) derive no event row.
ALTER TABLE {db}.attempts
    ADD COLUMN IF NOT EXISTS source_id LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS event_created_at DateTime64(3, 'UTC') DEFAULT created_at,
    ADD COLUMN IF NOT EXISTS event_status LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS next_attempt_at Nullable(DateTime64(3, 'UTC'));

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.events_of_attempts TO {db}.events AS
-- The attempt's own created_at through ``a.``: a bare name would be the alias below.
SELECT
    event_id AS id,
    project_id,
    request_id,
    source_id,
    connection_id,
    destination_id,
    event_created_at AS created_at,
    event_status AS status,
    attempt_number AS attempts,
    a.created_at AS last_attempt_at,
    response_status,
    error_code,
    version,
    next_attempt_at
FROM {db}.attempts AS a
WHERE event_status != '';
