"""Paused connections: their deliveries wait on the ``held`` topic until unpause.

The router writes a paused connection's deliveries (already transformed) to ``held``,
keyed by connection id, so each connection's records keep their order in one
partition.  The releaser reads ``held`` in passes.  A pass starts when a connection is
unpaused or enabled (seen in the config log), when this process starts, and when it
gets partitions it did not have; it reads every partition from its oldest record not
yet released up to the end it had when the pass began:

- a record of a connection that is no longer paused (nor disabled) goes to
  ``deliveries`` with trigger UNPAUSE (one with an ordering key to its lane on
  ``ordered``, key and sequence kept), and its event is recorded as QUEUED again;
- a record of a connection still paused or disabled stays where it is: the committed
  offset cannot pass it, and the next pass reads it again (records released after it
  are remembered, so they are not released twice — unless the process restarts, then
  they are, with the same event id and idempotency key: at least once);
- a record of a deleted connection goes to the dead-letter topic.

Records never move, so each connection's records are released in their original
order.  Past its end, a partition waits for the next pass.  A connection held longer
than the topic's retention (30 days) loses what it held for longer than that.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import replace
from typing import Any

import orjson
from confluent_kafka import Message as Record

from hookhouse.common import topics
from hookhouse.common.clock import now_ms
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.consumer import IDLE_WAIT_SECONDS, AsyncConsumer, position, send_dead_letter
from hookhouse.common.domain.ordering import sent_to
from hookhouse.common.domain.records import Delivery, EventRow
from hookhouse.common.kafka import AsyncProducer
from hookhouse.common.settings import Settings

log = logging.getLogger(__name__)

GROUP = topics.RELEASER_GROUP
FOREVER = math.inf


class Releaser:
    def __init__(self, settings: Settings, config: ConfigLog, producer: AsyncProducer) -> None:
        self.settings = settings
        self.config = config
        self.producer = producer
        self.held = topics.name(settings, topics.HELD)
        self.pass_wanted = asyncio.Event()

    def paused_ids(self) -> set[str]:
        return {
            c["id"]
            for c in self.config.state.resources["connection"].values()
            if c.get("paused_at") or c.get("disabled_at")
        }

    async def watch(self, stop: asyncio.Event) -> None:
        """Ask for a pass when a connection leaves the paused (or disabled) set."""
        before = self.paused_ids()
        while not stop.is_set():
            await asyncio.sleep(0.5)
            now = self.paused_ids()
            if before - now:
                self.pass_wanted.set()
            before = now

    async def run(self, stop: asyncio.Event) -> None:
        # Fetches as the hops do: idle, one per kafka_fetch_wait_ms; after an unpause's
        # rewind, answered at the first record.
        consumer = await AsyncConsumer.joining(self.settings, GROUP, [self.held])
        watcher = asyncio.create_task(self.watch(stop))
        ends: dict[tuple[str, int], int] = {}
        released: set[tuple[str, int, int]] = set()  # beyond the committed offsets
        try:
            while not stop.is_set():
                if self.pass_wanted.is_set():
                    self.pass_wanted.clear()
                    ends = await consumer.ends()
                    await consumer.rewind()
                batch = await consumer.consume(500, IDLE_WAIT_SECONDS)
                pending: list[tuple[Record, list[asyncio.Future[Any]]]] = []
                stopped: set[tuple[str, int]] = set()
                for msg in batch:
                    topic, partition, offset = position(msg)
                    if (topic, partition) in stopped:
                        continue
                    if (topic, partition) not in ends:
                        self.pass_wanted.set()  # assigned since the last pass began
                    if offset >= ends.get((topic, partition), 0):
                        stopped.add((topic, partition))
                        await consumer.hold(msg, FOREVER)
                    elif (topic, partition, offset) in released:
                        consumer.done(msg)
                    else:
                        acks = self.handle(msg)
                        if acks is not None:
                            pending.append((msg, acks))
                for msg, acks in pending:
                    await asyncio.gather(*acks)
                    consumer.done(msg)
                    released.add(position(msg))
                if pending or batch:
                    committed = {  # as the broker confirmed them (the consumer commits)
                        tp: tracked.committed or 0
                        for tp, tracked in consumer.tracker.partitions.items()
                    }
                    released = {r for r in released if r[2] >= committed.get(r[:2], 0)}
        finally:
            watcher.cancel()
            await consumer.close()

    def handle(self, msg: Record) -> list[asyncio.Future[Any]] | None:
        """Send what one held record causes now (the futures resolve on the acks), or
        ``None`` while its connection is still paused."""
        dlq = topics.name(self.settings, topics.DLQ)
        try:
            delivery = Delivery.from_dict(orjson.loads(msg.value() or b""))
        except (orjson.JSONDecodeError, TypeError) as exc:
            return [
                send_dead_letter(
                    self.producer, dlq, "releaser", "invalid_held", msg, {"message": str(exc)}
                )
            ]
        connection = self.config.state.get("connection", delivery.connection_id)
        if connection is None:
            return [send_dead_letter(self.producer, dlq, "releaser", "connection_deleted", msg)]
        if connection.get("paused_at") or connection.get("disabled_at"):
            return None
        released = replace(delivery, trigger="UNPAUSE")
        event = EventRow.of(delivery, "QUEUED", now_ms())
        topic, key = sent_to(released)
        return [
            self.producer.send(topics.name(self.settings, topic), released.to_json(), key=key),
            self.producer.send(
                topics.name(self.settings, topics.RECORDS),
                orjson.dumps(event),
                key=event.id,
                headers=[("kind", event.kind)],
            ),
        ]
