"""A filter-only backtest over millions of stored requests, against a substring scan of
the same bodies.

    .venv/bin/python -m bench.backtest [--requests 10000000] [--calls 5]

The requests are generated inside ClickHouse (``INSERT … SELECT FROM numbers``): one
project, one source, spread over the last seven days, bodies of a payment provider's
shape (~430 bytes of JSON, five event types, amounts, nested objects and an array of
line items), stored base64 as ingest stores them, then merged (``OPTIMIZE … FINAL``).
One ``hookhouse api`` process answers ``POST /connections/backtest`` with two filters
over the seven days: a common one (an event type and an amount), and one reaching into
the array of line items; each is called once to warm up, then ``--calls`` times.
Baseline, same run: the cheapest question over the same rows, the number of bodies
containing the event type's text (``position(base64Decode(body), …)``), sent straight
to ClickHouse.  Target (issue 29): under 5 s over 10 million requests.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench import harness
from hookhouse.common import clickhouse
from hookhouse.common.settings import Settings

API_PORT = 29814
SPAN_MS = 7 * 24 * 3600 * 1000

GENERATE = """
INSERT INTO requests (id, project_id, source_id, created_at, method, path, query, headers,
    body, body_size, verified, rejection_cause, events_count, version)
WITH
    ['order.created', 'order.paid', 'order.refunded', 'customer.updated', 'invoice.sent']
        AS types,
    concat(
        '{"id":"evt_', toString(number), '","type":"', types[1 + number % 5],
        '","created":', toString(1700000000 + number),
        ',"livemode":', if(number % 7 = 0, 'false', 'true'),
        ',"data":{"object":{"id":"ord_', toString(intHash32(number)),
        '","amount":', toString((intHash32(number + 1) % 100000)),
        ',"currency":"', ['usd', 'eur', 'gbp'][1 + number % 3],
        '","customer":{"id":"cus_', toString(intHash32(number + 2) % 50000),
        '","email":"buyer', toString(number % 1000), '@example.com","country":"',
        ['US', 'DE', 'FR', 'GB'][1 + number % 4], '"},',
        '"items":[{"sku":"sku_', toString(number % 97), '","qty":', toString(1 + number % 3),
        '},{"sku":"sku_', toString(number % 89), '","qty":1}],',
        '"metadata":{"channel":"web","campaign":"c', toString(number % 40), '"}}}}'
    ) AS text
SELECT
    concat('req_', leftPad(toString(number), 12, '0')),
    {project:String},
    {source:String},
    now64(3) - toIntervalMillisecond(intDiv(number * {span:UInt64}, {total:UInt64})),
    'POST',
    '/',
    '',
    map('content-type', 'application/json', 'user-agent', 'Provider/1.0'),
    base64Encode(text),
    length(text),
    true,
    '',
    1,
    1
FROM numbers({total:UInt64})
"""

FILTERS = {
    "event type and amount": {
        "type": {"$in": ["order.paid", "order.refunded"]},
        "data": {"object": {"amount": {"$gte": 50000}, "currency": "eur"}},
    },
    "an item of the array, and a customer's country": {
        "data": {"object": {"items": {"sku": "sku_7"}, "customer": {"country": "DE"}}},
    },
}
BASELINE = (
    "SELECT count() FROM requests WHERE project_id = {project:String} "
    "AND source_id = {source:String} AND position(base64Decode(body), 'order.paid') > 0"
)


def generate(settings: Settings, project_id: str, source_id: str, total: int) -> float:
    client = clickhouse.client(settings, settings.clickhouse_database)
    started = time.monotonic()
    client.command(
        GENERATE,
        parameters={"project": project_id, "source": source_id, "span": SPAN_MS, "total": total},
        settings={"max_insert_threads": 2},
    )
    client.command("OPTIMIZE TABLE requests FINAL")
    took = time.monotonic() - started
    client.close()
    return took


def timed(call: Any, times: int) -> list[float]:
    call()  # warm up
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        spent.append(time.perf_counter() - started)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000_000)
    parser.add_argument("--calls", type=int, default=5)
    args = parser.parse_args()
    rows: list[str] = []
    slowest = (0.0, 0.0)
    with harness.infrastructure():
        settings = harness.settings(topic_partitions=1, clickhouse_retention_days=0)
        project_id, key = harness.project_with_key(settings)
        ch = clickhouse.client(settings, settings.clickhouse_database)
        try:
            with (
                harness.api_process(settings, API_PORT) as base,
                httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=120) as http,
            ):
                harness.wait(lambda: _answers(http, f"{base}/sources"), 120)
                made = http.post(f"{base}/sources", json={"name": "provider"})
                source_id = made.raise_for_status().json()["id"]
                print(f"generating {args.requests:,} requests…", flush=True)
                took = generate(settings, project_id, source_id, args.requests)
                print(f"  {took:.0f} s", flush=True)
                until = datetime.now(UTC) + timedelta(minutes=1)
                since = until - timedelta(days=8)
                parameters = {"project": project_id, "source": source_id}
                raw = timed(lambda: ch.query(BASELINE, parameters=parameters), args.calls)
                for label, spec in FILTERS.items():
                    asked = {
                        "source_id": source_id,
                        "rules": [{"type": "filter", "body": spec}],
                        "since": since.isoformat(),
                        "until": until.isoformat(),
                    }
                    answers: list[dict[str, Any]] = []

                    def call(asked: dict[str, Any] = asked, answers: list[Any] = answers) -> None:
                        answer = http.post(f"{base}/connections/backtest", json=asked)
                        answers.append(answer.raise_for_status().json())

                    spent = timed(call, args.calls)
                    last = answers[-1]
                    median, scan = statistics.median(spent), statistics.median(raw)
                    print(f"{label}: {median:.2f} s, {last['events_count']:,} events", flush=True)
                    assert last["requests_count"] == args.requests, last
                    assert last["complete"], last
                    slowest = max(slowest, (median, scan))
                    rows.append(
                        f"| {label} | {median:.2f} | {max(spent):.2f} | {scan:.2f} "
                        f"| {median / scan:.1f} | {last['events_count']:,} "
                        f"| {last['filters']['decided_in_python_count']} |"
                    )
        finally:
            ch.close()
    harness.record(
        "backtest",
        {
            "headline": [
                {
                    "what": f"filter-only backtest over {args.requests:,} requests, median s "
                    "(vs a substring scan of the same bodies)",
                    "ours": slowest[0],
                    "baseline": slowest[1],
                    "target": "< 5 s",
                }
            ]
        },
    )
    table = "\n".join(rows)
    body = f"""## Backtest over stored requests (issue 29)

`.venv/bin/python -m bench.backtest --requests {args.requests} --calls {args.calls}`

{args.requests:,} requests of one source generated in the embedded ClickHouse (chdb),
spread over the last 7 days, ~430-byte JSON bodies stored base64 as ingest stores them,
merged (`OPTIMIZE … FINAL`) after the insert ({took:.0f} s). One `hookhouse api`
process answers `POST /connections/backtest` with one filter rule over the whole range;
each call once to warm up, then {args.calls} times. Baseline, same run: counting the
bodies that contain a text (`position(base64Decode(body), 'order.paid')`), the cheapest
scan of the same rows, sent straight to ClickHouse. Target: under 5 s.

| filter | median s | slowest s | substring scan s | ratio | events | decided in Python |
|---|---|---|---|---|---|---|
{table}

The filter runs inside ClickHouse as one expression in three-valued logic
(`services/api/filter_sql.py`). First a test on the bytes: the keys the filter names
and the texts it wants must be in the body (`position`, as the baseline), which drops
most bodies unparsed. Only those that pass are parsed: one parse per object level, all
its keys and values, so that the last value of a key written twice is the one compared,
as the router's Python does, and an object filter also matches the objects of an array.
The first filter lets 13% of the bodies through the byte test (two of five event types,
one of three currencies; the amount cannot be tested on bytes) and each costs about
4 µs to parse at three levels: that is why it misses the 5 s target, where the second
(3% through) meets it. Tried and not kept: reading values by path from the root when
each object on the way has no key twice (one parse per value, but ClickHouse evaluates
both branches of an `if` inside a lambda, so the fallback cost as much again), and
writing each literal once as an element of an array parameter (slower to search for
inside lambdas; used only past 400 distinct literals, where ClickHouse refuses that
many parameters).
"""  # noqa: S608 - prose that names SQL functions
    harness.write_section("backtest", body)
    print(body)


def _answers(http: httpx.Client, url: str) -> bool:
    try:
        return http.get(url).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
