"""Three brokers: topics replicated three times with two in sync, and a broker lost
mid-stream (SIGKILL) loses no acknowledged record and stops neither producing nor
consuming; clients whose first bootstrap broker is down still connect."""

from __future__ import annotations

import asyncio
import time

import pytest
from confluent_kafka import (
    Consumer,
    KafkaException,
    Message,
    TopicCollection,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource
from confluent_kafka.admin._resource import ResourceType

from hookhouse.common import topics
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.kafka import (
    AsyncProducer,
    KafkaProbe,
    client_config,
    consumer_config,
    ensure_topics,
)
from hookhouse.common.settings import Settings
from tests.stack import KafkaCluster

pytestmark = pytest.mark.integration

RECORDS = 40  # before the kill, and as many after


@pytest.fixture(scope="module")
def cluster(kafka_cluster: KafkaCluster) -> KafkaCluster:
    """The cluster with hookhouse's topics, and the brokers' group offsets topic made
    while all three run (it is created at a group's first use, replicated as set)."""
    settings = kafka_cluster.settings
    ensure_topics(settings)
    consumer = Consumer(consumer_config(settings, "warm-up"))
    first = TopicPartition(topics.name(settings, topics.REQUESTS), 0, 0)
    deadline = time.monotonic() + 90
    while True:  # until the group's coordinator, on that topic, answers
        try:
            consumer.commit(offsets=[first], asynchronous=False)
            break
        except KafkaException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    consumer.close()
    return kafka_cluster


def test_topics_are_replicated_three_times_with_two_in_sync(cluster: KafkaCluster) -> None:
    settings = cluster.settings
    names = [spec.name for spec in topics.specs(settings)]
    admin = AdminClient(client_config(settings))
    described = admin.describe_topics(TopicCollection([*names, "__consumer_offsets"]))
    for name, future in described.items():
        for partition in future.result(30).partitions:
            assert len(partition.replicas) == 3, (name, partition.id)
    configs = admin.describe_configs([ConfigResource(ResourceType.TOPIC, n) for n in names])
    for resource, future in configs.items():
        assert future.result(30)["min.insync.replicas"].value == "2", resource.name


def test_a_killed_broker_loses_no_acknowledged_record(cluster: KafkaCluster) -> None:
    settings = cluster.settings
    topic = topics.name(settings, topics.REQUESTS)
    admin = AdminClient(client_config(settings))
    leaders = admin.list_topics(topic, timeout=30).topics[topic].partitions
    victim = leaders[0].leader  # a partition's leader, so its leadership must move
    reader = Consumer(consumer_config(settings, "reader"))
    reader.subscribe([topic])

    assert asyncio.run(produce(settings, "before")) == RECORDS
    assert sorted(read(reader, RECORDS)) == sorted(values("before"))
    cluster.kill(victim)
    assert asyncio.run(produce(settings, "after")) == RECORDS  # acks=all, 2 of 3 in sync
    assert sorted(read(reader, RECORDS)) == sorted(values("after"))
    reader.close()

    survivors = [cluster.address(n) for n in (1, 2, 3) if n != victim]
    dead_first = Settings(
        **{
            **settings.model_dump(),
            "kafka_bootstrap": ",".join([cluster.address(victim), *survivors]),
        }
    )
    assert KafkaProbe(dead_first, brokers=2)(10.0)
    fresh = Consumer(consumer_config(dead_first, "fresh"))
    fresh.subscribe([topic])
    assert sorted(read(fresh, 2 * RECORDS)) == sorted(values("before") + values("after"))
    fresh.close()
    config = ConfigLog(dead_first)
    config.start()
    try:
        assert config.wait_ready(60)
    finally:
        config.stop()


def values(tag: str) -> list[bytes]:
    return [f"{tag}-{n}".encode() for n in range(RECORDS)]


async def produce(settings: Settings, tag: str) -> int:
    """Send RECORDS records over every partition; how many the brokers acknowledged.
    The wait covers the controllers noticing a lost broker and electing new leaders."""
    producer = AsyncProducer(settings, timeout=90)
    try:
        topic = topics.name(settings, topics.REQUESTS)
        sent = [producer.send(topic, value, key=str(n)) for n, value in enumerate(values(tag))]
        acked = await asyncio.gather(*sent)
        return len(acked)
    finally:
        producer.close()


def read(consumer: Consumer, count: int, timeout: float = 90) -> list[bytes]:
    """The next ``count`` values, committed once read."""
    got: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        message: Message | None = consumer.poll(1.0)
        if message is None or message.error() is not None:
            continue
        got.append(message.value() or b"")
        consumer.commit(message=message, asynchronous=False)
    return got
