-- Every run of a transformation: outcome, error, console lines, duration.
CREATE TABLE IF NOT EXISTS {db}.transformation_executions
(
    id String,
    project_id LowCardinality(String),
    transformation_id LowCardinality(String),
    connection_id LowCardinality(String),
    request_id String,
    status LowCardinality(String),
    error String,
    logs String COMMENT 'a JSON array of console lines, as text',
    duration_ms UInt32,
    created_at DateTime64(3, 'UTC'),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (project_id, created_at, id);
