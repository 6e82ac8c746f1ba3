"""The router's batches against the real broker.  Its rows for ClickHouse go through a
producer that gathers them (``router_records_linger_ms``), so a batch's deliveries are
acknowledged long before its rows: its offsets must be committed only after both, and
a revoke must wait for them, so that the next owner of the partitions does not route
(and deliver) them again."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from hookhouse.common import kafka, topics
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.domain.records import InboundRequest, b64
from hookhouse.common.kafka import client_config, consumer_config, ensure_topics
from hookhouse.common.settings import Settings
from hookhouse.router.app import GROUP, Router
from tests.e2e.running import topic_records, topic_values, wait_for
from tests.stack import isolated_settings

pytestmark = pytest.mark.integration

# The rows' producer: long enough to look at a batch in between, however slow the machine
# (past the setting's bound of 1 s, so set without validation).
LINGER_MS = 5000
REQUESTS = 20


@pytest.fixture
def routed() -> Iterator[tuple[Settings, list[int]]]:
    """A router running (in a thread of its own) over 20 requests of a source with one
    connection; yields its settings and the end offset of each partition of
    ``requests``."""
    settings = isolated_settings().model_copy(update={"router_records_linger_ms": LINGER_MS})
    with router_over(settings, 1, []):
        yield settings, [REQUESTS // 2, REQUESTS // 2]


@contextlib.contextmanager
def router_over(
    settings: Settings,
    connections: int,
    rules: list[Any],
    fields: list[dict[str, Any]] | None = None,
) -> Iterator[None]:
    """A router running (in a thread of its own) over 20 requests of a source with
    ``connections`` connections with ``rules`` (connection ``n``: and ``fields[n]``)."""
    ensure_topics(settings)
    config = ConfigLog(settings)
    config.start()
    assert config.wait_ready(30)
    config.put("source", "src_p", {"id": "src_p", "project_id": "tm_p", "name": "p"})
    config.put(
        "destination",
        "des_p",
        {"id": "des_p", "project_id": "tm_p", "name": "d", "url": "http://127.0.0.1:9/"},
    )
    for n in range(connections):
        connection: dict[str, Any] = {"project_id": "tm_p", "source_id": "src_p"}
        connection |= {
            "destination_id": "des_p",
            "id": f"web_{n}",
            "rules": rules,
            **(fields[n] if fields else {}),
        }
        config.put("connection", f"web_{n}", connection)
    config.stop()
    post(settings, "first")
    router = Router(settings)
    loop = asyncio.new_event_loop()
    task = loop.create_task(router.run())
    thread = threading.Thread(target=loop.run_until_complete, args=(task,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(router.stop.set)
        thread.join(60)
        loop.close()


def post(settings: Settings, tag: str) -> None:
    """``REQUESTS`` requests of source ``src_p`` on ``requests``, half on each partition."""
    sample = InboundRequest(
        id="req_0",
        project_id="tm_p",
        source_id="src_p",
        received_at="2026-12-06T00:00:00.000Z",
        method="POST",
        path="",
        query="",
        headers={"content-type": "application/json"},
        body=b64(b'{"n":1}'),
    )
    producer = Producer(client_config(settings))
    requests = topics.name(settings, topics.REQUESTS)
    for n in range(REQUESTS):
        value = replace(sample, id=f"req_{tag}_{n}", body=b64(b'{"n":%d}' % n)).to_json()
        producer.produce(requests, value=value, key=f"{tag}{n}", partition=n % 2)
    assert producer.flush(30) == 0


def committed(settings: Settings) -> list[int]:
    consumer = Consumer({**client_config(settings), "group.id": topics.group(settings, GROUP)})
    try:
        requests = topics.name(settings, topics.REQUESTS)
        found = consumer.committed([TopicPartition(requests, p) for p in (0, 1)], timeout=10)
        return [max(tp.offset, 0) for tp in found]
    finally:
        consumer.close()


def count(settings: Settings, topic: str) -> int:
    consumer = Consumer({**client_config(settings), "group.id": f"count-{time.time_ns()}"})
    try:
        name = topics.name(settings, topic)
        meta = consumer.list_topics(name, timeout=10).topics[name]
        total = 0
        for p in meta.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(name, p), timeout=10)
            total += high - low
        return total
    finally:
        consumer.close()


def test_offsets_wait_for_the_rows_and_a_revoke_waits_for_them_too(
    infra: None, routed: tuple[Settings, list[int]]
) -> None:
    settings, ends = routed
    # The deliveries are acknowledged at once; the rows linger 5 s.
    wait_for(lambda: count(settings, topics.DELIVERIES) == REQUESTS, timeout=30, every=0.05)
    assert count(settings, topics.RECORDS) == 0
    assert committed(settings) == [0, 0]  # not before the rows are acknowledged too
    wait_for(lambda: count(settings, topics.RECORDS) == 2 * REQUESTS, timeout=30, every=0.05)
    wait_for(lambda: committed(settings) == ends, timeout=30, every=0.05)

    # 20 more, and a second member joins the group while their rows linger: the revoke
    # waits for them and commits them, so the newcomer reads none of them again.
    post(settings, "more")
    wait_for(lambda: count(settings, topics.DELIVERIES) == 2 * REQUESTS, timeout=30, every=0.05)
    assert committed(settings) == ends  # the new ones' rows still linger

    newcomer = Consumer(consumer_config(settings, GROUP))
    newcomer.subscribe([topics.name(settings, topics.REQUESTS)])
    read_again = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not newcomer.assignment():
            msg = newcomer.poll(0.2)
            if msg is not None and not msg.error():
                read_again.append(msg.offset())
        for _ in range(20):  # whatever it was given, read it to its end
            msg = newcomer.poll(0.2)
            if msg is not None and not msg.error():
                read_again.append(msg.offset())
        assert newcomer.assignment(), "the newcomer was never given a partition"
    finally:
        with contextlib.suppress(Exception):
            newcomer.close()
    assert read_again == []
    assert committed(settings) == [REQUESTS, REQUESTS]


def test_a_request_that_overflows_the_local_queue_sends_each_record_once(
    infra: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """40 connections with deduplication make 121 records a request, past a queue of 30:
    each is sent as room appears, once; no delivery twice, no deduplication mark lost."""
    monkeypatch.setattr(kafka, "QUEUE_MESSAGES", 30)
    settings = isolated_settings(router_records_linger_ms=5)
    with router_over(settings, 40, [{"type": "deduplicate", "window": 600_000}]):
        wait_for(lambda: committed(settings) == [REQUESTS // 2] * 2, timeout=60, every=0.1)
    bootstrap = settings.kafka_bootstrap
    events = Counter(
        d["event_id"] for d in topic_values(bootstrap, topics.name(settings, topics.DELIVERIES))
    )
    assert len(events) == 40 * REQUESTS and set(events.values()) == {1}
    dedup = topics.name(settings, topics.DEDUP)
    marks = set(topic_records(bootstrap, dedup, lambda msg: msg.key()))
    assert len(marks) == 40 * REQUESTS  # one per connection and body
