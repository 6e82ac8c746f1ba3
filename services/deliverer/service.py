"""The deliverer process: consume ``deliveries``, push over HTTP, record the outcome.

The chain for one record, top to bottom in :meth:`Deliverer.handle`:
decode → look up the destination → push → build attempt and event rows →
produce them (and a dead letter on failure) → await every ack → mark the offset done.
Offsets are committed contiguously by the tracker, so a slow delivery never lets a
later offset be committed past it.  In-flight work is bounded: at the bound, the
consumer pauses its partitions and keeps polling.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from typing import Any

import aiohttp
import orjson
from confluent_kafka import Message
from starlette.applications import Starlette

from hookhouse.common import metrics, topics
from hookhouse.common.clock import iso_ms, now_ms, parse_iso
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.consumer import AsyncConsumer, dead_letter, position
from hookhouse.common.health import Readiness, routes
from hookhouse.common.ids import new_id
from hookhouse.common.kafka import AsyncProducer, KafkaProbe, ensure_topics
from hookhouse.common.records import AttemptRow, Delivery, EventRow
from hookhouse.common.runtime import http_server, start, stop_on_signals
from hookhouse.common.settings import Settings, load
from hookhouse.deliverer.outcome import classify, outbound_headers, target_url

log = logging.getLogger(__name__)

GROUP = "hookhouse-deliverer"


def error_code_of(exc: BaseException) -> str:
    """Map a client exception to Hookdeck's attempt error codes."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "TIMEOUT"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "DNS_LOOKUP_FAILED"
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return "SSL_ERROR"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "CONNECTION_REFUSED"
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError):
        return "CONNECTION_RESET"
    return "UNKNOWN"


class Deliverer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config = ConfigLog(settings)
        self.records_topic = topics.name(settings, topics.RECORDS)
        self.dlq_topic = topics.name(settings, topics.DLQ)
        self.consumer: AsyncConsumer | None = None
        self.producer: AsyncProducer | None = None
        self.session: aiohttp.ClientSession | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.stop = asyncio.Event()
        self.failed = False

    async def run(self) -> None:
        stop = self.stop
        await asyncio.to_thread(ensure_topics, self.settings)
        self.config.start()
        while not await asyncio.to_thread(self.config.wait_ready, 5.0):
            log.warning("waiting for the configuration log before delivering")
        self.producer = AsyncProducer(self.settings)
        limit = self.settings.deliverer_max_in_flight
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit + 16, ttl_dns_cache=60),
            timeout=aiohttp.ClientTimeout(total=self.settings.delivery_timeout_seconds),
            auto_decompress=False,
        )
        self.consumer = AsyncConsumer(
            self.settings, GROUP, [topics.name(self.settings, topics.DELIVERIES)]
        )
        last_commit = time.monotonic()
        try:
            while not stop.is_set():
                room = limit - self.consumer.tracker.in_flight
                if room <= 0:
                    await self.consumer.pause()
                elif self.consumer.paused and room >= limit // 2:
                    await self.consumer.resume()
                for msg in await self.consumer.consume(max(room, 1), 0.05):
                    task = asyncio.create_task(self.handle(msg))
                    self.tasks.add(task)
                    task.add_done_callback(self._finished)
                if time.monotonic() - last_commit > 0.5:
                    await self.consumer.commit()
                    last_commit = time.monotonic()
        finally:
            await self.shutdown()

    def _finished(self, task: asyncio.Task[None]) -> None:
        """A record whose outcome could not be made durable stops the process.

        Its offset stays uncommitted (the tracker never marks it done), so the record
        is read again after the restart: at least once.
        """
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a delivery failed to complete; stopping", exc_info=task.exception())
            self.failed = True
            self.stop.set()

    async def shutdown(self) -> None:
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=self.settings.delivery_timeout_seconds + 5)
        if self.consumer is not None:
            await self.consumer.close()
        if self.session is not None:
            await self.session.close()
        if self.producer is not None:
            await asyncio.to_thread(self.producer.close)
        self.config.stop()

    async def handle(self, msg: Message) -> None:
        assert self.consumer is not None and self.producer is not None
        try:
            delivery = Delivery.from_dict(orjson.loads(msg.value() or b""))
        except (orjson.JSONDecodeError, TypeError) as exc:
            await self.dead_letter(msg, "invalid_delivery", f"not a delivery record: {exc}")
            self.consumer.done(msg)
            return
        destination = self.config.state.get("destination", delivery.destination_id)
        if destination is None:
            await self.dead_letter(
                msg,
                "destination_not_found",
                f"destination {delivery.destination_id} does not exist",
            )
            self.consumer.done(msg)
            return
        attempt, event = await self.push(delivery, destination)
        pending = [
            self.producer.send(
                self.records_topic,
                orjson.dumps(row),
                key=row.id,
                headers=[("kind", row.kind.encode())],
            )
            for row in (attempt, event)
        ]
        if event.status == "FAILED":
            pending.append(self.dead_letter_future(msg, attempt.error_code, delivery))
        await asyncio.gather(*pending)
        self.consumer.done(msg)

    async def push(
        self, delivery: Delivery, destination: dict[str, Any]
    ) -> tuple[AttemptRow, EventRow]:
        assert self.session is not None
        url = target_url(
            destination["url"],
            delivery.path,
            delivery.query,
            not destination.get("path_forwarding_disabled", False),
        )
        method = destination.get("http_method") or delivery.method
        started_ms = now_ms()
        started = time.perf_counter()
        status: int | None = None
        error_code = ""
        response_headers: dict[str, str] = {}
        response_body = ""
        try:
            async with self.session.request(
                method,
                url,
                data=delivery.body_bytes,
                headers=outbound_headers(delivery, self.settings.delivery_header_prefix),
                allow_redirects=False,
            ) as response:
                status = response.status
                response_headers = {}
                for name, value in response.headers.items():
                    name = str(name).lower()
                    joined = response_headers.get(name)
                    response_headers[name] = f"{joined}, {value}" if joined else value
                raw = await response.content.read(self.settings.response_body_limit)
                response_body = raw.decode("utf-8", errors="replace")
        except Exception as exc:  # every client failure becomes an attempt error code
            error_code = error_code_of(exc)
            response_body = str(exc)[: self.settings.response_body_limit]
        duration_ms = int((time.perf_counter() - started) * 1000)
        outcome = classify(status, error_code)
        metrics.ATTEMPTS.labels(delivery.destination_id, outcome.status, outcome.error_code).inc()
        metrics.DELIVERY_LATENCY.observe(
            max(0.0, time.time() - parse_iso(delivery.received_at).timestamp())
        )
        version = now_ms()
        attempt = AttemptRow(
            id=new_id("atm"),
            project_id=delivery.project_id,
            event_id=delivery.event_id,
            request_id=delivery.request_id,
            connection_id=delivery.connection_id,
            destination_id=delivery.destination_id,
            created_at=iso_ms(started_ms),
            attempt_number=delivery.attempt,
            trigger=delivery.trigger,
            status=outcome.status,
            response_status=status,
            error_code=outcome.error_code,
            response_headers=response_headers,
            response_body=response_body,
            duration_ms=duration_ms,
            requested_url=url,
            http_method=method,
            version=version,
        )
        event = EventRow(
            id=delivery.event_id,
            project_id=delivery.project_id,
            request_id=delivery.request_id,
            source_id=delivery.source_id,
            connection_id=delivery.connection_id,
            destination_id=delivery.destination_id,
            created_at=delivery.created_at,
            status=outcome.status,
            attempts=delivery.attempt,
            last_attempt_at=iso_ms(started_ms),
            response_status=status,
            error_code=outcome.error_code,
            version=version,
        )
        return attempt, event

    def dead_letter_future(
        self, msg: Message, reason: str, delivery: Delivery | None = None
    ) -> asyncio.Future[Message]:
        assert self.producer is not None
        metrics.DEAD_LETTERS.labels("deliverer", reason).inc()
        letter = dead_letter(
            "deliverer", reason, msg, {"event_id": delivery.event_id} if delivery else None
        )
        return self.producer.send(self.dlq_topic, letter.to_json(), key=msg.key())

    async def dead_letter(self, msg: Message, reason: str, message: str) -> None:
        log.warning("dead-lettering %s: %s", position(msg), message)
        await self.dead_letter_future(msg, reason)


async def serve(settings: Settings) -> None:
    deliverer = Deliverer(settings)
    readiness = Readiness({"kafka": KafkaProbe(settings), "config": lambda: deliverer.config.ready})
    server = http_server(Starlette(routes=routes(readiness)), settings, settings.deliverer_port)
    stop_on_signals(deliverer.stop)
    web = asyncio.create_task(server.serve())
    try:
        await deliverer.run()
    finally:
        server.should_exit = True
        await web
    if deliverer.failed:
        raise SystemExit(3)


def main() -> None:
    settings = load()
    start("deliverer", settings)
    asyncio.run(serve(settings))
