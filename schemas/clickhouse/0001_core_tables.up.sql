-- Requests, events and attempts: one row per version, collapsed on id by
-- ReplacingMergeTree(version).  Ordered for the query API: project, then time, then id.
CREATE TABLE IF NOT EXISTS {db}.requests
(
    id String,
    project_id LowCardinality(String),
    source_id LowCardinality(String),
    created_at DateTime64(3, 'UTC'),
    method LowCardinality(String),
    path String,
    query String,
    headers Map(String, String),
    body String COMMENT 'base64 of the exact bytes received',
    body_size UInt32,
    verified Nullable(Bool),
    rejection_cause LowCardinality(String),
    events_count UInt16,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (project_id, created_at, id);

CREATE TABLE IF NOT EXISTS {db}.events
(
    id String,
    project_id LowCardinality(String),
    request_id String,
    source_id LowCardinality(String),
    connection_id LowCardinality(String),
    destination_id LowCardinality(String),
    created_at DateTime64(3, 'UTC'),
    status LowCardinality(String),
    attempts UInt16,
    last_attempt_at Nullable(DateTime64(3, 'UTC')),
    response_status Nullable(UInt16),
    error_code LowCardinality(String),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (project_id, created_at, id);

CREATE TABLE IF NOT EXISTS {db}.attempts
(
    id String,
    project_id LowCardinality(String),
    event_id String,
    request_id String,
    connection_id LowCardinality(String),
    destination_id LowCardinality(String),
    created_at DateTime64(3, 'UTC'),
    attempt_number UInt16,
    trigger LowCardinality(String),
    status LowCardinality(String),
    response_status Nullable(UInt16),
    error_code LowCardinality(String),
    response_headers Map(String, String),
    response_body String,
    duration_ms UInt32,
    requested_url String,
    http_method LowCardinality(String),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (project_id, created_at, id);
