"""A producer's full local queue is backpressure, not a failure: one request with many
connections, or a burst of them, makes the router wait for acknowledgements instead of
stopping (it stopped on librdkafka's 100,000 queued records before)."""

from __future__ import annotations

import asyncio

import pytest

from hookhouse.common import kafka, topics
from hookhouse.common.kafka import AsyncProducer, LocalQueueFull
from hookhouse.common.settings import Settings

pytestmark = pytest.mark.integration


def test_a_full_local_queue_makes_room_as_the_broker_acknowledges(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kafka, "QUEUE_MESSAGES", 50)
    topic = topics.name(settings, topics.RECORDS)

    async def main() -> None:
        producer = AsyncProducer(settings)
        try:
            group = producer.group()
            with pytest.raises(LocalQueueFull):
                for n in range(1_000):
                    group.send(topic, b"%d" % n, b"k")
            await producer.drained()  # some were acknowledged: there is room again
            await producer.room(40)
            for n in range(40):
                group.send(topic, b"after %d" % n, b"k")
            await group.acked()
        finally:
            await asyncio.to_thread(producer.close)

    asyncio.run(main())
