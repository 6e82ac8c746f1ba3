"""Kafka client factories, the asyncio producer, and topic creation.

The producer follows the classic confluent-kafka pattern (KAFKA-NOTES A): one
``Producer``, a thread that serves delivery reports with ``poll``, and delivery
callbacks that resolve asyncio futures through ``call_soon_threadsafe``.  A future
resolves only when the broker acknowledged the record (``acks=all``, idempotent).

librdkafka's own log lines (a refused connection, an idempotent producer waiting for
its PID) are records of the ``hookhouse.librdkafka`` logger, at the syslog level's
Python level (error → ERROR, warning → WARNING, notice and info → INFO), so a service
formats them as its other logs.  confluent-kafka queues them for the client's
``poll``, ``consume`` or ``flush``, whichever thread calls it; a client that is never
polled hands them over with :func:`serve_logs` after each use.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

# Not re-exported by confluent_kafka.admin for type checkers; these are its own modules.
from confluent_kafka.admin._config import AlterConfigOpType, ConfigEntry, ConfigResource
from confluent_kafka.admin._resource import ResourceType
from confluent_kafka.cimpl import NewTopic

from hookhouse.common import topics
from hookhouse.common.domain.limits import RECORD_MAX_BYTES
from hookhouse.common.settings import Settings
from hookhouse.common.traffic import KAFKA_TRAFFIC, STATISTICS_EVERY_MS

log = logging.getLogger(__name__)
LIBRDKAFKA_LOG = logging.getLogger("hookhouse.librdkafka")


class KafkaUnavailable(Exception):
    """The broker did not acknowledge in time, or the local queue is full."""


class LocalQueueFull(KafkaUnavailable):
    """The producer's local queue (``QUEUE_MESSAGES``, or its bytes) is full: wait for
    acknowledgements to make room (:meth:`AsyncProducer.drained`), or give up."""


# librdkafka's bound on records waiting in a producer (its default, said explicitly: the
# router waits for room below it, see AsyncProducer.room).
QUEUE_MESSAGES = 100_000


class RecordTooLarge(ValueError):
    """The record is larger than ``RECORD_MAX_BYTES``: refused before it was queued.
    Not the broker's fault but the record's; the caller dead-letters what caused it."""


def client_config(settings: Settings) -> dict[str, Any]:
    """Connection settings shared by every confluent-kafka client."""
    conf: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap,
        "security.protocol": settings.kafka_security_protocol,
        "client.id": "hookhouse",
        "logger": LIBRDKAFKA_LOG,
    }
    if settings.kafka_sasl_mechanism:
        conf["sasl.mechanism"] = settings.kafka_sasl_mechanism
        conf["sasl.username"] = settings.kafka_sasl_username
        conf["sasl.password"] = settings.kafka_sasl_password.get_secret_value()
    return conf


def serve_logs(client: AdminClient | Consumer) -> None:
    """Log what librdkafka queued for ``client``, an admin client or a consumer with no
    partitions (nothing else serves their queue; a consumer with partitions would hand
    over a record here)."""
    client.poll(0)


def producer_config(
    settings: Settings, timeout: float | None = None, linger_ms: float | None = None
) -> dict[str, Any]:
    """``timeout``: seconds before an unacknowledged record fails (default: ingest's);
    ``linger_ms``: how long records gather into a batch (default: the setting's)."""
    return {
        **client_config(settings),
        "enable.idempotence": True,  # implies acks=all
        "linger.ms": settings.kafka_linger_ms if linger_ms is None else linger_ms,
        "compression.type": settings.kafka_compression,
        "message.timeout.ms": int((timeout or settings.produce_timeout_seconds) * 1000),
        "message.max.bytes": RECORD_MAX_BYTES,
        "queue.buffering.max.messages": QUEUE_MESSAGES,
    }


def consumer_config(
    settings: Settings, group: str, fetch_wait_ms: int | None = None, bulk: bool = False
) -> dict[str, Any]:
    """``fetch_wait_ms``: how long the broker may hold a fetch to gather records — the
    latency a record can wait, and (idle) one fetch per that many ms per consumer.  By
    default a consumer is a hop on a webhook's way (router, deliverer) and takes the
    ``kafka_fetch_wait_ms`` and ``kafka_fetch_min_bytes`` settings; one given its own
    wait gathers 64 KiB per fetch.

    ``bulk``: a reader that takes records as fast as they come and seldom pauses (the
    sink).  Its prefetch queue (one for all its partitions) is librdkafka's 64 MiB,
    filled by 1 MiB partition fetches, which reads many times faster than the others'
    16 MiB queue with 16 MiB fetches.  The others keep the small queue: they pause
    partitions when their work is full, and a pause drops what the queue holds, so the
    large queue made the deliverer slower, not faster.
    """
    on_the_way = fetch_wait_ms is None
    static = {"group.instance.id": settings.instance_id} if settings.instance_id else {}
    return {
        **client_config(settings),
        "group.id": topics.group(settings, group),
        # Classic groups with static members, not KIP-848's protocol: there the broker
        # alone sets the session (45 s by default) and a killed static member's name
        # stays taken until it ends, so its restart would wait as long (docs/kafka.md).
        "group.protocol": "classic",
        **static,
        "session.timeout.ms": settings.kafka_session_timeout_ms,
        "heartbeat.interval.ms": max(settings.kafka_session_timeout_ms // 3, 100),
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "partition.assignment.strategy": "cooperative-sticky",
        "fetch.max.bytes": 32 * 1024 * 1024,
        # Let the broker gather records for a while per fetch instead of answering
        # every fetch with whatever single record just arrived (broker CPU).
        "fetch.min.bytes": settings.kafka_fetch_min_bytes if on_the_way else 64 * 1024,
        "fetch.wait.max.ms": settings.kafka_fetch_wait_ms if on_the_way else fetch_wait_ms,
        "max.partition.fetch.bytes": (1 if bulk else 16) * 1024 * 1024,
        "queued.max.messages.kbytes": (64 if bulk else 16) * 1024,
    }


# How long the poll thread of an idle producer waits for an event (in C: the client
# looks for signals every 200 ms of a wait).
PRODUCER_POLL_SECONDS = 0.5
# How an eager send keeps librdkafka flushing (linger.ms counted as 0): in slices of
# EAGER_FLUSH_SECONDS, the acknowledgements served in each handed over after it, until
# everything queued is acknowledged or EAGER_FLUSH_MOST_SECONDS passed.  librdkafka skips
# the linger only if its broker thread runs while a flush lasts, and a record for a
# topic the producer has not sent to yet waits for the topic's metadata first: a single
# 10 ms flush missed both now and then on a busy machine, and the record lingered.
EAGER_FLUSH_SECONDS = 0.01
EAGER_FLUSH_MOST_SECONDS = 0.1


class Pace:
    """Records counted by second: is a producer's rate below ``limit`` a second?"""

    __slots__ = ("last", "limit", "second", "this")

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.second = 0
        self.this = self.last = 0  # records in this second and in the one before

    def light(self, now: float) -> bool:
        """Count one record sent at ``now`` (seconds): whether this second and the last
        stayed below the limit."""
        second = int(now)
        if second != self.second:
            self.last = self.this if second == self.second + 1 else 0
            self.second, self.this = second, 0
        self.this += 1
        return max(self.this, self.last) < self.limit


class AsyncProducer:
    """An idempotent producer whose ``send`` resolves on the broker's acknowledgement."""

    def __init__(
        self,
        settings: Settings,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout: float | None = None,
        linger_ms: float | None = None,
        eager_below: float = 0.0,
    ) -> None:
        """``eager_below``: while this producer sends fewer records a second, each is
        sent at once instead of lingering ``linger.ms`` for others (0: never)."""
        self._producer = Producer(
            {
                **producer_config(settings, timeout, linger_ms),
                # Served by the poll thread (a producer nobody polls would pile them up).
                "statistics.interval.ms": STATISTICS_EVERY_MS,
                "stats_cb": KAFKA_TRAFFIC.report_json,
            }
        )
        self._timeout = timeout or settings.produce_timeout_seconds
        # Sends by deadline (all share one timeout, so this is in deadline order).  An
        # idempotent producer may hold an in-flight record far past message.timeout.ms
        # when the broker stops answering; the poll thread fails it at its deadline, so
        # every send resolves in bounded time without an asyncio timer per record.
        self._deadlines: collections.deque[tuple[float, asyncio.Future[Any]]] = collections.deque()
        self._loop = loop or asyncio.get_running_loop()
        self._closing = threading.Event()
        # Acknowledgements reach the loop in batches: one wake-up per poll() instead of
        # one per record (a self-pipe write each, a large share of the router's time).
        self._acks: collections.deque[tuple[asyncio.Future[Any] | SendGroup, Any, Any]] = (
            collections.deque()
        )
        self._handed_over = False
        self._poller = threading.Thread(target=self._poll, name="kafka-producer-poll", daemon=True)
        self._poller.start()
        # Eager sending: the rate it is for, and the flusher (asked by :meth:`hurry` too).
        self._pace = Pace(eager_below) if eager_below > 0 else None
        self._send_now = threading.Event()
        self._hurried: asyncio.Future[Any] | None = None  # what the latest hurry waits for
        threading.Thread(target=self._flush_when_asked, name="kafka-flush", daemon=True).start()

    def _flush_when_asked(self) -> None:
        """What is queued goes now.  librdkafka counts linger.ms as 0 while a flush()
        lasts; these last until everything queued is acknowledged (an eager send: the
        load is light) or what :meth:`hurry` waits for is, at most
        EAGER_FLUSH_MOST_SECONDS, serving the acknowledgements that come meanwhile
        (handed over here, after each slice)."""
        while True:
            self._send_now.wait()
            if self._closing.is_set():
                return
            self._send_now.clear()
            until = time.monotonic() + EAGER_FLUSH_MOST_SECONDS
            while time.monotonic() < until:
                try:  # it runs librdkafka's callbacks too: one that raises must not end it
                    queued = self._producer.flush(EAGER_FLUSH_SECONDS)
                except Exception:
                    log.exception("an eager flush failed")
                    queued = 1
                self._hand_over()
                hurried = self._hurried
                if not queued or (hurried is not None and hurried.done()):
                    break

    def hurry(self, waiting: asyncio.Future[Any]) -> None:
        """Send what is queued now instead of after ``linger.ms``, until ``waiting``
        (a record's or a group's future) is done: somebody waits for it.  Whatever
        else is queued meanwhile goes at once too, so the caller bounds how often it
        asks."""
        self._hurried = waiting
        self._send_now.set()

    def _poll(self) -> None:
        while not self._closing.is_set():
            # poll() returns as soon as it served an acknowledgement (confluent-kafka
            # 2.16.1, pinned; 2.13-2.15 waited the whole timeout): the wait only bounds
            # how late a deadline fails, and how often an idle producer wakes.
            self._producer.poll(PRODUCER_POLL_SECONDS)
            self._expire(time.monotonic())
            self._hand_over()

    def _expire(self, now: float) -> None:
        pending = self._deadlines
        while pending and (pending[0][1].done() or pending[0][0] <= now):
            deadline, future = pending.popleft()
            if deadline <= now and not future.done():
                timed_out = KafkaError(
                    KafkaError._MSG_TIMED_OUT, f"not acknowledged within {self._timeout:g} s"
                )
                self._acks.append((future, timed_out, None))

    def _hand_over(self) -> None:
        """Called after librdkafka ran delivery callbacks: settle them on the loop."""
        if self._acks and not self._handed_over:
            self._handed_over = True
            with contextlib.suppress(RuntimeError):  # the loop is closed: shutting down
                self._loop.call_soon_threadsafe(self._settle_all)

    def _settle_all(self) -> None:
        self._handed_over = False
        while self._acks:
            target, err, msg = self._acks.popleft()
            if isinstance(target, SendGroup):
                target.settle(err)
            else:
                _settle(target, err, msg)

    def send(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | str | None = None,
        headers: list[tuple[str, str | bytes | None]] | None = None,
        partition: int = -1,
    ) -> asyncio.Future[Message]:
        """Queue a record (to ``partition``, or the key's by default); the returned
        future resolves when the broker acked it.

        Raises :class:`KafkaUnavailable` at once when the local queue is full.
        """
        future: asyncio.Future[Message] = self._loop.create_future()
        acks = self._acks

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            acks.append((future, err, msg))  # on the poll thread, inside poll()

        self._produce(topic, value, key, headers, partition, on_delivery)
        self._time_out(future)
        return future

    def _time_out(self, future: asyncio.Future[Any]) -> None:
        """Fail ``future`` if it is still pending when the producer's timeout has passed."""
        self._deadlines.append((time.monotonic() + self._timeout, future))

    def group(self) -> SendGroup:
        """Records sent together and awaited together (see :class:`SendGroup`)."""
        return SendGroup(self, self._loop.create_future())

    def _produce(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | str | None,
        headers: list[tuple[str, str | bytes | None]] | None,
        partition: int,
        on_delivery: Callable[[KafkaError | None, Message], None],
    ) -> None:
        try:
            self._producer.produce(
                topic,
                value=value,
                key=key,
                headers=headers,
                partition=partition,
                on_delivery=on_delivery,
            )
        except BufferError as exc:
            raise LocalQueueFull("the producer's local queue is full") from exc
        except KafkaException as exc:
            if exc.args[0].code() == KafkaError.MSG_SIZE_TOO_LARGE:
                raise RecordTooLarge(
                    f"a record for {topic} is larger than {RECORD_MAX_BYTES} bytes"
                ) from exc
            raise
        if self._pace is not None and self._pace.light(time.monotonic()):
            self._send_now.set()  # at a light rate, it goes at once

    async def room(self, records: int) -> None:
        """Wait until the local queue can take ``records`` more (acknowledgements make
        room); :class:`KafkaUnavailable` when it does not drain within the timeout."""
        most = max(0, QUEUE_MESSAGES - records)
        await self._wait_until(lambda: len(self._producer) <= most)

    async def drained(self) -> None:
        """Wait until some queued records were acknowledged (after LocalQueueFull)."""
        queued = len(self._producer)
        await self._wait_until(lambda: len(self._producer) < queued or not queued)

    async def _wait_until(self, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self._timeout
        while not done():
            if time.monotonic() > deadline:
                raise KafkaUnavailable(
                    f"the producer's local queue did not drain within {self._timeout:g} s"
                )
            await asyncio.sleep(0.002)

    def flush(self, timeout: float = 10.0) -> int:
        remaining: int = self._producer.flush(timeout)
        self._hand_over()
        return remaining

    def close(self, timeout: float = 10.0) -> None:
        remaining = self.flush(timeout)
        if remaining:
            log.error("%d records were not acknowledged before shutdown", remaining)
        self._closing.set()
        self._send_now.set()  # the flusher ends
        self._poller.join(timeout=2)


T_co = TypeVar("T_co", covariant=True)


class Sender(Protocol[T_co]):
    """What records are sent through: an :class:`AsyncProducer` (``send`` gives the
    record's future) or a :class:`SendGroup` (the group's future covers it)."""

    def send(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | str | None = None,
        headers: list[tuple[str, str | bytes | None]] | None = None,
        partition: int = -1,
    ) -> T_co: ...


class SendGroup:
    """Many records, one future: it resolves once the broker acknowledged every record
    sent through the group before :meth:`acked` was called, and fails at the first
    record that fails (or when the producer's timeout passes).  Cheaper than a future
    per record for a caller that waits for all of them anyway (the router's batches).
    """

    __slots__ = ("_on_delivery", "_producer", "future", "sealed", "unacked")

    def __init__(self, producer: AsyncProducer, future: asyncio.Future[None]) -> None:
        self.future = future
        self.unacked = 0
        self.sealed = False
        self._producer = producer
        acks = producer._acks

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            acks.append((self, err, None))  # on the poll thread, inside poll()

        self._on_delivery = on_delivery

    def send(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | str | None = None,
        headers: list[tuple[str, str | bytes | None]] | None = None,
        partition: int = -1,
    ) -> None:
        """Queue a record, as :meth:`AsyncProducer.send`; its ack joins the group's."""
        self._producer._produce(topic, value, key, headers, partition, self._on_delivery)
        self.unacked += 1

    def acked(self) -> asyncio.Future[None]:
        """Close the group; the future resolves when all its records are acknowledged."""
        self.sealed = True
        if not self.unacked:
            if not self.future.done():
                self.future.set_result(None)
        else:  # the timeout counts from here: a group may be open for a while, idle
            self._producer._time_out(self.future)
        return self.future

    def settle(self, err: KafkaError | None) -> None:
        """One record's acknowledgement (on the loop)."""
        if self.future.done():
            return
        if err is not None:
            self.future.set_exception(KafkaUnavailable(str(err)))
            return
        self.unacked -= 1
        if self.sealed and not self.unacked:
            self.future.set_result(None)


def _settle(future: asyncio.Future[Message], err: KafkaError | None, msg: Message) -> None:
    if future.done():  # the waiter gave up (HTTP client went away, or timed out)
        return
    if err is not None:
        future.set_exception(KafkaUnavailable(str(err)))
    else:
        future.set_result(msg)


def ensure_topics(settings: Settings, timeout: float = 30.0) -> list[str]:
    """Create every missing hookhouse topic; return the names created."""
    admin = AdminClient(client_config(settings))
    try:
        return _create_missing(admin, settings, timeout)
    finally:
        serve_logs(admin)


# Each request's own bound, and how long a broker that cannot say what a group
# committed is asked again before the service gives up starting.
ADOPT_REQUEST_SECONDS = 5.0
ADOPT_SECONDS = 30.0
# What the broker answers a commit from outside a group that has members.
MEMBERS_ONLY = (KafkaError.UNKNOWN_MEMBER_ID, KafkaError.ILLEGAL_GENERATION)


def adopt_offsets(settings: Settings, logical: str, timeout: float = ADOPT_SECONDS) -> None:
    """Before a service joins consumer group ``logical``: a stack with its own topic
    prefix, upgraded from a release whose groups were not prefixed (``topics.group``),
    starts its group from what the old group had committed on this stack's topics,
    instead of from the oldest record (which would route and deliver everything kept
    again).  Only while the new group has committed nothing: once it has, it is its
    own.  Only this stack's topics: the old group may have served other stacks too.

    A broker that cannot answer (a coordinator loading or away) is asked again; after
    ``timeout`` the service does not start (RuntimeError) rather than guess."""
    group = topics.group(settings, logical)
    if group == logical:
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            _adopt(settings, group, logical, ADOPT_REQUEST_SECONDS)
            return
        except KafkaException as exc:
            if time.monotonic() > deadline:
                message = f"the offsets of group {group} are not known: {exc}"
                raise RuntimeError(message) from exc
            log.warning("offsets of group %s not known yet (asked again): %s", group, exc)
            time.sleep(1.0)


def _adopt(settings: Settings, group: str, logical: str, timeout: float) -> None:
    # Plain consumers that never join (nor disturb the old group): their OffsetFetch and
    # OffsetCommit find the coordinator as the services' consumers do (the admin
    # client's lookup, on a broker still loading its offsets topic, now and then never
    # answered).
    answers: list[KafkaError | None] = []
    new = _plain_consumer(settings, group, lambda err, _: answers.append(err))
    try:
        listed = new.list_topics(timeout=timeout).topics
        ours = {spec.name for spec in topics.specs(settings)} & set(listed)
        partitions = [TopicPartition(n, p) for n in sorted(ours) for p in listed[n].partitions]
        if not partitions or _committed(new, partitions, timeout):
            return
        old = _plain_consumer(settings, logical)
        try:
            carried = _committed(old, partitions, timeout)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.GROUP_AUTHORIZATION_FAILED:
                raise
            carried = []  # a stack that may not read it never used it
        finally:
            serve_logs(old)
            old.close()
        if not carried:
            return
        new.commit(offsets=carried, asynchronous=True)
        deadline = time.monotonic() + timeout
        while not answers and time.monotonic() < deadline:
            new.poll(0.1)  # serves the commit's answer (on_commit)
        if not answers:
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT, "the commit was not answered"))
        if answers[0] is not None:
            if answers[0].code() in MEMBERS_ONLY:
                # A process of this stack joined first: the group is its own already.
                log.warning("group %s has members already; its offsets are its own", group)
                return
            raise KafkaException(answers[0])
        log.info("group %s starts from the %d offsets of %s", group, len(carried), logical)
    finally:
        serve_logs(new)
        new.close()


def _plain_consumer(
    settings: Settings,
    group: str,
    on_commit: Callable[[KafkaError | None, list[TopicPartition]], None] | None = None,
) -> Consumer:
    config = {**client_config(settings), "group.id": group, "enable.auto.commit": False}
    return Consumer({**config, "on_commit": on_commit} if on_commit else config)


def _committed(
    consumer: Consumer, partitions: list[TopicPartition], timeout: float
) -> list[TopicPartition]:
    """The offsets ``consumer``'s group committed on ``partitions``; KafkaException
    when the broker cannot say."""
    found = consumer.committed(partitions, timeout=timeout)
    for tp in found:
        if tp.error is not None:
            raise KafkaException(tp.error)
    return [TopicPartition(tp.topic, tp.partition, tp.offset) for tp in found if tp.offset >= 0]


def _create_missing(admin: AdminClient, settings: Settings, timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            existing = set(admin.list_topics(timeout=5).topics)
            break
        except KafkaException:
            serve_logs(admin)  # why the broker does not answer, as it happens
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    specs = topics.specs(settings)
    _raise_message_limits(admin, [spec for spec in specs if spec.name in existing], timeout)
    wanted = [spec for spec in specs if spec.name not in existing]
    if not wanted:
        return []
    futures = admin.create_topics(
        [
            NewTopic(
                spec.name,
                num_partitions=spec.partitions,
                replication_factor=settings.replication_factor,
                config=spec.config,
            )
            for spec in wanted
        ],
        request_timeout=timeout,
    )
    created = []
    for name, fut in futures.items():
        try:
            fut.result()
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return created


def _raise_message_limits(
    admin: AdminClient, specs: list[topics.TopicSpec], timeout: float
) -> None:
    """Topics made by an older hookhouse take smaller records than this one sends
    (``common/domain/limits.py``): raise their ``max.message.bytes``, never lower it."""
    if not specs:
        return
    limit = "max.message.bytes"
    described = admin.describe_configs(
        [ConfigResource(ResourceType.TOPIC, spec.name) for spec in specs],
        request_timeout=timeout,
    )
    wanted = {spec.name: spec.config[limit] for spec in specs}
    low = []
    for resource, future in described.items():
        entry = future.result(timeout).get(limit)
        if entry is None or int(entry.value) < int(wanted[resource.name]):
            low.append(
                ConfigResource(
                    ResourceType.TOPIC,
                    resource.name,
                    incremental_configs=[
                        ConfigEntry(
                            limit,
                            wanted[resource.name],
                            incremental_operation=AlterConfigOpType.SET,
                        )
                    ],
                )
            )
    for resource, future in admin.incremental_alter_configs(low).items() if low else ():
        future.result(timeout)
        log.info("raised %s of %s to %s", limit, resource.name, wanted[resource.name])


class KafkaProbe:
    """Answers "does the cluster answer a metadata request?" for readiness checks, and
    with ``brokers``, "have that many brokers registered?" (before creating topics
    replicated to all of them)."""

    def __init__(self, settings: Settings, brokers: int = 1) -> None:
        self._admin = AdminClient(client_config(settings))
        self._brokers = brokers

    def __call__(self, timeout: float = 2.0) -> bool:
        try:
            return len(self._admin.list_topics(timeout=timeout).brokers) >= self._brokers
        except KafkaException:
            return False
        finally:
            serve_logs(self._admin)
