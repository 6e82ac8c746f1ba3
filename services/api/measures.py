"""The metrics endpoints as ClickHouse aggregations: measures over time buckets, split
by dimensions, for one project, with the list filters.

``GET /metrics/{requests|events|attempts}?date_range[gte]=…&date_range[lte]=…&
granularity=1h&measures=count&measures=error_rate&dimensions=destination_id`` answers
``[{"time_bucket": …, "dimensions": {…}, "metrics": {…}}, …]``, in Hookdeck's shape.
Pure: it builds SQL, it runs nothing.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from hookhouse.api import queries, shapes
from hookhouse.api.pages import InvalidQuery, parse_time
from hookhouse.common.domain.times import iso_ms

OK, FAILED = "status = 'SUCCESSFUL'", "status = 'FAILED'"


# quantileTiming: exact below 1,024 ms, 16 ms steps up to 30 s; its states merge to
# the answer the rows give, so the hourly rollup and the raw rows agree.
LATENCY = "quantilesTimingMerge(0.5, 0.95, 0.99)(duration)"


def rate(condition: str) -> str:
    return f"if(count() = 0, 0, countIf({condition}) / count())"


MEASURES: dict[str, dict[str, str]] = {
    "requests": {
        "count": "count()",
        "accepted_count": "countIf(rejection_cause = '')",
        "rejected_count": "countIf(rejection_cause != '')",
        "events_count": "sum(events_count)",
        "ignored_count": "sum(ignored_count)",
        "rejection_rate": rate("rejection_cause != ''"),
    },
    "events": {
        "count": "count()",
        "successful_count": f"countIf({OK})",
        "failed_count": f"countIf({FAILED})",
        "pending_count": "countIf(status IN ('QUEUED', 'SCHEDULED', 'HOLD'))",
        "error_rate": rate(FAILED),
        "avg_attempts": "avg(attempts)",
    },
    # Attempts are measured over partial aggregates (see ``attempts_sql``): rows of
    # ``attempts`` column, a ``duration`` quantileTiming state and sums, per status.
    "attempts": {
        "count": "sum(attempts)",
        "successful_count": f"sumIf(attempts, {OK})",
        "failed_count": f"sumIf(attempts, {FAILED})",
        "error_rate": f"if(sum(attempts) = 0, 0, sumIf(attempts, {FAILED}) / sum(attempts))",
        "response_latency_avg": "if(sum(attempts) = 0, 0, sum(duration_sum) / sum(attempts))",
        "response_latency_p50": f"{LATENCY}[1]",
        "response_latency_p95": f"{LATENCY}[2]",
        "response_latency_p99": f"{LATENCY}[3]",
        "response_latency_max": "max(duration_max)",
    },
}
DIMENSIONS: dict[str, dict[str, str]] = {
    "requests": {"source_id": "source_id", "rejection_cause": "rejection_cause"},
    "events": {
        "source_id": "source_id",
        "webhook_id": "connection_id",
        "destination_id": "destination_id",
        "status": "status",
        "error_code": "error_code",
    },
    "attempts": {
        "webhook_id": "connection_id",
        "destination_id": "destination_id",
        "status": "status",
        "error_code": "error_code",
        "response_status": "response_status",
    },
}
GRANULARITY = re.compile(r"([1-9][0-9]{0,4})(s|m|h|d|w)")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_BUCKETS = 10_000


def aggregation(
    kind: str, project_id: str, params: Any, now: datetime
) -> tuple[str, dict[str, Any], list[str], list[str]]:
    """SQL, its parameters, and the measure and dimension names, for one metrics call.

    The time range defaults to the last 24 hours and the granularity to 1 hour."""
    table = queries.TABLES[kind]
    measures = params.getlist("measures") or ["count"]
    unknown = sorted(set(measures) - set(MEASURES[kind]))
    if unknown:
        raise InvalidQuery(
            f"unknown measures {', '.join(unknown)}; {kind} has {', '.join(MEASURES[kind])}."
        )
    dimensions = params.getlist("dimensions")
    unknown = sorted(set(dimensions) - set(DIMENSIONS[kind]))
    if unknown:
        raise InvalidQuery(
            f"unknown dimensions {', '.join(unknown)}; {kind} has {', '.join(DIMENSIONS[kind])}."
        )
    end = parse_time("date_range[lte]", params.get("date_range[lte]") or now.isoformat())
    start = parse_time(
        "date_range[gte]", params.get("date_range[gte]") or (end - timedelta(days=1)).isoformat()
    )
    if start > end:
        raise InvalidQuery("'date_range[gte]' must not be after 'date_range[lte]'.")
    match = GRANULARITY.fullmatch(params.get("granularity") or "1h")
    if not match:
        raise InvalidQuery("'granularity' must be a number and a unit: 30s, 5m, 1h, 1d, 1w.")
    seconds = int(match.group(1)) * UNIT_SECONDS[match.group(2)]
    if (end - start).total_seconds() / seconds > MAX_BUCKETS:
        raise InvalidQuery(f"the range holds more than {MAX_BUCKETS} buckets; widen 'granularity'.")
    if kind == "attempts":
        span = (int(start.timestamp() * 1000), int(end.timestamp() * 1000))
        text, parameters = attempts_sql(project_id, params, span, seconds, measures, dimensions)
        return text, parameters, measures, dimensions
    sql = queries.conditions(table, project_id, params)
    sql.where.append(f"created_at >= {sql.at(iso_ms(int(start.timestamp() * 1000)))}")
    sql.where.append(f"created_at <= {sql.at(iso_ms(int(end.timestamp() * 1000)))}")
    rows = f"{table.name} FINAL WHERE {' AND '.join(sql.where)}"
    text = bucketed(kind, rows, "created_at", seconds, measures, dimensions)
    return text, sql.parameters, measures, dimensions


def bucket(seconds: int, column: str) -> str:
    return f"toStartOfInterval({column}, INTERVAL {seconds} SECOND)"


def bucketed(
    kind: str, rows: str, column: str, seconds: int, measures: list[str], dimensions: list[str]
) -> str:
    """The measures of ``rows`` (what follows ``FROM``) per time bucket of ``column``."""
    split = [f"{DIMENSIONS[kind][d]} AS `{d}`" for d in dimensions]
    measured = [f"{MEASURES[kind][m]} AS `{m}`" for m in measures]
    grouped = ", ".join(["time_bucket", *(f"`{d}`" for d in dimensions)])
    return (
        f"SELECT {bucket(seconds, column)} AS time_bucket, "  # noqa: S608
        f"{', '.join([*split, *measured])} FROM {rows} GROUP BY {grouped} ORDER BY {grouped}"
    )


HOUR = 3600
# Filters the hourly rollup (migration 0007) can apply: columns of its key.
ROLLED_FILTERS = {"status", "destination_id", "error_code", "trigger", "response_status"}
CONTROLS = {"measures", "dimensions", "granularity", "date_range[gte]", "date_range[lte]"}


def rolled_up(params: Any, seconds: int) -> bool:
    """Can whole hours of this call be read from ``attempts_hourly``?"""
    filters = {name.split("[")[0] for name in params if name not in CONTROLS}
    return seconds % HOUR == 0 and filters <= ROLLED_FILTERS


def attempts_sql(
    project_id: str,
    params: Any,
    span: tuple[int, int],
    seconds: int,
    measures: list[str],
    dimensions: list[str],
) -> tuple[str, dict[str, Any]]:
    """Attempt measures over ``span`` (epoch ms, both ends included), merged from partial
    aggregates: the whole hours from the hourly rollup when the call allows it, the rest
    from the attempts themselves."""
    sql = queries.conditions(queries.TABLES["attempts"], project_id, params)
    columns = list(dict.fromkeys(["status", *(DIMENSIONS["attempts"][d] for d in dimensions)]))
    keys = ", ".join(columns)
    first_ms, last_ms = span
    where = " AND ".join(sql.where)
    raw_range = f"created_at BETWEEN {sql.at(iso_ms(first_ms))} AND {sql.at(iso_ms(last_ms))}"
    # The hours wholly inside [start, end]: from the first hour start at or after start
    # to the last hour end at or before end (end is inclusive, to the millisecond).
    hours_from = -(-first_ms // (HOUR * 1000)) * HOUR * 1000
    hours_to = (last_ms + 1) // (HOUR * 1000) * HOUR * 1000
    parts = []
    if rolled_up(params, seconds) and hours_from < hours_to:
        since, until = sql.at(iso_ms(hours_from)), sql.at(iso_ms(hours_to))
        parts.append(
            f"SELECT hour AS t, {keys}, attempts, duration_sum, duration_max, duration "  # noqa: S608
            f"FROM attempts_hourly WHERE {where} AND hour >= {since} AND hour < {until}"
        )
        raw_range += f" AND (created_at < {since} OR created_at >= {until})"
    parts.append(
        f"SELECT {bucket(seconds, 'created_at')} AS t, {keys}, count() AS attempts, "  # noqa: S608
        "sum(duration_ms) AS duration_sum, max(duration_ms) AS duration_max, "
        "quantilesTimingState(0.5, 0.95, 0.99)(duration_ms) AS duration "
        f"FROM attempts FINAL WHERE {where} AND {raw_range} GROUP BY t, {keys}"
    )
    rows = f"({' UNION ALL '.join(parts)})"
    return bucketed("attempts", rows, "t", seconds, measures, dimensions), sql.parameters


def shaped(
    rows: list[dict[str, Any]], measures: list[str], dimensions: list[str]
) -> list[dict[str, Any]]:
    def number(value: Any) -> float | int:
        if isinstance(value, float):
            return 0 if value != value else round(value, 4)  # NaN (no rows) reads as 0
        return int(value)

    return [
        {
            "time_bucket": shapes.iso(row["time_bucket"]),
            "dimensions": {d: row[d] for d in dimensions},
            "metrics": {m: number(row[m]) for m in measures},
        }
        for row in rows
    ]


QUEUE_DEPTH = (
    "SELECT destination_id, count() AS depth, min(created_at) AS oldest "
    "FROM events FINAL WHERE project_id = {project:String} "
    "AND status IN ('QUEUED', 'SCHEDULED') GROUP BY destination_id ORDER BY depth DESC"
)
