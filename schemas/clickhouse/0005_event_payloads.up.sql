-- What an event delivers when a transformation changed its request (id: event id).
CREATE TABLE IF NOT EXISTS {db}.event_payloads
(
    id String,
    project_id LowCardinality(String),
    request_id String,
    method LowCardinality(String),
    path String,
    query String,
    headers Map(String, String),
    body String COMMENT 'base64',
    created_at DateTime64(3, 'UTC'),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (project_id, created_at, id);
