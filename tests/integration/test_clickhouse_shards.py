"""Two embedded ClickHouse servers as two shards of one cluster (the layout of
``HOOKHOUSE_CLICKHOUSE_CLUSTER``): migrations both ways, the sink writing through the
Distributed tables to both shards, the query API giving the same answers as one
server for the same records, and a shard that stops and comes back losing nothing.

The shards listen on ports 28201-28202 (HTTP) and 28211-28212 (native); the single
server compared with is the suite's shared one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from confluent_kafka import Consumer, TopicPartition

from hookhouse.common import clickhouse, metrics, topics
from hookhouse.common.clickhouse import migrate
from hookhouse.common.clickhouse_layout import SHARDING_KEYS
from hookhouse.common.domain.times import iso_ms
from hookhouse.common.kafka import ensure_topics
from hookhouse.common.settings import Settings
from tests.api_client import Tenants, ok, refused, running_api
from tests.integration.test_api import measured_attempt, request_row
from tests.integration.test_sink import ALL_UP, produce, run_sink_until
from tests.stack import EmbeddedShards, isolated_settings

pytestmark = pytest.mark.integration

PORTS = [(28201, 28211), (28202, 28212)]
# Two hours ago, on the minute: inside the tables' retention and a fixed metrics window.
START = (datetime.now(UTC) - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
WINDOW = {
    "date_range[gte]": iso_ms(int((START - timedelta(hours=1)).timestamp() * 1000)),
    "date_range[lte]": iso_ms(int((START + timedelta(hours=2)).timestamp() * 1000)),
}


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory, infra: None) -> Iterator[EmbeddedShards]:
    running = EmbeddedShards(tmp_path_factory.mktemp("shards"), PORTS)
    running.start()
    yield running
    running.stop()


def on_cluster(shards: EmbeddedShards, **overrides: Any) -> Settings:
    return isolated_settings(
        clickhouse_url=shards.urls[0],
        clickhouse_cluster=EmbeddedShards.CLUSTER,
        clickhouse_shard_urls=",".join(shards.urls),
        **overrides,
    )


def local_count(shards: EmbeddedShards, settings: Settings, table: str) -> list[int]:
    """Rows of ``table`` on each shard (its local table, every version)."""
    counts = []
    for url in shards.urls:
        ch = clickhouse.client(settings, settings.clickhouse_database, url_text=url)
        counts.append(int(ch.query(f"SELECT count() FROM {table}_local").result_rows[0][0]))  # noqa: S608
        ch.close()
    return counts


def test_migrations_go_up_and_down_on_every_shard(shards: EmbeddedShards) -> None:
    settings = on_cluster(shards)
    assert migrate(settings) == ALL_UP
    assert migrate(settings) == []
    tables = {
        url: tables_of(settings, url) for url in shards.urls
    }  # the same on both shards: local tables, Distributed ones, the two views
    first = tables[shards.urls[0]]
    assert first == tables[shards.urls[1]]
    assert {f"{t}_local" for t in SHARDING_KEYS} <= set(first)
    assert first["events"] == "Distributed" and first["events_local"] == "ReplacingMergeTree"
    assert first["events_of_attempts"] == "MaterializedView"
    applied = [line for line in ALL_UP if line.startswith("applied")]
    assert len(migrate(settings, target=0)) == len(applied)
    assert all(
        set(tables_of(settings, url)) == {"schema_migrations", "schema_migrations_local"}
        for url in shards.urls
    )
    assert migrate(settings)[: len(applied)] == applied


def tables_of(settings: Settings, url: str) -> dict[str, str]:
    ch = clickhouse.client(settings, "system", url_text=url)
    found = ch.query(
        "SELECT name, engine FROM tables WHERE database = {db:String}",
        parameters={"db": settings.clickhouse_database},
    ).result_rows
    ch.close()
    return {name: engine for name, engine in found}


def records(project: str, first: int, count: int) -> list[tuple[bytes, bytes]]:
    """Per request: the request, its event (queued, then sent twice: at least once),
    and one attempt that finishes the event (every fourth fails)."""
    out = []
    for n in range(first, first + count):
        when = START + timedelta(minutes=n)
        at = iso_ms(int(when.timestamp() * 1000))
        body = orjson.dumps({"n": n, "colour": "blue" if n % 2 else "green"})
        cause = "" if n % 5 else "VERIFICATION_FAILED"
        request = request_row(project, f"req_{n}", "src_s", when, body, rejection_cause=cause)
        event = {
            "id": f"evt_{n}",
            "project_id": project,
            "request_id": f"req_{n}",
            "source_id": "src_s",
            "connection_id": "web_s",
            "destination_id": f"des_{n % 3}",
            "created_at": at,
            "status": "QUEUED",
            "attempts": 0,
            "last_attempt_at": None,
            "response_status": None,
            "error_code": "",
            "version": 1,
        }
        failed = n % 4 == 0
        attempt = {
            **measured_attempt(project, n, 0, not failed, 10 + n, f"des_{n % 3}"),
            "id": f"atm_{n}",
            "event_id": f"evt_{n}",
            "request_id": f"req_{n}",
            "connection_id": "web_s",
            "created_at": when,
            # the event after it: the events_of_attempts view writes it into events
            "source_id": "src_s",
            "event_created_at": when,
            "event_status": "FAILED" if failed else "SUCCESSFUL",
            "next_attempt_at": None,
            "version": 2,
        }
        out += [
            (b"request", orjson.dumps(request)),
            (b"event", orjson.dumps(event)),
            (b"event", orjson.dumps(event)),
            (b"attempt", orjson.dumps(attempt)),
        ]
    return out


def stored(settings: Settings, wanted: int) -> bool:
    ch = clickhouse.client(settings, settings.clickhouse_database)
    try:
        counts = [
            int(ch.query(f"SELECT count() FROM {table} FINAL").result_rows[0][0])  # noqa: S608
            for table in ("requests", "events", "attempts")
        ]
    finally:
        ch.close()
    return counts == [wanted] * 3


def project_id(tenants: Tenants) -> str:
    found = tenants.log.state.find("project", "", "project-a")
    assert found is not None
    return str(found["id"])


def answers(tenants: Tenants) -> dict[str, Any]:
    """What the query API says about the project's records, ids and all."""
    a = tenants.a

    def listed(path: str, **params: str) -> list[tuple[str, Any]]:
        page = ok(a.get(path, params={"limit": "250", **params}))
        return [(m["id"], m.get("status")) for m in page["models"]]

    def measured(kind: str, measures: list[str], granularity: str) -> list[Any]:
        params = [*WINDOW.items(), ("granularity", granularity)]
        params += [("measures", m) for m in measures]
        found = ok(a.get(f"/metrics/{kind}", params=params))
        return [(b["time_bucket"], b["metrics"]) for b in found]

    return {
        "requests": listed("/requests"),
        "rejected": listed("/requests", status="rejected"),
        "events": listed("/events"),
        "failed": listed("/events", status="FAILED"),
        "searched": listed("/events", search_term="blue"),  # IN over two Distributed tables
        "attempts": listed("/attempts"),
        "request metrics": measured("requests", ["count", "rejected_count"], "30m"),
        "event metrics": measured("events", ["count", "failed_count", "avg_attempts"], "1h"),
        # whole hours come from the hourly rollup, the edges from the attempts
        "attempt metrics": measured(
            "attempts", ["count", "error_rate", "response_latency_max"], "1h"
        ),
    }


def sink_through(settings: Settings, project: str, first: int, count: int, total: int) -> None:
    asyncio.run(produce(settings, records(project, first, count)))
    run_sink_until(settings, lambda: stored(settings, total))


def test_two_shards_answer_what_one_server_answers(shards: EmbeddedShards) -> None:
    cluster, single = on_cluster(shards), isolated_settings()
    found = {}
    for settings in (cluster, single):
        ensure_topics(settings)
        migrate(settings)
        with running_api(settings) as tenants:
            sink_through(settings, project_id(tenants), 0, 40, 40)
            found[settings.clickhouse_url] = answers(tenants)
            # Another project sees none of it, on whichever shard it lies.
            for path in ("/requests", "/events", "/attempts"):
                assert ok(tenants.b.get(path))["models"] == []
            refused(tenants.b.get("/events/evt_1"), 404, "NOT_FOUND")
    on_two, on_one = found.values()
    assert len(on_two["requests"]) == 40 and len(on_two["searched"]) == 20
    assert len(on_two["failed"]) == 10 and len(on_two["rejected"]) == 8
    assert all(on_two[kind] for kind in ("request metrics", "event metrics", "attempt metrics"))
    assert on_two == on_one
    for table in ("requests", "events", "attempts"):
        first, second = local_count(shards, cluster, table)
        assert first > 0 and second > 0, f"{table} did not spread: {first}, {second}"


def dead_letters(settings: Settings) -> int:
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": "probe"})
    try:
        partitions = consumer.list_topics(topics.name(settings, topics.DLQ), timeout=10)
        topic = next(iter(partitions.topics.values()))
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic.topic, p), timeout=10)[1]
            for p in topic.partitions
        )
    finally:
        consumer.close()


def test_a_shard_down_holds_the_sink_back_and_nothing_is_lost(shards: EmbeddedShards) -> None:
    settings = on_cluster(shards, sink_batch_seconds=0.2)
    ensure_topics(settings)
    migrate(settings)
    sink_through(settings, "tm_down", 0, 20, 20)
    failures = metrics.SINK_INSERT_FAILURES._value.get()
    shards.stop(2)
    try:
        asyncio.run(produce(settings, records("tm_down", 20, 30)))

        def restart_once_refused() -> bool:
            # The sink tried, ClickHouse refused (a shard is away): bring it back.
            if 2 not in shards.processes and metrics.SINK_INSERT_FAILURES._value.get() > failures:
                shards.start(2)
            return stored(settings, 50) if 2 in shards.processes else False

        run_sink_until(settings, restart_once_refused, timeout=120)
    finally:
        if 2 not in shards.processes:
            shards.start(2)
    assert dead_letters(settings) == 0
    assert sum(local_count(shards, settings, "requests")) >= 50  # retries may repeat rows
