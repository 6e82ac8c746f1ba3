"""The sink against the real broker and ClickHouse: batches, idempotence, dead letters."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from hookhouse.common import clickhouse, topics
from hookhouse.common.clickhouse import RETAINED, migrate
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.records import AttemptRow, EventRow
from hookhouse.common.domain.times import iso_ms
from hookhouse.common.kafka import AsyncProducer
from hookhouse.common.settings import Settings
from hookhouse.sink.service import Sink

# Inside the ClickHouse tables' retention (a TTL), whatever day the suite runs.
CREATED = iso_ms(now_ms())

pytestmark = pytest.mark.integration

ALL_UP = [
    "applied 0001_core_tables",
    "applied 0002_event_next_attempt",
    "applied 0003_ignored_events",
    "applied 0004_transformation_executions",
    "applied 0005_event_payloads",
    "applied 0006_id_lookups",
    "applied 0007_attempts_hourly",
    "applied 0008_attempt_outcomes",
    "applied 0009_execution_events",
    "applied 0010_event_waiting_for",
    *(f"retention of {table}: 30 days" for table in RETAINED),
]


def event(n: int, status: str = "QUEUED", version: int = 1) -> EventRow:
    return EventRow(
        id=f"evt_{n}",
        project_id="tm_1",
        request_id=f"req_{n}",
        source_id="src_1",
        connection_id="web_1",
        destination_id="des_1",
        created_at=CREATED,
        status=status,
        attempts=0,
        last_attempt_at=None,
        response_status=None,
        error_code="",
        version=version,
    )


async def produce(settings: Settings, items: list[tuple[bytes, bytes]]) -> None:
    producer = AsyncProducer(settings)
    topic = topics.name(settings, topics.RECORDS)
    await asyncio.gather(
        *[producer.send(topic, value, key="k", headers=[("kind", kind)]) for kind, value in items]
    )
    producer.close()


def rows(settings: Settings, sql: str) -> list[Any]:
    ch = clickhouse.client(settings, settings.clickhouse_database)
    try:
        return list(ch.query(sql).result_rows)
    finally:
        ch.close()


def run_sink_until(settings: Settings, done: object, timeout: float = 60) -> None:
    assert callable(done)

    async def scenario() -> None:
        sink = Sink(settings)
        task = asyncio.create_task(sink.run(stop))
        deadline = time.monotonic() + timeout
        while not await asyncio.to_thread(done):
            assert time.monotonic() < deadline, "the sink did not insert in time"
            assert not task.done(), task.exception()
            await asyncio.sleep(0.2)
        stop.set()
        await task

    stop = asyncio.Event()
    asyncio.run(scenario())


def test_latest_version_wins_and_replays_are_idempotent(settings: Settings) -> None:
    first = [event(n) for n in range(100)]
    later = [replace(e, status="SUCCESSFUL", version=2) for e in first[:10]]
    batch = [(b"event", orjson.dumps(e)) for e in first + later]
    asyncio.run(produce(settings, batch))

    def count() -> int:
        return int(rows(settings, "SELECT count() FROM events FINAL")[0][0])

    run_sink_until(settings, lambda: count() == 100)
    statuses = dict(rows(settings, "SELECT status, count() FROM events FINAL GROUP BY status"))
    assert statuses == {"QUEUED": 90, "SUCCESSFUL": 10}

    # The same records again (a crash before the commit): the same rows.
    asyncio.run(produce(settings, batch))
    marker = event(999)
    asyncio.run(produce(settings, [(b"event", orjson.dumps(marker))]))
    run_sink_until(settings, lambda: count() == 101)
    statuses = dict(rows(settings, "SELECT status, count() FROM events FINAL GROUP BY status"))
    assert statuses == {"QUEUED": 91, "SUCCESSFUL": 10}


def test_unusable_records_are_dead_lettered_not_dropped(settings: Settings) -> None:
    asyncio.run(
        produce(
            settings,
            [
                (b"event", b"not json"),
                (
                    b"event",
                    orjson.dumps({**orjson.loads(orjson.dumps(event(500))), "attempts": "many"}),
                ),  # ClickHouse refuses this row
                (b"event", orjson.dumps(event(501))),
            ],
        )
    )

    def landed() -> bool:
        return bool(rows(settings, "SELECT count() FROM events WHERE id = 'evt_501'")[0][0])

    run_sink_until(settings, landed)
    assert rows(settings, "SELECT count() FROM events WHERE id = 'evt_500'")[0][0] == 0
    letters = asyncio.run(read_dlq(settings, 2))
    reasons = sorted(str(letter["reason"]) for letter in letters)
    assert reasons == ["clickhouse_refused", "invalid_record"]


def attempt(n: int, event_id: str, status: str, version: int, **event: Any) -> AttemptRow:
    """Attempt ``n`` of ``event_id``; ``event`` sets the event's state after it."""
    fields: dict[str, Any] = {
        "source_id": "src_1",
        "event_created_at": CREATED,
        "event_status": "",
        "next_attempt_at": None,
        **event,
    }
    return AttemptRow(
        id=f"atm_{event_id}_{n}",
        project_id="tm_1",
        event_id=event_id,
        request_id="req_1",
        connection_id="web_1",
        destination_id="des_1",
        created_at=iso_ms(now_ms() + n * 1000),
        attempt_number=n,
        trigger="INITIAL" if n == 1 else "AUTOMATIC",
        status=status,
        response_status=200 if status == "SUCCESSFUL" else 503,
        error_code="" if status == "SUCCESSFUL" else "BAD_RESPONSE",
        response_headers={},
        response_body="",
        duration_ms=5,
        requested_url="http://127.0.0.1/hook",
        http_method="POST",
        version=version,
        **fields,
    )


def test_an_attempt_carries_its_events_new_state_into_events(settings: Settings) -> None:
    """The events_of_attempts view: one attempt record updates its event's row."""
    retry_at = iso_ms(now_ms() + 60_000)
    first = attempt(1, "evt_700", "FAILED", 2, event_status="QUEUED", next_attempt_at=retry_at)
    second = attempt(2, "evt_700", "SUCCESSFUL", 3, event_status="SUCCESSFUL")
    # An attempt without the event's state (a deliverer from before) derives no row.
    bare = attempt(1, "evt_701", "SUCCESSFUL", 2)

    def stored(wanted: int) -> Callable[[], bool]:
        sql = "SELECT count() FROM attempts WHERE id LIKE 'atm_evt_70%'"
        return lambda: rows(settings, sql) == [(wanted,)]

    def event_700() -> tuple[Any, ...]:
        found = rows(
            settings,
            "SELECT status, attempts, source_id, created_at, last_attempt_at, "
            "next_attempt_at, response_status, error_code FROM events FINAL "
            "WHERE id = 'evt_700'",
        )
        assert len(found) == 1
        status, attempts, source, created, last, following, answer, error = found[0]
        times = [
            iso_ms(int(t.timestamp() * 1000)) if t else None for t in (created, last, following)
        ]
        return (status, attempts, source, *times, answer, error)

    queued = replace(event(700), id="evt_700")
    items = [(b"event", orjson.dumps(queued)), (b"attempt", orjson.dumps(first))]
    asyncio.run(produce(settings, items))
    run_sink_until(settings, stored(1))
    assert event_700() == (
        "QUEUED",
        1,
        "src_1",
        CREATED,
        first.created_at,
        retry_at,
        503,
        "BAD_RESPONSE",
    )

    asyncio.run(produce(settings, [(b"attempt", orjson.dumps(a)) for a in (second, bare)]))
    run_sink_until(settings, stored(3))
    assert event_700() == ("SUCCESSFUL", 2, "src_1", CREATED, second.created_at, None, 200, "")
    assert rows(settings, "SELECT count() FROM events WHERE id = 'evt_701'") == [(0,)]


async def read_dlq(settings: Settings, wanted: int) -> list[dict[str, object]]:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topics.name(settings, topics.DLQ),
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    out: list[dict[str, object]] = []
    try:
        async with asyncio.timeout(20):
            async for record in consumer:
                out.append(orjson.loads(record.value))
                if len(out) >= wanted:
                    break
    finally:
        await consumer.stop()
    return out


def test_migrations_go_down_and_up(settings: Settings) -> None:
    other = Settings(
        **{**settings.model_dump(), "clickhouse_database": settings.clickhouse_database + "_m"}
    )
    assert migrate(other) == ALL_UP
    assert migrate(other) == []
    assert migrate(other, target=1) == [
        "reverted 0010_event_waiting_for",
        "reverted 0009_execution_events",
        "reverted 0008_attempt_outcomes",
        "reverted 0007_attempts_hourly",
        "reverted 0006_id_lookups",
        "reverted 0005_event_payloads",
        "reverted 0004_transformation_executions",
        "reverted 0003_ignored_events",
        "reverted 0002_event_next_attempt",
    ]
    assert migrate(other, target=0) == ["reverted 0001_core_tables"]
    system = clickhouse.client(settings, "system")
    remaining = system.command(
        "SELECT count() FROM tables WHERE database = {db:String} AND name = 'events'",
        parameters={"db": other.clickhouse_database},
    )
    system.close()
    assert remaining == 0
    assert migrate(other) == ALL_UP


def test_retention_is_a_ttl_set_by_a_setting(settings: Settings) -> None:
    other = Settings(
        **{**settings.model_dump(), "clickhouse_database": settings.clickhouse_database + "_t"}
    )
    migrate(other)
    week = Settings(**{**other.model_dump(), "clickhouse_retention_days": 7})
    assert migrate(week) == [f"retention of {table}: 7 days" for table in RETAINED]
    assert migrate(week) == []  # unchanged: no ALTER, no rewrite of the parts
    system = clickhouse.client(settings, "system")
    engines = system.query(
        "SELECT name, engine_full FROM tables WHERE database = {db:String}",
        parameters={"db": other.clickhouse_database},
    ).result_rows
    ttl = {name: "toIntervalDay(7)" in engine for name, engine in engines}
    assert all(ttl[table] for table in RETAINED)
    forever = Settings(**{**other.model_dump(), "clickhouse_retention_days": 0})
    assert migrate(forever) == [f"retention of {table}: forever" for table in RETAINED]
    engines = system.query(
        "SELECT engine_full FROM tables WHERE database = {db:String} AND name = 'events'",
        parameters={"db": other.clickhouse_database},
    ).result_rows
    system.close()
    assert "TTL" not in engines[0][0]


def test_executions_gain_their_event_id_column_and_lose_it_going_down(
    settings: Settings,
) -> None:
    """Migration 0009: runs stored before it read as having made no event."""
    other = Settings(
        **{**settings.model_dump(), "clickhouse_database": settings.clickhouse_database + "_x"}
    )
    migrate(other, target=8)
    ch = clickhouse.client(other, other.clickhouse_database)
    row = {
        "id": "exe_before",
        "project_id": "tm_1",
        "transformation_id": "trs_1",
        "connection_id": "web_1",
        "request_id": "req_1",
        "status": "SUCCESSFUL",
        "error": "",
        "logs": "[]",
        "duration_ms": 1,
        "created_at": datetime.now(UTC),
        "version": 1,
    }
    ch.insert("transformation_executions", [list(row.values())], column_names=list(row))

    def columns() -> list[str]:
        described = ch.query(
            f"DESCRIBE TABLE {other.clickhouse_database}.transformation_executions"
        )
        return [str(r[0]) for r in described.result_rows]

    assert "event_id" not in columns()
    assert migrate(other, target=9) == ["applied 0009_execution_events"]
    assert ch.command("SELECT event_id = '' FROM transformation_executions") == 1
    after = {**row, "id": "exe_after", "event_id": "evt_1"}
    ch.insert("transformation_executions", [list(after.values())], column_names=list(after))
    assert ch.command("SELECT event_id FROM transformation_executions WHERE id = 'exe_after'") == (
        "evt_1"
    )
    assert migrate(other, target=8) == ["reverted 0009_execution_events"]
    assert "event_id" not in columns()
    ch.close()
