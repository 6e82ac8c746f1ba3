"""The API's one Kafka producer: what a handler produces (a retry's records, a mute's
event row, an issue notice) goes through it to this deployment's topics.

It is made when the app starts, on the server's loop, which its sends resolve on.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hookhouse.common import topics
from hookhouse.common.domain.routing import Output
from hookhouse.common.kafka import AsyncProducer
from hookhouse.common.settings import Settings


class Producer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._producer: AsyncProducer | None = None

    def start(self) -> None:
        """Make the producer, on the running loop."""
        self._producer = AsyncProducer(self.settings)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()

    @property
    def started(self) -> AsyncProducer:
        if self._producer is None:
            raise RuntimeError("the API's producer is made when the app starts")
        return self._producer

    def send(self, out: Output) -> asyncio.Future[Any]:
        """Produce a record the router's functions made; resolves on the broker's ack
        (a full local queue raises ``KafkaUnavailable`` at once, as ``AsyncProducer``)."""
        return self.started.send(
            topics.name(self.settings, out.topic), out.value, out.key, out.headers
        )

    def send_to(self, topic: str, value: bytes, key: str) -> asyncio.Future[Any]:
        """Produce ``value`` to the topic ``topic`` names (``topics.DELIVERIES``…)."""
        return self.started.send(topics.name(self.settings, topic), value, key)
