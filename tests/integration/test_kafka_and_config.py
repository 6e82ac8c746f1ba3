"""The producer, topic creation, the configuration log and the lag gauges against the
real broker."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from confluent_kafka import Consumer, Producer, TopicPartition
from prometheus_client import CollectorRegistry, generate_latest

from hookhouse.common import topics
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.kafka import (
    AsyncProducer,
    KafkaProbe,
    KafkaUnavailable,
    client_config,
    consumer_config,
    ensure_topics,
)
from hookhouse.common.lag import KafkaLag
from hookhouse.common.settings import Settings

pytestmark = pytest.mark.integration


def test_topics_are_created_once(settings: Settings) -> None:
    assert ensure_topics(settings) == []
    assert KafkaProbe(settings)()


def test_send_resolves_on_ack_and_aiokafka_reads_it(settings: Settings) -> None:
    topic = topics.name(settings, topics.REQUESTS)
    payload = uuid.uuid4().hex.encode()

    async def scenario() -> bytes:
        producer = AsyncProducer(settings)
        msg = await asyncio.wait_for(producer.send(topic, payload, key="k"), 10)
        assert msg.error() is None and (msg.offset() or 0) >= 0
        producer.close()
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            async with asyncio.timeout(20):
                async for record in consumer:
                    if record.value == payload:
                        return bytes(record.value)
        finally:
            await consumer.stop()
        raise AssertionError("unreachable")

    assert asyncio.run(scenario()) == payload


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_every_compression_setting_sends_records_the_consumers_read(
    settings: Settings, codec: str
) -> None:
    chosen = settings.model_copy(update={"kafka_compression": codec})
    topic = topics.name(settings, topics.REQUESTS)
    payload = f"{codec} {uuid.uuid4().hex} ".encode() * 50

    async def send() -> tuple[int, int]:
        producer = AsyncProducer(chosen)
        msg = await asyncio.wait_for(producer.send(topic, payload, key=codec), 10)
        producer.close()
        return msg.partition() or 0, msg.offset() or 0

    partition, offset = asyncio.run(send())
    consumer = Consumer(consumer_config(settings, f"codec-{uuid.uuid4().hex}"))
    consumer.assign([TopicPartition(topic, partition, offset)])
    try:
        got = consumer.poll(10)
    finally:
        consumer.close()
    assert got is not None and got.error() is None
    assert got.value() == payload


def test_config_log_reads_its_own_writes_and_others_see_them(settings: Settings) -> None:
    writer, reader = ConfigLog(settings), ConfigLog(settings)
    writer.start()
    reader.start()
    try:
        assert writer.wait_ready(30) and reader.wait_ready(30)
        resource = {"id": "des_x", "project_id": "p", "name": "d", "url": "http://x"}
        writer.append("destination", "des_x", resource)
        assert writer.state.get("destination", "des_x") == resource  # read your writes
        for _ in range(50):
            if reader.state.get("destination", "des_x") == resource:
                break
            time.sleep(0.1)
        assert reader.state.get("destination", "des_x") == resource
        writer.append("destination", "des_x", None)
        assert writer.state.get("destination", "des_x") is None
    finally:
        writer.stop()
        reader.stop()
    late = ConfigLog(settings)  # a process started later replays the whole log
    late.start()
    try:
        assert late.wait_ready(30)
        assert late.state.get("destination", "des_x") is None
    finally:
        late.stop()


def test_lag_retry_tiers_and_dead_letters_are_read_from_the_broker(settings: Settings) -> None:
    dlq, tier = topics.name(settings, topics.DLQ), topics.retry_topic(settings, "1m")
    producer = Producer(client_config(settings))
    for _ in range(3):
        producer.produce(dlq, b"dead", partition=0)
    for _ in range(4):
        producer.produce(tier, b"waiting", partition=0)
    assert producer.flush(10) == 0
    consumer = Consumer(
        {**client_config(settings), "group.id": topics.group(settings, topics.DELIVERER_GROUP)}
    )
    consumer.commit(offsets=[TopicPartition(tier, 0, 1)], asynchronous=False)
    consumer.close()
    registry = CollectorRegistry()
    registry.register(KafkaLag(settings, cache_seconds=0))
    text = generate_latest(registry).decode()
    assert 'hookhouse_retry_tier_depth{tier="1m"} 3.0' in text
    assert (
        'hookhouse_consumer_lag{group="hookhouse-deliverer",partition="0",topic="retry.1m"} 3.0'
        in text
    )
    assert "hookhouse_dlq_depth 3.0" in text
    assert KafkaLag(settings).read().lag.keys() == {(topics.DELIVERER_GROUP, "retry.1m", 0)}


def test_a_send_group_resolves_once_every_record_is_acked(settings: Settings) -> None:
    topic = topics.name(settings, topics.REQUESTS)
    payloads = [uuid.uuid4().hex.encode() for _ in range(3)]

    async def scenario() -> None:
        producer = AsyncProducer(settings)
        empty = producer.group()
        assert empty.acked().done()  # nothing sent: nothing to wait for
        sends = producer.group()
        for payload in payloads:
            sends.send(topic, payload, key="group")
        await asyncio.wait_for(sends.acked(), 10)
        assert sends.unacked == 0
        producer.close()

    asyncio.run(scenario())
    consumer = Consumer({**client_config(settings), "group.id": uuid.uuid4().hex})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(settings.topic_partitions)])
    seen: set[bytes] = set()
    deadline = time.monotonic() + 20
    while not set(payloads) <= seen and time.monotonic() < deadline:
        msg = consumer.poll(1)
        if msg is not None and msg.error() is None:
            seen.add(msg.value() or b"")
    consumer.close()
    assert set(payloads) <= seen


def test_a_send_group_fails_when_the_broker_never_acks() -> None:
    nowhere = Settings(kafka_bootstrap="127.0.0.1:9")  # nothing listens there

    async def scenario() -> None:
        producer = AsyncProducer(nowhere, timeout=0.5)
        sends = producer.group()
        sends.send("anything", b"x")
        with pytest.raises(KafkaUnavailable):
            await asyncio.wait_for(sends.acked(), 10)
        producer.close(timeout=0)

    asyncio.run(scenario())


def test_a_send_group_open_longer_than_the_timeout_still_resolves(settings: Settings) -> None:
    # The deliverer keeps a group open between deliveries, however long it is idle.
    async def scenario() -> None:
        producer = AsyncProducer(settings, timeout=0.5)
        sends = producer.group()
        await asyncio.sleep(1.5)
        sends.send(topics.name(settings, topics.REQUESTS), b"late", key="group")
        await asyncio.wait_for(sends.acked(), 10)
        producer.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("eager_below", [0.0, 1000.0])
def test_an_eager_producer_sends_at_a_light_rate_without_lingering(
    settings: Settings, eager_below: float
) -> None:
    # A linger far longer than the test: only a record sent at once is acknowledged.
    async def scenario() -> bool:
        producer = AsyncProducer(settings, linger_ms=60_000, timeout=120, eager_below=eager_below)
        topic = topics.name(settings, topics.REQUESTS)
        # The topic's partitions known first: until then no record can be sent at all.
        producer.send(topic, b"first", key="eager")
        assert await asyncio.to_thread(producer.flush, 30) == 0
        sent = producer.send(topic, b"light", key="eager")
        done, _ = await asyncio.wait([sent], timeout=5 if not eager_below else 30)
        producer.close(timeout=30)  # a flush: sends what lingers
        return bool(done)

    assert asyncio.run(scenario()) is bool(eager_below)
