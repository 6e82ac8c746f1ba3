"""The router's deduplication memory against the real broker: what one process
remembers, the next restores from the ``dedup`` topic; expired entries do not return;
``dedup`` keeps as many partitions as ``requests``."""

from __future__ import annotations

import asyncio

import pytest
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewPartitions

from hookhouse.common import topics
from hookhouse.common.compacted import match_partitions
from hookhouse.common.kafka import AsyncProducer, client_config, ensure_topics
from hookhouse.common.settings import Settings
from hookhouse.router.dedup import DedupMemory
from tests.e2e.running import wait_for
from tests.stack import isolated_settings

pytestmark = pytest.mark.integration


def test_a_restarted_router_remembers_what_it_saw_per_partition(settings: Settings) -> None:
    async def first_life() -> None:
        memory = DedupMemory(settings)
        producer = AsyncProducer(settings)
        sends = producer.group()
        assert not memory.seen_in(sends, 0, "req_1")("web_a", "k1", 600_000)
        # within the window, another request: a duplicate
        assert memory.seen_in(sends, 0, "req_2")("web_a", "k1", 600_000)
        assert not memory.seen_in(sends, 0, "req_3")("web_a", "short", 1)
        assert not memory.seen_in(sends, 1, "req_4")("web_b", "k2", 600_000)
        await sends.acked()  # the router awaits these before committing
        await asyncio.sleep(0.01)
        assert memory.expire(producer) == 1  # "short" expired: forgotten and tombstoned
        await asyncio.to_thread(producer.flush)
        producer.close()

    asyncio.run(first_life())
    dedup = topics.name(settings, topics.DEDUP)

    # A new process assigned partition 0 only: what partition 0 remembered, nothing else.
    later = DedupMemory(settings)
    later.restore([TopicPartition(topics.name(settings, topics.REQUESTS), 0)])
    later.apply_restored()
    assert set(later.entries) == {b"web_a:k1"}

    async def second_life() -> None:
        producer = AsyncProducer(settings)
        sends = producer.group()
        assert later.seen_in(sends, 0, "req_5")("web_a", "k1", 600_000)
        # req_1 read again (its offset was not committed): routed again, not a duplicate
        assert not later.seen_in(sends, 0, "req_1")("web_a", "k1", 600_000)
        assert not later.seen_in(sends, 0, "req_6")("web_a", "short", 600_000)
        await sends.acked()
        producer.close()

    asyncio.run(second_life())
    # Partition 1 arrives later: its entries join, partition 0's stay.
    later.restore([TopicPartition(dedup, 1)])
    later.apply_restored()
    assert set(later.entries) == {b"web_a:k1", b"web_a:short", b"web_b:k2"}


def test_dedup_grows_to_as_many_partitions_as_requests(infra: None) -> None:
    settings = isolated_settings()
    ensure_topics(settings)
    admin = AdminClient(client_config(settings))
    requests = topics.name(settings, topics.REQUESTS)
    admin.create_partitions([NewPartitions(requests, 3)])[requests].result(timeout=30)
    dedup = topics.name(settings, topics.DEDUP)

    def partitions(topic: str) -> int:
        return len(admin.list_topics(topic, timeout=10).topics[topic].partitions)

    wait_for(lambda: partitions(requests) == 3, timeout=30, every=0.2)  # metadata catches up
    match_partitions(settings, topics.REQUESTS, topics.DEDUP)
    wait_for(lambda: partitions(dedup) == 3, timeout=30, every=0.2)
    match_partitions(settings, topics.REQUESTS, topics.DEDUP)  # already matching: nothing to do
    assert partitions(dedup) == 3
