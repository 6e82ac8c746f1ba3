"""Query API latency over millions of attempts, against the same SQL sent straight to
ClickHouse.

    .venv/bin/python -m bench.queries [--attempts 10000000] [--calls 40]

The attempts are generated inside ClickHouse (``INSERT … SELECT FROM numbers``), all
in one project, spread evenly over the last seven days: 20 connections, 10
destinations, one in ten failed.  One ``hookhouse api`` process answers; each endpoint
is called a few times to warm up, then ``--calls`` times one after another, and the
p50 and p95 of the answer times are kept.  Baseline, same run: the SQL the API builds
for that call (its own query builders), run with clickhouse-connect from this process,
the same number of times.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
from starlette.datastructures import QueryParams

from bench import harness
from hookhouse.api import measures, pages, queries
from hookhouse.common import clickhouse
from hookhouse.common.settings import Settings

API_PORT = 29813
WARM_UP = 3
SPAN_MS = 7 * 24 * 3600 * 1000

# Attempts only, with their event columns left to their defaults: no event_status, so
# the events_of_attempts view derives no event rows (the calls measured read attempts).
GENERATE = """
INSERT INTO attempts (id, project_id, event_id, request_id, connection_id, destination_id,
    created_at, attempt_number, trigger, status, response_status, error_code,
    response_headers, response_body, duration_ms, requested_url, http_method, version)
SELECT
    concat('atm_', leftPad(toString(number), 12, '0')) AS id,
    {project:String} AS project_id,
    concat('evt_', toString(intDiv(number, 2))) AS event_id,
    concat('req_', toString(intDiv(number, 2))) AS request_id,
    concat('web_', toString(intHash32(number) % 20)) AS connection_id,
    concat('des_', toString(intHash32(number + 1) % 10)) AS destination_id,
    now64(3) - toIntervalMillisecond(intDiv(number * {span:UInt64}, {total:UInt64})) AS created_at,
    1 + number % 3 AS attempt_number,
    'INITIAL' AS trigger,
    if(number % 10 = 0, 'FAILED', 'SUCCESSFUL') AS status,
    if(number % 10 = 0, 503, 200) AS response_status,
    if(number % 10 = 0, 'BAD_RESPONSE', '') AS error_code,
    map('content-type', 'application/json') AS response_headers,
    '{"ok":true}' AS response_body,
    (number * 7919) % 800 AS duration_ms,
    'https://example.com/hooks' AS requested_url,
    'POST' AS http_method,
    1 AS version
FROM numbers({total:UInt64})
"""


def generate(settings: Settings, project_id: str, total: int) -> float:
    client = clickhouse.client(settings, settings.clickhouse_database)
    started = time.monotonic()
    client.command(
        GENERATE,
        parameters={"project": project_id, "span": SPAN_MS, "total": total},
        settings={"max_insert_threads": 2},
    )
    client.command("OPTIMIZE TABLE attempts FINAL")
    took = time.monotonic() - started
    client.close()
    return took


def calls(project_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, path, parameters) of each call measured."""
    week = (datetime.now(UTC) - timedelta(days=7)).isoformat()
    return [
        ("list attempts, newest 100", "/attempts", {"limit": 100}),
        (
            "list attempts, FAILED of one destination",
            "/attempts",
            {"status": "FAILED", "destination_id": "des_3", "limit": 100},
        ),
        ("list one event's attempts", "/attempts", {"event_id": "evt_1234567"}),
        (
            "list attempts, one hour of one connection",
            "/attempts",
            {
                "webhook_id": "web_7",
                "created_at[gte]": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
                "created_at[lte]": (datetime.now(UTC) - timedelta(days=3, hours=-1)).isoformat(),
            },
        ),
        (
            "metrics: count and error rate, 7 days by hour",
            "/metrics/attempts",
            {"measures": ["count", "error_rate"], "granularity": "1h", "date_range[gte]": week},
        ),
        (
            "metrics: latency p50/p95/p99 by destination, 7 days by day",
            "/metrics/attempts",
            {
                "measures": [
                    "response_latency_p50",
                    "response_latency_p95",
                    "response_latency_p99",
                ],
                "dimensions": ["destination_id"],
                "granularity": "1d",
                "date_range[gte]": week,
            },
        ),
        (
            "metrics: failures by error code, last 24 h by 5 min",
            "/metrics/attempts",
            {"measures": ["failed_count"], "dimensions": ["error_code"], "granularity": "5m"},
        ),
    ]


def raw_sql(project_id: str, path: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The SQL the API builds for this call."""
    multi = QueryParams(
        [(k, str(v)) for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs])]
    )
    if path.startswith("/metrics/"):
        sql, parameters, _, _ = measures.aggregation(
            "attempts", project_id, multi, datetime.now(UTC)
        )
        return sql, parameters
    table = queries.TABLES["attempts"]
    query = pages.list_query(multi, ("created_at",))
    return queries.select(table, queries.conditions(table, project_id, multi), query)


def timed(call: Callable[[], Any], times: int) -> list[float]:
    for _ in range(WARM_UP):
        call()
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attempts", type=int, default=10_000_000)
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()
    rows: list[str] = []
    worst: dict[str, tuple[float, float]] = {}  # kind of call -> (API p95, SQL p95), slowest
    with harness.infrastructure():
        settings = harness.settings(topic_partitions=1, clickhouse_retention_days=0)
        project_id, key = harness.project_with_key(settings)
        print(f"generating {args.attempts:,} attempts…", flush=True)
        took = generate(settings, project_id, args.attempts)
        print(f"  {took:.0f} s", flush=True)
        ch = clickhouse.client(settings, settings.clickhouse_database)
        try:
            with (
                harness.api_process(settings, API_PORT) as base,
                httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http,
            ):
                harness.wait(lambda: _answers(http, f"{base}/attempts", {"limit": 1}), 120)
                for label, path, params in calls(project_id):
                    sql, parameters = raw_sql(project_id, path, params)
                    api_ms = timed(partial(get_ok, http, f"{base}{path}", params), args.calls)
                    raw_ms = timed(partial(ch.query, sql, parameters=parameters), args.calls)
                    print(f"{label}: api p95 {p(api_ms, 95):.1f} ms", flush=True)
                    kind = "metrics" if path.startswith("/metrics/") else "list"
                    if p(api_ms, 95) > worst.get(kind, (0.0, 0.0))[0]:
                        worst[kind] = (p(api_ms, 95), p(raw_ms, 95))
                    rows.append(
                        f"| {label} | {p(api_ms, 50):.1f} | {p(api_ms, 95):.1f} "
                        f"| {p(raw_ms, 50):.1f} | {p(raw_ms, 95):.1f} "
                        f"| {p(api_ms, 95) / p(raw_ms, 95):.2f} |"
                    )
        finally:
            ch.close()
    harness.record(
        "queries",
        {
            "headline": [
                {
                    "what": f"slowest {kind} call over {args.attempts:,} attempts, p95 ms "
                    "(vs its SQL alone)",
                    "ours": api,
                    "baseline": sql,
                    "target": "< 100 ms" if kind == "list" else "< 300 ms",
                }
                for kind, (api, sql) in worst.items()
            ]
        },
    )
    table = "\n".join(rows)
    body = f"""## Query API latency (issue 7)

`.venv/bin/python -m bench.queries --attempts {args.attempts} --calls {args.calls}`

{args.attempts:,} attempts generated in the embedded ClickHouse (chdb), one project,
spread over the last 7 days (20 connections, 10 destinations, 1 in 10 failed), merged
(`OPTIMIZE … FINAL`) after the insert ({took:.0f} s). One `hookhouse api` process; each
call is made {WARM_UP} times to warm up, then {args.calls} times in a row. Baseline: the SQL
the API builds for the same call, run with clickhouse-connect from the benchmark process.

| call | API p50 ms | API p95 ms | SQL p50 ms | SQL p95 ms | p95 ratio |
|---|---|---|---|---|---|
{table}

A newest-first list first reads a recent window of `created_at` (1 hour, 1 day, 7 days,
then everything), since ClickHouse reads the whole project when a filter on other
columns meets `ORDER BY … LIMIT`; lookups by id use bloom-filter indexes (migration
0006). The SQL column is the list's single statement without windows. Attempt metrics
over whole hours merge the hourly rollup (`attempts_hourly`, migration 0007) with the
partial first and last hours read from `attempts`; the 5-minute call reads `attempts`
only. Targets: list endpoints p95 under 100 ms; metrics aggregations p95 under 300 ms.
"""
    harness.write_section("queries", body)
    print(body)


def get_ok(http: httpx.Client, url: str, params: dict[str, Any]) -> None:
    http.get(url, params=params).raise_for_status()


def _answers(http: httpx.Client, url: str, params: dict[str, Any]) -> bool:
    try:
        return http.get(url, params=params).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
