"""Sink throughput: ``records`` → ClickHouse, against a raw insert of the same rows.

    .venv/bin/python -m bench.sink [--events 50000]

Each event is three records as the services write them: its request (1 KiB body),
its event row queued, one attempt (which ClickHouse's ``events_of_attempts`` view
turns into the event's successful row as well).  They are pre-filled on
``records``; one ``hookhouse sink`` process reads them into a fresh database.  Its rate
is the rows that arrived after the first insert over the time from the first insert to
the last, read from the sink's committed offsets every 0.1 s (it commits after the
insert returned).

Baseline, same run, same embedded ClickHouse: the same records read into memory
beforehand, grouped the way the sink groups them (batches of ``sink_batch_rows``
records, one JSONEachRow block per table), and inserted back to back with
clickhouse-connect's ``raw_insert`` — what the sink does minus Kafka, parsing, and
committing.  It runs before and after the sink; the figure is their mean.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Iterator

import orjson
from confluent_kafka import Consumer, TopicPartition

from bench import harness
from hookhouse.common import clickhouse, topics
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.records import AttemptRow, EventRow, RequestRow, Row, b64
from hookhouse.common.domain.times import iso_ms
from hookhouse.common.kafka import client_config
from hookhouse.common.settings import Settings
from hookhouse.sink.batch import TABLES

BODY = orjson.dumps({"id": "evt", "type": "order.created", "data": {"pad": "x" * 950}})


def rows(events: int) -> Iterator[Row]:
    stamp, version = iso_ms(now_ms()), now_ms()
    for n in range(events):
        request = RequestRow(
            id=f"req_{n:010d}",
            project_id="tm_bench",
            source_id="src_bench",
            created_at=stamp,
            method="POST",
            path="/orders",
            query="",
            headers={"content-type": "application/json", "user-agent": "bench"},
            body=b64(BODY),
            body_size=len(BODY),
            verified=True,
            rejection_cause="",
            events_count=1,
            version=version,
        )
        event = EventRow(
            id=f"evt_{n:010d}",
            project_id="tm_bench",
            request_id=request.id,
            source_id="src_bench",
            connection_id="web_bench",
            destination_id="des_bench",
            created_at=stamp,
            status="QUEUED",
            attempts=0,
            last_attempt_at=None,
            response_status=None,
            error_code="",
            version=version,
        )
        attempt = AttemptRow(
            id=f"atm_{n:010d}",
            project_id="tm_bench",
            event_id=event.id,
            request_id=request.id,
            connection_id="web_bench",
            destination_id="des_bench",
            created_at=stamp,
            attempt_number=1,
            trigger="INITIAL",
            status="SUCCESSFUL",
            response_status=200,
            error_code="",
            response_headers={"content-type": "application/json"},
            response_body='{"ok":true}',
            duration_ms=12,
            requested_url="http://127.0.0.1:9/orders",
            http_method="POST",
            source_id="src_bench",
            event_created_at=stamp,
            event_status="SUCCESSFUL",
            next_attempt_at=None,
            version=version + 1,
        )
        yield from (request, event, attempt)


def fill(settings: Settings, events: int) -> None:
    topic = topics.name(settings, topics.RECORDS)
    producer_rows = ((row.id, orjson.dumps(row), row.kind) for row in rows(events))
    harness.produce_all(settings, topic, producer_rows)


def committed(settings: Settings) -> int:
    """Records the sink has committed: stored in ClickHouse (it commits after inserting)."""
    topic = topics.name(settings, topics.RECORDS)
    consumer = Consumer(
        {**client_config(settings), "group.id": topics.group(settings, topics.SINK_GROUP)}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        offsets = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        return sum(max(o.offset, 0) for o in offsets)
    finally:
        consumer.close()


def run_sink(settings: Settings, total: int) -> tuple[float, list[tuple[float, int]]]:
    """Rows per second from the first commit to the last, by the committed offsets
    (counting the tables would undercount: merges collapse an event's two versions),
    and the (seconds since the first commit, rows committed) samples."""
    env = {**harness.env_of(settings), "HOOKHOUSE_SINK_PORT": "29812"}
    process = subprocess.Popen(
        [sys.executable, "-m", "hookhouse.cli", "sink"], env=env, cwd=harness.REPO
    )
    first: tuple[float, int] | None = None
    samples: list[tuple[float, int]] = []
    try:
        deadline = time.monotonic() + 900
        while True:
            seen = committed(settings)
            now = time.monotonic()
            if seen and first is None:
                first = (now, seen)
            if first is not None:
                samples.append((now - first[0], seen))
            if seen >= total:
                break
            if now > deadline:
                raise TimeoutError(f"the sink stored {seen} of {total} rows")
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(60)
    assert first is not None
    return (total - first[1]) / max(now - first[0], 1e-3), samples


def raw_insert(settings: Settings, batch_rows: int) -> float:
    """The same records, grouped as the sink groups them, inserted back to back."""
    batches: list[dict[str, list[bytes]]] = [{}]
    total = 0
    for msg in harness.read_topic(settings, topics.name(settings, topics.RECORDS)):
        if sum(len(v) for v in batches[-1].values()) >= batch_rows:
            batches.append({})
        kind = dict(msg.headers() or [])["kind"]
        kind = kind.decode() if isinstance(kind, bytes) else str(kind)
        batches[-1].setdefault(TABLES[kind], []).append(msg.value() or b"")
        total += 1
    target = harness.settings()  # a fresh database
    client = clickhouse.client(target, target.clickhouse_database)
    started = time.perf_counter()
    for batch in batches:
        for table, values in batch.items():
            client.raw_insert(
                table,
                None,
                insert_block=b"\n".join(values),
                fmt="JSONEachRow",
                settings={"input_format_skip_unknown_fields": 1},
            )
    took = time.perf_counter() - started
    client.close()
    return total / took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50000)
    parser.add_argument("--batch-rows", type=int, default=Settings().sink_batch_rows)
    args = parser.parse_args()
    total = args.events * 3
    with harness.infrastructure():
        settings = harness.settings(topic_partitions=4, sink_batch_rows=args.batch_rows)
        print(f"filling records with {total:,} rows…", flush=True)
        fill(settings, args.events)
        before = raw_insert(settings, settings.sink_batch_rows)
        print(f"raw insert: {before:,.0f} rows/s", flush=True)
        sink, samples = run_sink(settings, total)
        print(f"sink: {sink:,.0f} rows/s", flush=True)
        after = raw_insert(settings, settings.sink_batch_rows)
        print(f"raw insert again: {after:,.0f} rows/s", flush=True)
    baseline = (before + after) / 2
    harness.record(
        "sink",
        {
            "headline": [
                {
                    "what": "sink, rows/s (vs a raw clickhouse-connect insert)",
                    "ours": sink,
                    "baseline": baseline,
                    "target": "≥ 0.70",
                }
            ],
            "series": {"committed_rows": samples},
        },
    )
    body = f"""## Sink throughput (issue 7)

`.venv/bin/python -m bench.sink --events {args.events} --batch-rows {args.batch_rows}`

{total:,} records on `records` ({args.events:,} events: request with a 1 KiB body,
event queued, attempt with the event's new status), 4 partitions; one `hookhouse sink` process
into the embedded ClickHouse (chdb), batches of {settings.sink_batch_rows} records or
{settings.sink_batch_seconds} s, offsets committed after each insert. Baseline: the
same records held in memory, grouped into the same per-table JSONEachRow blocks and
inserted one after another with clickhouse-connect `raw_insert`, as a plain loader
would (run before and after the sink: {before:,.0f} and {after:,.0f} rows/s).

| | rows/s | ratio |
|---|---|---|
| raw clickhouse-connect insert (baseline, mean) | {baseline:,.0f} | 1.00 |
| hookhouse sink (Kafka → ClickHouse, commit after insert) | {sink:,.0f} | {sink / baseline:.2f} |

The sink reads the next batch while it inserts one, and sends a batch's per-table blocks
to ClickHouse at once. Target: the sink at least 0.70 of the raw insert.
"""
    harness.write_section("sink", body)
    print(body)


if __name__ == "__main__":
    main()
