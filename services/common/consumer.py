"""An asyncio face for a confluent-kafka consumer in a consumer group.

Every call to the underlying ``Consumer`` runs on one dedicated thread, so the
client is never used from two threads at once and the event loop never blocks on it.
The owner keeps polling while partitions are paused (KAFKA-NOTES C): ``poll`` on a
paused consumer returns nothing but keeps the group membership alive.

Two kinds of pause: ``pause()``/``resume()`` of every partition (in-flight work is at
its bound), and ``hold(msg, until)`` of one partition whose head record is not due
yet — paused, sought back to that record, and resumed by ``release_due()``.

Commits are the consumer's alone.  A service says when a record's outcome is durable
(``done``); the consumer commits the contiguous prefix of what is done (``offsets.py``)
every ``commit_every_seconds`` without waiting for the answer, whatever the service is
doing meanwhile, and counts a position committed only once the broker confirms it.  A
refused commit is logged and its position asked again at the next one; a revoke and the
close commit whatever is not confirmed yet, and wait.

``membership`` says where the consumer stands in its group (``membership.py``), from
librdkafka's statistics every second, for the service's ``/readyz``.  A fatal error
(another process took this one's ``instance_id``) stops the consumer: it raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import orjson
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka import Message as Record

from hookhouse.common import metrics
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.records import DeadLetter
from hookhouse.common.kafka import Sender, adopt_offsets, consumer_config
from hookhouse.common.membership import JOINING, Membership, membership
from hookhouse.common.offsets import OffsetTracker
from hookhouse.common.settings import Settings
from hookhouse.common.traffic import KAFKA_TRAFFIC, STATISTICS_EVERY_MS

log = logging.getLogger(__name__)
T = TypeVar("T")

COMMIT_EVERY_SECONDS = 0.5
# How long a reader with nothing in hand waits in ``consume``.  The wait ends at the
# first record, so it adds no latency; it sets how often an idle service wakes (and how
# late it notices a stop).  A reader with work in hand waits less: between reads it
# seals, releases and ticks.
IDLE_WAIT_SECONDS = 1.0


def fatal(error: KafkaError) -> bool:
    """A fatal error of librdkafka's: the consumer can read no more.  After one (a
    static member fenced when its group's coordinator moved, say), poll returns an
    error of code _FATAL whose own fatal flag is not set: a consumer that took it for
    a passing one read nothing for ever, and its service did not stop to be restarted
    (seen in the cluster failover test)."""
    return bool(error.fatal()) or error.code() == KafkaError._FATAL


def position(msg: Record) -> tuple[str, int, int]:
    """Topic, partition and offset of a consumed record (never missing for those)."""
    topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
    if topic is None or partition is None or offset is None:
        raise ValueError("not a consumed record")
    return topic, partition, offset


def dead_letter(
    stage: str, reason: str, msg: Record, details: dict[str, Any] | None = None
) -> DeadLetter:
    """The ``dlq`` record for a consumed record that ``stage`` gives up on."""
    return DeadLetter.of(
        stage, reason, position(msg), msg.key(), msg.value(), details, now_ms=now_ms()
    )


def send_dead_letter(
    sender: Sender[T],
    topic: str,
    stage: str,
    reason: str,
    msg: Record,
    details: dict[str, Any] | None = None,
) -> T:
    """Count and produce the ``dlq`` record for ``msg``; returns what ``sender.send``
    does (through a producer: the future that resolves on the ack)."""
    metrics.DEAD_LETTERS.labels(stage, reason).inc()
    letter = dead_letter(stage, reason, msg, details)
    return sender.send(topic, letter.to_json(), key=letter.key)


def membership_of(consumer: AsyncConsumer | None) -> Membership:
    """``consumer``'s place in its group; joining while there is no consumer yet."""
    return consumer.membership if consumer is not None else JOINING


class AsyncConsumer:
    def __init__(
        self,
        settings: Settings,
        group: str,
        topics: list[str],
        fetch_wait_ms: int | None = None,
        bulk: bool = False,
        on_assign: Callable[[list[TopicPartition]], None] | None = None,
        commit_every_seconds: float = COMMIT_EVERY_SECONDS,
        before_revoke: Callable[[], None] | None = None,
        on_drop: Callable[[list[TopicPartition]], None] | None = None,
    ) -> None:
        """``on_assign`` runs on the consumer's thread when partitions are assigned,
        before any of their records is returned (the router restores state there);
        ``before_revoke`` when partitions are taken away (or at the close), before what
        is done is committed (the router lets its records in flight be acknowledged);
        ``on_drop`` after partitions were revoked or lost (the deliverer forgets their
        lanes), on the consumer's thread too."""
        self.tracker = OffsetTracker()
        self.commit_every_seconds = commit_every_seconds
        self._committer: asyncio.Task[None] | None = None  # started by the first consume
        self._on_assign_hook = on_assign
        self._before_revoke = before_revoke
        self._on_drop = on_drop
        self.paused = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"kafka-{group}")
        self.membership: Membership = JOINING
        self._consumer = Consumer(
            {
                **consumer_config(settings, group, fetch_wait_ms, bulk),
                "on_commit": self._answered,
                "statistics.interval.ms": STATISTICS_EVERY_MS,
                "stats_cb": self._statistics,
            }
        )
        self._assigned: set[tuple[str, int]] = set()
        self._held: dict[tuple[str, int], float] = {}  # partition -> resume at (time.time)
        self._consumer.subscribe(
            topics, on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )

    @classmethod
    async def joining(
        cls, settings: Settings, group: str, topics: list[str], **options: Any
    ) -> AsyncConsumer:
        """A service's consumer: its group first takes over the offsets that the group
        of a release before per-stack groups committed (``kafka.adopt_offsets``, up to
        ``ADOPT_SECONDS`` off the loop), then the consumer joins it; ``options`` as for
        the constructor."""
        await asyncio.to_thread(adopt_offsets, settings, group)
        return cls(settings, group, topics, **options)

    def _statistics(self, report: str) -> None:
        """librdkafka's statistics (on the consumer's thread, inside a poll)."""
        try:
            stats = orjson.loads(report)
        except orjson.JSONDecodeError:
            log.warning("unreadable consumer statistics")
            return
        self.membership = membership(stats)
        KAFKA_TRAFFIC.report(stats)

    # Rebalance callbacks run on the consumer thread, inside consume().
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self._on_assign_hook is not None and partitions:
            self._on_assign_hook(partitions)
        self._assigned |= {(tp.topic, tp.partition) for tp in partitions}
        if self.paused and partitions:
            consumer.pause(partitions)
        log.info("assigned %s", sorted(f"{tp.topic}[{tp.partition}]" for tp in partitions))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Commit what is complete, then forget the partitions: records still in flight
        # for them will be delivered again by their new owner (at least once).
        if self._before_revoke is not None and partitions:
            self._before_revoke()
        self._commit_now(consumer)
        self._drop(partitions)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._drop(partitions)

    def _drop(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self._assigned.discard((tp.topic, tp.partition))
            self._held.pop((tp.topic, tp.partition), None)
            self.tracker.forget(tp.topic, tp.partition)
        if self._on_drop is not None and partitions:
            self._on_drop(partitions)

    def _commit_now(self, consumer: Consumer) -> None:
        """Commit what is done and not confirmed yet, and wait for the broker (a revoke,
        the close)."""
        positions = self.tracker.committable(unconfirmed=True)
        if not positions:
            return
        offsets = [TopicPartition(t, p, o) for (t, p), o in positions.items()]
        try:
            answered = consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            log.warning("offset commit failed (asked again at the next): %s", exc)
            return
        for tp in answered or []:
            self.tracker.answer(tp.topic, tp.partition, tp.offset, tp.error is None)

    def _commit_soon(self, positions: dict[tuple[str, int], int]) -> None:
        """Send a commit of ``positions``; the broker's answer comes to ``_answered``."""
        offsets = [TopicPartition(t, p, o) for (t, p), o in positions.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=True)
        except KafkaException as exc:
            log.warning("offset commit failed (asked again at the next): %s", exc)
            for (topic, partition), offset in positions.items():
                self.tracker.answer(topic, partition, offset, ok=False)

    def _answered(self, error: KafkaError | None, partitions: list[TopicPartition]) -> None:
        """librdkafka's answer to a commit that did not wait (on the consumer's thread,
        inside a poll)."""
        if error is not None:
            log.warning("offset commit failed (asked again at the next): %s", error)
        for tp in partitions:
            ok = error is None and tp.error is None
            if tp.error is not None:
                log.warning("offset commit of %s[%d] failed: %s", tp.topic, tp.partition, tp.error)
            self.tracker.answer(tp.topic, tp.partition, tp.offset, ok)

    async def _commit_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.commit_every_seconds)
            positions = self.tracker.committable()
            if positions:
                self.tracker.ask(positions)
                await self._call(self._commit_soon, positions)

    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _ready(self, max_messages: int, wait_seconds: float) -> list[Record]:
        # consume(n, t) waits until it has n records or t passed; instead wait only
        # for the first record, then take whatever else is already fetched.
        first = self._consumer.poll(wait_seconds)
        if first is None:
            return []
        if max_messages <= 1:
            return [first]
        return [first, *self._consumer.consume(max_messages - 1, 0)]

    async def consume(self, max_messages: int, wait_seconds: float) -> list[Record]:
        """Up to ``max_messages`` records, as soon as there is one (or ``wait_seconds``).

        Each record returned is registered as in flight.
        """
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_periodically())
        messages: list[Record] = await self._call(self._ready, max_messages, wait_seconds)
        out = []
        take = self.tracker.take
        for msg in messages:
            error = msg.error()
            if error:
                if fatal(error):
                    raise KafkaException(error)
                log.warning("consumer: %s", error)
                continue
            # Consumed records always have all three (position() checks, at a cost).
            topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
            if (topic, partition) in self._held:
                continue  # fetched before the hold; it is read again after the seek
            take(topic, partition, offset)  # type: ignore[arg-type]
            out.append(msg)
        return out

    def next_release(self) -> float | None:
        """When the first held partition is due to be read again (``time.time()``)."""
        return min(self._held.values(), default=None)

    async def hold(self, msg: Record, until: float) -> None:
        """Stop reading ``msg``'s partition until ``until`` and read again from ``msg``."""
        topic, partition, offset = position(msg)
        self._held[(topic, partition)] = until
        self.tracker.untake_from(topic, partition, offset)
        await self._call(self._hold, TopicPartition(topic, partition, offset))

    def _hold(self, tp: TopicPartition) -> None:
        # Pause first, then seek: a seek right before a pause can be lost (arroyo's note).
        self._consumer.pause([tp])
        self._consumer.seek(tp)

    async def release_due(self, now: float) -> None:
        due = [tp for tp, until in self._held.items() if until <= now]
        for tp in due:
            del self._held[tp]
        if due and not self.paused:
            await self._call(self._consumer.resume, [TopicPartition(t, p) for t, p in due])

    async def rewind(self) -> None:
        """Release every hold and read again from the oldest record not done yet.

        For a reader that leaves some records undone on purpose (the releaser leaves
        those of still-paused connections) and comes back to them later.
        """
        targets = {
            tp: min(tracked.pending)
            for tp, tracked in self.tracker.partitions.items()
            if tracked.pending and tp in self._assigned
        }
        for (topic, partition), offset in targets.items():
            self.tracker.untake_from(topic, partition, offset)
        self._held.clear()
        await self._call(self._rewind, targets)

    def _rewind(self, targets: dict[tuple[str, int], int]) -> None:
        everything = [TopicPartition(t, p) for t, p in self._assigned]
        self._consumer.pause(everything)
        for (topic, partition), offset in targets.items():
            self._consumer.seek(TopicPartition(topic, partition, offset))
        if not self.paused:
            self._consumer.resume(everything)

    async def ends(self) -> dict[tuple[str, int], int]:
        """The end offset (next to be written) of every assigned partition, right now."""
        return dict(await self._call(self._ends))

    def _ends(self) -> dict[tuple[str, int], int]:
        out = {}
        for topic, partition in list(self._assigned):
            _, high = self._consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=10, cached=False
            )
            out[(topic, partition)] = int(high)
        return out

    def done(self, msg: Record) -> None:
        """The outcome of ``msg`` is durable; its offset may now be committed."""
        self.tracker.done(*position(msg))

    def done_all(self, messages: list[Record]) -> None:
        """:meth:`done` for a whole batch of consumed records."""
        done = self.tracker.done
        for msg in messages:
            done(msg.topic(), msg.partition(), msg.offset())  # type: ignore[arg-type]

    async def pause(self) -> None:
        if not self.paused:
            self.paused = True
            await self._call(self._set_paused, True)

    async def resume(self) -> None:
        if self.paused:
            self.paused = False
            await self._call(self._set_paused, False)

    def _set_paused(self, paused: bool) -> None:
        partitions = [TopicPartition(t, p) for t, p in self._assigned if (t, p) not in self._held]
        if not partitions:
            return
        if paused:
            self._consumer.pause(partitions)
        else:
            self._consumer.resume(partitions)

    async def close(self) -> None:
        if self._committer is not None:
            self._committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._committer
        await self._call(self._commit_now, self._consumer)
        await self._call(self._consumer.close)
        self._executor.shutdown(wait=True)
