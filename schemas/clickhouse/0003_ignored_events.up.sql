-- Connections that did not turn a request into an event (filtered, failed
-- transformation, duplicate, disabled), and each request's count of them.
CREATE TABLE IF NOT EXISTS {db}.ignored_events
(
    id String,
    project_id LowCardinality(String),
    request_id String,
    source_id LowCardinality(String),
    connection_id LowCardinality(String),
    cause LowCardinality(String),
    meta String COMMENT 'a JSON object as text',
    created_at DateTime64(3, 'UTC'),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (project_id, created_at, id);

ALTER TABLE {db}.requests ADD COLUMN IF NOT EXISTS ignored_count UInt16 DEFAULT 0;
