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
from hookhouse.common.clock import iso_ms

OK, FAILED = "status = 'SUCCESSFUL'", "status = 'FAILED'"


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
    "attempts": {
        "count": "count()",
        "successful_count": f"countIf({OK})",
        "failed_count": f"countIf({FAILED})",
        "error_rate": rate(FAILED),
        "response_latency_avg": "avg(duration_ms)",
        "response_latency_p50": "quantile(0.5)(duration_ms)",
        "response_latency_p95": "quantile(0.95)(duration_ms)",
        "response_latency_p99": "quantile(0.99)(duration_ms)",
        "response_latency_max": "max(duration_ms)",
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
    sql = queries.conditions(table, project_id, params)
    sql.where.append(f"created_at >= {sql.at(iso_ms(int(start.timestamp() * 1000)))}")
    sql.where.append(f"created_at <= {sql.at(iso_ms(int(end.timestamp() * 1000)))}")
    bucket = f"toStartOfInterval(created_at, INTERVAL {seconds} SECOND)"
    split = [f"{DIMENSIONS[kind][d]} AS `{d}`" for d in dimensions]
    measured = [f"{MEASURES[kind][m]} AS `{m}`" for m in measures]
    group = ", ".join(["time_bucket", *(f"`{d}`" for d in dimensions)])
    text = (
        f"SELECT {bucket} AS time_bucket, {', '.join([*split, *measured])} "  # noqa: S608
        f"FROM {table.name} FINAL WHERE {' AND '.join(sql.where)} "
        f"GROUP BY {group} ORDER BY {group}"
    )
    return text, sql.parameters, measures, dimensions


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
