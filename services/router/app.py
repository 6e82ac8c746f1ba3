"""The router's Faust app: ``requests`` in; ``deliveries`` and ``records`` out.

At-least-once (KAFKA-NOTES B): one agent with concurrency 1 takes batches of events;
for each batch it sends every output record, then awaits every acknowledgement before
the batch's body ends — Faust acks (and later commits) the source offsets only after
that.  A failed send ends the process without committing (Faust would otherwise ack
the batch in its ``finally``), so the batch is read again by the next worker.

Faust consumes; the outputs go through the same confluent-kafka producer the other
services use.  Faust's own (aiokafka) producer cost about 1 ms of CPU per record, most
of the router's time at a few hundred requests a second; librdkafka batches in its
own thread.
"""

from __future__ import annotations

import asyncio
import binascii
import logging
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import faust
import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hookhouse.common import metrics, topics
from hookhouse.common.clock import now_ms
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.kafka import AsyncProducer, KafkaProbe, ensure_topics
from hookhouse.common.message import Message, Transformed
from hookhouse.common.records import DeadLetter, InboundRequest
from hookhouse.common.runtime import start
from hookhouse.common.schemas import first_error
from hookhouse.common.settings import Settings, load
from hookhouse.common.transformations import Limits, Runtime
from hookhouse.router.release import Releaser
from hookhouse.router.routing import (
    Prepared,
    SeenBefore,
    as_received,
    first_transformations,
    outputs,
    route,
    transformer,
)

log = logging.getLogger(__name__)

BATCH_SIZE = 500
BATCH_WITHIN_SECONDS = 0.005
# How much one fetch may bring per partition (aiokafka's max_partition_fetch_bytes,
# Faust's default 1 MiB).  Measured back to back on 2 cores (bench.router, filter-only):
# 1 MiB 1,057-1,503/s; 4 MiB 2,389/s; 8 MiB 2,424-3,419/s; 16 MiB 2,178/s.  At most this
# much per assigned partition waits in memory.
FETCH_BYTES = 8 * 1024 * 1024


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
    problem = first_error(topics.REQUESTS, data)  # schemas/requests/v1.schema.json
    if problem is not None:
        raise InvalidMessage(f"not a request envelope: {problem}")
    try:
        request = InboundRequest.from_dict(data)
        return request, as_received(request)  # as_received validates the base64 body
    except (TypeError, binascii.Error, ValueError) as exc:
        raise InvalidMessage(f"not a request envelope: {exc}") from exc


class DeadLetterRatio:
    """The share of dead-lettered requests among the last ``size`` ones."""

    def __init__(self, size: int, max_ratio: float) -> None:
        self.size, self.max_ratio = size, max_ratio
        self.window: deque[bool] = deque(maxlen=size)
        self.dead = 0

    def add(self, dead: bool) -> bool:
        """Count one request; True when the window is full and over the ratio."""
        if len(self.window) == self.size and self.window[0]:
            self.dead -= 1
        self.window.append(dead)
        self.dead += dead
        return len(self.window) == self.size and self.dead / self.size > self.max_ratio


def build_app(settings: Settings) -> faust.App:
    config = ConfigLog(settings)
    probe = KafkaProbe(settings)
    app = faust.App(
        topics.ROUTER_GROUP,
        broker=f"kafka://{settings.kafka_bootstrap}",
        value_serializer="raw",
        key_serializer="raw",
        datadir=str(settings.home / "router"),
        web_host=settings.host,
        web_port=settings.router_port,
        web_in_thread=False,
        topic_replication_factor=settings.replication_factor,
        topic_partitions=settings.topic_partitions,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=0.5,
        stream_wait_empty=True,
        consumer_max_fetch_size=FETCH_BYTES,
    )
    requests_topic = app.topic(topics.name(settings, topics.REQUESTS), internal=False)
    # Deduplication memory: b"<connection id>:<key>" -> b"<expires at ms>:<partition>"
    # (bytes both ways: the app's raw serializers, the same after a restore).  A Faust
    # table, so it is restored from its changelog after a restart or a rebalance; each
    # entry is written to the changelog partition of the request that made it, which is
    # where the next request of that source will look.
    dedup = app.Table(
        "dedup",
        default=None,
        partitions=settings.topic_partitions,
        key_type=bytes,  # raw in the changelog: json is Faust's default for tables
        value_type=bytes,
    )
    runtime = Runtime(Limits.of(settings))
    javascript = ThreadPoolExecutor(max_workers=1, thread_name_prefix="javascript")
    recent_dead = DeadLetterRatio(
        settings.router_dead_letter_window, settings.router_dead_letter_max_ratio
    )
    dlq = topics.name(settings, topics.DLQ)
    producers: list[AsyncProducer] = []  # made on the app's loop, once

    def producer() -> AsyncProducer:
        if not producers:
            producers.append(
                AsyncProducer(settings, timeout=settings.background_produce_timeout_seconds)
            )
        return producers[0]

    @app.task(on_leader=False)  # type: ignore[untyped-decorator]
    async def start_config() -> None:
        await asyncio.to_thread(ensure_topics, settings)
        config.start()
        producer()  # connects and gets its producer id before the first request arrives
        await asyncio.to_thread(config.wait_ready, 60.0)
        await Releaser(settings, config, producer()).run(asyncio.Event())

    def observe(outcome: Transformed, seconds: float) -> None:
        status = "failed" if outcome.message is None else "ok"
        metrics.TRANSFORMATION_DURATION.labels(status).observe(seconds)

    def run_code(code: str, env: dict[str, str], message: Message) -> Transformed:
        # mini-racer binds a context to the event loop running where it is made, and then
        # cannot time it out: contexts live on a thread of their own.  The agent waits
        # (its batch is sequential anyway).
        return javascript.submit(runtime.run, code, env, message).result()

    # The transformations that see a batch's requests as received run ahead, in one
    # call per batch (an eval costs about 0.3 ms whatever it runs): routing finds them.
    prepared: Prepared = {}
    transform = transformer(config.state, run_code, observe, prepared)

    async def prepare(received: list[tuple[InboundRequest, Message]]) -> None:
        keys, jobs = [], []
        for request, original in received:
            for wanted in first_transformations(config.state.connections_of(request.source_id)):
                saved = config.state.get("transformation", wanted)
                if saved is not None:
                    keys.append((id(original), wanted))
                    jobs.append((saved["code"], saved.get("env") or {}, original))
        if not jobs:
            return
        try:
            ran = await asyncio.wrap_future(javascript.submit(runtime.run_many, jobs))
        except Exception:  # a bug here must not stop routing: each runs on its own then
            log.exception("running a batch's transformations together failed")
            return
        prepared.update(zip(keys, ran, strict=True))

    def seen_in(partition: int) -> SeenBefore:
        def seen_before(connection_id: str, key: str, window_ms: int) -> bool:
            entry, now = f"{connection_id}:{key}".encode(), now_ms()
            known = dedup.data.get(entry)
            if known is not None and int(known.split(b":")[0]) > now:
                return True
            value = f"{now + window_ms}:{partition}".encode()
            dedup.data[entry] = value
            dedup.send_changelog(partition, entry, value)
            return False

        return seen_before

    @app.timer(60.0)  # type: ignore[untyped-decorator]
    async def forget_expired() -> None:
        """Expired deduplication entries leave memory and, by tombstone, the changelog."""
        now = now_ms()
        for entry, value in list(dedup.data.items()):
            until, partition = (int(part) for part in value.split(b":"))
            if until <= now:
                dedup.data.pop(entry, None)
                dedup.send_changelog(partition, entry, None)

    def dead_letter(event: Any, reason: str, detail: str) -> Any:
        metrics.DEAD_LETTERS.labels("router", reason).inc()
        message = event.message
        where = (message.topic, message.partition, message.offset)
        letter = DeadLetter.of("router", f"{reason}: {detail}", where, message.key, event.value)
        if recent_dead.add(dead=True):
            log.critical(
                "%d of the last %d requests were dead-lettered; stopping the router so "
                "whatever writes them is looked at (the offsets are not committed)",
                recent_dead.dead,
                recent_dead.size,
            )
            os._exit(4)
        return producer().send(dlq, letter.to_json(), key=message.key)

    async def process(event: Any, request: InboundRequest, original: Message) -> list[Any]:
        """Send everything one request causes; return the pending acknowledgements."""
        connections = config.state.connections_of(request.source_id)
        if not connections:
            # Perhaps the connection was created a moment ago and this process has not
            # read it yet: read the config log to its end before saying NO_CONNECTION.
            await asyncio.to_thread(config.catch_up, 5.0)
            connections = config.state.connections_of(request.source_id)
        try:
            routed = route(
                request,
                connections,
                transform,
                seen_in(event.message.partition),
                original=original,
            )
        except Exception as exc:  # a bug or an unforeseen input: that record only
            log.exception(
                "routing request %s failed; dead-lettering it",
                request.id,
                extra={"request_id": request.id},
            )
            return [dead_letter(event, "routing_failed", repr(exc))]
        recent_dead.add(dead=False)
        pending = [
            producer().send(topics.name(settings, out.topic), out.value, out.key, out.headers)
            for out in outputs(routed)
        ]
        for row in routed.events:
            metrics.ROUTER_EVENTS.labels(row.status).inc()
        for ignored in routed.ignored:
            metrics.ROUTER_IGNORED.labels(ignored.cause).inc()
        return pending

    @app.agent(requests_topic, concurrency=1)
    async def router(stream: Any) -> None:
        async for batch in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN_SECONDS):
            # Routing against a half-read configuration would record requests as
            # NO_CONNECTION that do have connections: wait for the whole log.
            while not await asyncio.to_thread(config.wait_ready, 5.0):
                log.warning("waiting for the configuration log before routing")
            try:
                pending = []
                received = []
                for event in batch:
                    try:
                        request, original = decode(event.value)
                    except InvalidMessage as exc:
                        pending.append(dead_letter(event, "invalid_request", str(exc)))
                        continue
                    received.append((event, request, original))
                await prepare([(request, original) for _, request, original in received])
                for event, request, original in received:
                    pending.extend(await process(event, request, original))
                prepared.clear()
                await asyncio.gather(*pending)
            except Exception:
                log.exception("produce failed; exiting without committing this batch")
                os._exit(3)

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        checks = {"kafka": await asyncio.to_thread(probe), "config": config.ready}
        ok = all(checks.values())
        return web.json(
            {"status": "ready" if ok else "not_ready", "checks": checks}, status=200 if ok else 503
        )

    @app.page("/metrics")
    async def prometheus(web: Any, request: Any) -> Any:
        # aiohttp takes the charset separately from the content type.
        return web.bytes(
            generate_latest(metrics.REGISTRY), content_type=CONTENT_TYPE_LATEST.split(";")[0]
        )

    return app


def main() -> None:
    settings = load()
    start("router", settings)
    settings.home.mkdir(parents=True, exist_ok=True)  # Faust keeps its data dir under it
    app = build_app(settings)
    # Faust would replace the root handlers with its coloured one: keep ours (JSON lines).
    app.conf.loghandlers = list(logging.getLogger().handlers)
    worker = faust.Worker(
        app,
        loglevel=settings.log_level.lower(),
        quiet=True,
        logging_config={
            "version": 1,
            "disable_existing_loggers": False,
            "root": {"level": settings.log_level.upper(), "handlers": []},
        },
    )
    # The terminal spinner sets the root logger to DEBUG, which made every library's
    # debug call build a record that the handler then dropped (8% of the router's CPU).
    worker.spinner = None
    worker.execute_from_commandline()
