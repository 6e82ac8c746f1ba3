-- Attempt metrics over days read hourly partial aggregates instead of every attempt:
-- a materialized view folds each inserted block of attempts into one row per hour and
-- key.  Latency quantiles are quantileTiming states (exact below 1,024 ms, 16 ms steps
-- up to 30 s, larger values count as 30 s), which merge into the same answer the raw
-- rows give.  The view sees every inserted row: an attempt stored twice (at-least-once)
-- counts twice here, while lists read attempts FINAL.
CREATE TABLE IF NOT EXISTS {db}.attempts_hourly
(
    project_id LowCardinality(String),
    hour DateTime('UTC'),
    connection_id LowCardinality(String),
    destination_id LowCardinality(String),
    status LowCardinality(String),
    error_code LowCardinality(String),
    response_status Nullable(UInt16),
    trigger LowCardinality(String),
    attempts SimpleAggregateFunction(sum, UInt64),
    duration_sum SimpleAggregateFunction(sum, UInt64),
    duration_max SimpleAggregateFunction(max, UInt32),
    duration AggregateFunction(quantilesTiming(0.5, 0.95, 0.99), UInt32)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (project_id, hour, connection_id, destination_id, status, error_code, response_status, trigger)
SETTINGS allow_nullable_key = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.attempts_hourly_view TO {db}.attempts_hourly AS
SELECT
    project_id,
    toStartOfHour(created_at) AS hour,
    connection_id,
    destination_id,
    status,
    error_code,
    response_status,
    trigger,
    count() AS attempts,
    sum(duration_ms) AS duration_sum,
    max(duration_ms) AS duration_max,
    quantilesTimingState(0.5, 0.95, 0.99)(duration_ms) AS duration
FROM {db}.attempts
GROUP BY project_id, hour, connection_id, destination_id, status, error_code, response_status, trigger;

-- Attempts stored before the view existed.
INSERT INTO {db}.attempts_hourly
SELECT
    project_id,
    toStartOfHour(created_at) AS hour,
    connection_id,
    destination_id,
    status,
    error_code,
    response_status,
    trigger,
    count(),
    sum(duration_ms),
    max(duration_ms),
    quantilesTimingState(0.5, 0.95, 0.99)(duration_ms)
FROM {db}.attempts FINAL
GROUP BY project_id, hour, connection_id, destination_id, status, error_code, response_status, trigger;
