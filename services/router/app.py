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
from typing import Any

import faust
import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hookhouse.common import metrics, topics
from hookhouse.common.clock import iso_ms, now_ms
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.kafka import AsyncProducer, KafkaProbe, ensure_topics
from hookhouse.common.records import DeadLetter, InboundRequest, Row, b64
from hookhouse.common.runtime import start
from hookhouse.common.settings import Settings, load
from hookhouse.router.routing import route

log = logging.getLogger(__name__)

BATCH_SIZE = 500
BATCH_WITHIN_SECONDS = 0.005


class InvalidMessage(Exception):
    """A record on ``requests`` that cannot be routed: dead-letter it."""


def decode(value: bytes | None) -> InboundRequest:
    if value is None:
        raise InvalidMessage("empty value")
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise InvalidMessage(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidMessage("not a JSON object")
    try:
        request = InboundRequest.from_dict(data)
        request.body_bytes  # noqa: B018 - validates the base64 body
    except (TypeError, binascii.Error, ValueError) as exc:
        raise InvalidMessage(f"not a request envelope: {exc}") from exc
    return request


def build_app(settings: Settings) -> faust.App:
    config = ConfigLog(settings)
    probe = KafkaProbe(settings)
    app = faust.App(
        "hookhouse-router",
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
    )
    requests_topic = app.topic(topics.name(settings, topics.REQUESTS), internal=False)
    deliveries = topics.name(settings, topics.DELIVERIES)
    records = topics.name(settings, topics.RECORDS)
    dlq = topics.name(settings, topics.DLQ)
    outputs: list[AsyncProducer] = []  # made on the app's loop, once

    def producer() -> AsyncProducer:
        if not outputs:
            outputs.append(
                AsyncProducer(settings, timeout=settings.background_produce_timeout_seconds)
            )
        return outputs[0]

    @app.task(on_leader=False)  # type: ignore[untyped-decorator]
    async def start_config() -> None:
        await asyncio.to_thread(ensure_topics, settings)
        config.start()
        producer()  # connects and gets its producer id before the first request arrives

    async def process(producer: AsyncProducer, event: Any) -> list[Any]:
        """Send everything one request causes; return the pending acknowledgements."""
        message = event.message
        try:
            request = decode(event.value)
        except InvalidMessage as exc:
            metrics.DEAD_LETTERS.labels("router", "invalid_request").inc()
            letter = DeadLetter(
                stage="router",
                reason=str(exc),
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                key=message.key.decode(errors="replace") if message.key else None,
                value=b64(event.value or b""),
                failed_at=iso_ms(now_ms()),
            )
            return [producer.send(dlq, letter.to_json(), key=message.key)]
        connections = config.state.connections_of(request.source_id)
        if not connections:
            # Perhaps the connection was created a moment ago and this process has not
            # read it yet: read the config log to its end before saying NO_CONNECTION.
            await asyncio.to_thread(config.catch_up, 5.0)
            connections = config.state.connections_of(request.source_id)
        routed = route(request, connections)
        pending = [
            producer.send(deliveries, delivery.to_json(), key=delivery.destination_id)
            for delivery in routed.deliveries
        ]
        rows: list[Row] = [*routed.events, routed.request]
        for row in rows:
            pending.append(
                producer.send(records, orjson.dumps(row), key=row.id, headers=[("kind", row.kind)])
            )
        for row in routed.events:
            metrics.ROUTER_EVENTS.labels(row.status).inc()
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
                for event in batch:
                    pending.extend(await process(producer(), event))
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
    app = build_app(settings)
    worker = faust.Worker(app, loglevel=settings.log_level.lower(), quiet=True)
    # The terminal spinner sets the root logger to DEBUG, which made every library's
    # debug call build a record that the handler then dropped (8% of the router's CPU).
    worker.spinner = None
    worker.execute_from_commandline()
