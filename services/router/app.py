"""The router: ``requests`` in; ``deliveries``, ``ordered``, ``held``, ``records`` and
``dlq`` out.

One loop reads batches of requests with confluent-kafka (``AsyncConsumer``), routes
them and sends a batch's output records through two ``SendGroup``s: deliveries, held
deliveries, dead letters and dedup marks through a producer that sends at once, the
rows for ClickHouse (``records``) through one that gathers them for
``router_records_linger_ms`` (every small produce request costs the broker about as much
as a large one).  It reads and routes the next batches while acknowledgements arrive
(``UNACKED_REQUESTS`` at most), and marks a batch's offsets done, to be committed, only
once all its records were acknowledged (at least once; KAFKA-NOTES B).  A revoke waits
for the batches in flight first, so the next owner does not route them again.
A failed send stops the process without marking its batch, so the batch is read again
by the next owner of its partitions.  Deduplication memory lives in
``router/dedup.py``; paused connections' deliveries in ``router/release.py``.

Not Faust, which DESIGN names: a Faust agent that takes the same batches and does
nothing cost more CPU per record than all of the routing, so a router on Faust stayed
far behind a raw consume-and-produce passthrough.  Its one service the router used, a
table with a changelog, is ``dedup.py``.
"""

from __future__ import annotations

import asyncio
import binascii
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import orjson
import uvloop
from confluent_kafka import Message as Record

from hookhouse.common import metrics, topics
from hookhouse.common.clock import now_ms
from hookhouse.common.compacted import match_partitions
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.consumer import (
    IDLE_WAIT_SECONDS,
    AsyncConsumer,
    membership_of,
    position,
    send_dead_letter,
)
from hookhouse.common.domain.message import Message, Transformed
from hookhouse.common.domain.records import InboundRequest
from hookhouse.common.domain.routing import (
    Prepared,
    as_received,
    first_transformations,
    outputs,
    oversized,
    route,
    transformer,
)
from hookhouse.common.domain.schemas import first_error
from hookhouse.common.health import Readiness
from hookhouse.common.kafka import (
    AsyncProducer,
    KafkaProbe,
    LocalQueueFull,
    SendGroup,
    ensure_topics,
)
from hookhouse.common.runtime import serve_beside, settle_heap, start
from hookhouse.common.settings import Settings, load
from hookhouse.common.transformations import Limits, Runtime, timed
from hookhouse.router.dedup import DedupMemory
from hookhouse.router.release import Releaser

log = logging.getLogger(__name__)

GROUP = topics.ROUTER_GROUP
BATCH_SIZE = 500
POLL_SECONDS = 0.1  # how long a loop with batches unacknowledged waits for a record
# Consumed requests whose records may wait for acknowledgements at once (memory, and
# what a crash routes again); past it the loop waits for the oldest batches.
UNACKED_REQUESTS = 5_000
# How long a revoke waits for the batches in flight, so that their offsets go with it
# and the next owner of the partitions does not route (and deliver) them again.
REVOKE_WAIT_SECONDS = 5.0
EXPIRE_EVERY_SECONDS = 60.0


class InvalidMessage(Exception):
    """A record on ``requests`` that cannot be routed: dead-letter it."""


def decode(value: bytes | None) -> tuple[InboundRequest, Message]:
    """The request a record carries, and its message as received (body decoded once)."""
    if value is None:
        raise InvalidMessage("empty value")
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise InvalidMessage(f"not JSON: {exc}") from exc
    try:
        problem = first_error(topics.REQUESTS, data)  # schemas/requests/v1.schema.json
    except (ValueError, RecursionError) as exc:  # nested past the validator's recursion
        raise InvalidMessage(f"not a request envelope: {exc}") from exc
    if problem is not None:
        raise InvalidMessage(f"not a request envelope: {problem}")
    try:
        request = InboundRequest.from_dict(data)
        return request, as_received(request)  # as_received validates the base64 body
    except (TypeError, binascii.Error, ValueError) as exc:
        raise InvalidMessage(f"not a request envelope: {exc}") from exc


class Router:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config = ConfigLog(settings)
        self.stop = asyncio.Event()
        self.exit_code = 0
        self.consumer: AsyncConsumer | None = None  # made once the config log is read
        # Batches routed whose records are not all acknowledged yet, and their requests.
        self.unacked: dict[asyncio.Future[Any], int] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.dedup = DedupMemory(settings)
        self.runtime = Runtime(Limits.of(settings))
        self.javascript = ThreadPoolExecutor(max_workers=1, thread_name_prefix="javascript")
        self.dlq = topics.name(settings, topics.DLQ)
        # The transformations that see a batch's requests as received run ahead, in one
        # call per batch (an eval has a fixed cost, whatever it runs): routing finds them.
        self.prepared: Prepared = {}
        run = timed(self.run_code, observe)
        self.transform = transformer(self.config.state, run, observe, self.prepared)

    async def run(self) -> None:
        await asyncio.to_thread(ensure_topics, self.settings)
        await asyncio.to_thread(match_partitions, self.settings, topics.REQUESTS, topics.DEDUP)
        self.config.start()
        # Routing against a half-read configuration would record requests as
        # NO_CONNECTION that do have connections: wait for the whole log.
        while not await asyncio.to_thread(self.config.wait_ready, 5.0):
            log.warning("waiting for the configuration log before routing")
        timeout = self.settings.background_produce_timeout_seconds
        producer = AsyncProducer(
            self.settings, timeout=timeout, eager_below=self.settings.kafka_eager_below
        )
        rows = AsyncProducer(
            self.settings, timeout=timeout, linger_ms=self.settings.router_records_linger_ms
        )
        self.loop = asyncio.get_running_loop()
        consumer = self.consumer = await AsyncConsumer.joining(
            self.settings,
            GROUP,
            [topics.name(self.settings, topics.REQUESTS)],
            on_assign=self.dedup.restore,
            before_revoke=self.settle_before_revoke,
        )
        releaser = asyncio.create_task(
            Releaser(self.settings, self.config, producer).run(self.stop)
        )
        releaser.add_done_callback(self.releaser_ended)
        settle_heap()
        expired_at = time.monotonic()
        # The loop routes while the broker writes; a batch is done when its
        # acknowledgements are all in (``settled``).
        unacked = self.unacked
        try:
            while not self.stop.is_set():
                wait = POLL_SECONDS if unacked else IDLE_WAIT_SECONDS
                batch = await consumer.consume(BATCH_SIZE, wait)
                self.dedup.apply_restored()
                if batch and not self.stop.is_set():
                    acked = await self.route_batch(producer, rows, batch)
                    unacked[acked] = len(batch)
                    acked.add_done_callback(self.settled(batch))
                while sum(unacked.values()) > UNACKED_REQUESTS:
                    await asyncio.wait(list(unacked), return_when=asyncio.FIRST_COMPLETED)
                now = time.monotonic()
                if now - expired_at > EXPIRE_EVERY_SECONDS:
                    self.dedup.expire(producer)
                    expired_at = now
        except Exception:
            log.exception("routing a batch failed; stopping without committing it")
            self.exit_code = 3
        finally:
            self.stop.set()
            await asyncio.wait([releaser])
            # What was acknowledged is committed at the close, whatever ended the loop.
            await self.acknowledged(timeout)
            await consumer.close()
            await asyncio.to_thread(producer.close)
            await asyncio.to_thread(rows.close)
            self.config.stop()
            # Its V8 contexts close on the thread they run on; their threads end with them.
            await asyncio.wrap_future(self.javascript.submit(self.runtime.close))
            self.javascript.shutdown()

    def settled(self, batch: list[Record]) -> Callable[[asyncio.Future[Any]], None]:
        """What to do when ``batch``'s acknowledgements are all in, or one failed."""

        def done(acked: asyncio.Future[Any]) -> None:
            self.unacked.pop(acked, None)
            failure = None if acked.cancelled() else acked.exception()
            if not acked.cancelled() and failure is None and self.consumer is not None:
                try:
                    self.consumer.done_all(batch)
                    return
                except Exception as exc:  # a bug: stop rather than stall the partition
                    failure = exc
            # Never marked done: read again by the next owner (at least once).
            log.error("a routed batch's records were not acknowledged; stopping", exc_info=failure)
            self.exit_code = 3
            self.stop.set()

        return done

    async def acknowledged(self, seconds: float) -> None:
        """Wait (at most ``seconds``) until the batches routed so far are settled."""
        if self.unacked:
            await asyncio.wait(list(self.unacked), timeout=seconds)

    def settle_before_revoke(self) -> None:
        """On the consumer's thread, when partitions are revoked: wait a while for the
        batches in flight, so that their offsets are committed with the revoke.  The
        loop is free meanwhile (it awaits the consumer's thread)."""
        if self.loop is None or not self.unacked or self.loop.is_closed():
            return
        waiting = asyncio.run_coroutine_threadsafe(
            self.acknowledged(REVOKE_WAIT_SECONDS), self.loop
        )
        try:
            waiting.result(REVOKE_WAIT_SECONDS + 1)
        except Exception:  # timed out or the loop is going: commit what is done
            log.warning("batches in flight at a revoke were not all acknowledged")

    def releaser_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("the releaser of held deliveries failed; stopping", exc_info=task.exception())
            self.exit_code = 3
            self.stop.set()

    async def route_batch(
        self, producer: AsyncProducer, rows_producer: AsyncProducer, batch: list[Record]
    ) -> asyncio.Future[Any]:
        """Send everything a batch causes (its rows for ClickHouse through
        ``rows_producer``); the future resolves when all of it is acked."""
        sends, rows = producer.group(), rows_producer.group()
        received = []
        for msg in batch:
            try:
                request, original = decode(msg.value())
            except InvalidMessage as exc:
                self.dead_letter(sends, msg, "invalid_request", str(exc))
                continue
            received.append((msg, request, original))
        state = self.config.state
        if any(not state.connections_of(request.source_id) for _, request, _ in received):
            # Perhaps a connection was created a moment ago and this process has not read
            # it yet: read the config log to its end (once a batch) before NO_CONNECTION.
            await asyncio.to_thread(self.config.catch_up, 5.0)
        await self.prepare([(request, original) for _, request, original in received])
        for msg, request, original in received:
            # However many connections a source has, a request waits for room in the
            # producer's queue rather than overflowing it.  If its records overflow it
            # all the same (their bytes, or more of them), each waits for room in turn:
            # sent once each, never routed again (its deliveries would go out twice).
            outputs_at_most = 2 * len(state.connections_of(request.source_id)) + 8
            await producer.room(outputs_at_most)
            await rows_producer.room(outputs_at_most)
            while True:
                try:
                    todo = self.process(sends, rows, msg, request, original)
                    break
                except LocalQueueFull:  # its dead letter, the one record it sent
                    await self.drained(producer, rows_producer)
            sent = 0
            while sent < len(todo):
                try:
                    todo[sent]()
                    sent += 1
                except LocalQueueFull:
                    await self.drained(producer, rows_producer)
        self.prepared.clear()
        return asyncio.gather(sends.acked(), rows.acked())

    @staticmethod
    async def drained(*producers: AsyncProducer) -> None:
        for producer in producers:
            await producer.drained()

    def run_code(
        self, project_id: str, code: str, env: dict[str, str], message: Message
    ) -> Transformed:
        # mini-racer binds a context to the event loop running where it is made, and then
        # cannot time it out: contexts live on a thread of their own.  The loop waits
        # (its batch is sequential anyway).
        return self.javascript.submit(self.runtime.run, project_id, code, env, message).result()

    async def prepare(self, received: list[tuple[InboundRequest, Message]]) -> None:
        keys, jobs = [], []
        state = self.config.state
        for request, original in received:
            for wanted in first_transformations(state.connections_of(request.source_id)):
                saved = state.get("transformation", wanted)
                if saved is not None:
                    keys.append((id(original), wanted))
                    project_id = str(saved.get("project_id") or "")
                    jobs.append((project_id, saved["code"], saved.get("env") or {}, original))
        if not jobs:
            return
        try:
            ran = await asyncio.wrap_future(self.javascript.submit(self.runtime.run_many, jobs))
        except Exception:  # a bug here must not stop routing: each runs on its own then
            log.exception("running a batch's transformations together failed")
            return
        self.prepared.update(zip(keys, ran, strict=True))

    def dead_letter(self, sends: SendGroup, msg: Record, reason: str, detail: str) -> None:
        """``msg`` goes to the ``dlq`` topic and routing goes on: whatever a record holds,
        it is that record's failure, never the router's (no ratio stops it: anyone who
        can post a request could then stop it; the alert on dead letters tells).  A
        broker that does not acknowledge is another matter: the batch is read again."""
        send_dead_letter(sends, self.dlq, "router", reason, msg, {"message": detail})

    def process(
        self,
        sends: SendGroup,
        rows: SendGroup,
        msg: Record,
        request: InboundRequest,
        original: Message,
    ) -> list[Callable[[], None]]:
        """Route one request: the sends of what it causes (its rows for ClickHouse
        through ``rows``, the rest through ``sends``), for the caller to make one by one;
        a dead letter is sent from here."""
        connections = self.config.state.connections_of(request.source_id)
        # its deduplication marks, held to be sent before its deliveries
        marks: list[Callable[[], None]] = []
        seen_before = self.dedup.seen_in(sends, msg.partition() or 0, request.id, marks)
        try:
            routed = route(
                request,
                connections,
                self.transform,
                seen_before,
                original=original,
                now_ms=now_ms(),
                position=position(msg)[1:],  # orders the events of connections with a key
            )
            made = outputs(routed)
        except LocalQueueFull:  # not this request's fault: route_batch waits and retries
            raise
        except Exception as exc:  # a bug or an unforeseen input: that record only
            log.exception(
                "routing request %s failed; dead-lettering it",
                request.id,
                extra={"request_id": request.id},
            )
            self.dead_letter(sends, msg, "routing_failed", repr(exc))
            return marks
        too_large = oversized(made)
        if too_large is not None:  # a request not from ingest, which bounds them
            self.dead_letter(sends, msg, "record_too_large", too_large)
            return marks
        for row in routed.events:
            metrics.ROUTER_EVENTS.labels(row.status).inc()
        for ignored in routed.ignored:
            metrics.ROUTER_IGNORED.labels(ignored.cause).inc()
        return marks + [
            partial(
                (rows if out.topic == topics.RECORDS else sends).send,
                topics.name(self.settings, out.topic),
                out.value,
                out.key,
                out.headers,
            )
            for out in made
        ]


def observe(outcome: Transformed, seconds: float) -> None:
    status = "failed" if outcome.message is None else "ok"
    metrics.TRANSFORMATION_DURATION.labels(status).observe(seconds)


async def serve(settings: Settings) -> None:
    router = Router(settings)
    readiness = Readiness(
        {"kafka": KafkaProbe(settings), "config": lambda: router.config.ready},
        group=lambda: membership_of(router.consumer),
    )
    await serve_beside(router.run(), router.stop, readiness, settings, settings.router_port)
    if router.exit_code:
        raise SystemExit(router.exit_code)


def main() -> None:
    settings = load()
    start("router", settings)
    uvloop.run(serve(settings))
