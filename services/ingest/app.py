"""The ingest HTTP service.

A request is answered 2xx only after the broker acknowledged its record on the
``requests`` topic; if Kafka does not acknowledge within the produce timeout the
answer is 503 with ``Retry-After`` (DESIGN section 5).

The webhook routes (``/e/...`` and ``/v1/publish``) are plain ASGI handlers in front of
the Starlette app, which serves the rest (health, readiness, metrics, the lifespan).
Starlette's request and response objects, its middleware and its router were a large
share of ingest's own work per request (BENCHMARKS.md, "Reading the figures"); here a
request is read from the ASGI scope and answered with two ASGI messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from hookhouse.common import metrics, topics
from hookhouse.common.clock import now_ms
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.domain import admission
from hookhouse.common.domain.custom_domains import host_of, url_base
from hookhouse.common.domain.ids import new_id
from hookhouse.common.domain.keys import presented_key
from hookhouse.common.domain.records import InboundRequest, RequestRow, b64
from hookhouse.common.domain.schemas import request_max_bytes
from hookhouse.common.domain.times import iso_ms
from hookhouse.common.domain.verification import Signed, challenge, reply, verify_signed
from hookhouse.common.health import Readiness, routes
from hookhouse.common.kafka import AsyncProducer, KafkaProbe, KafkaUnavailable, ensure_topics
from hookhouse.common.runtime import http_server, serve_app, settle_heap, start
from hookhouse.common.settings import Settings, load

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "5"
JSON = b"application/json"
# A body refused as too large is still read, and thrown away, for up to this long before
# the answer: a client that sends its whole body before reading (Python's urllib, curl
# without Expect) then sees the 413 instead of a reset connection (nginx's lingering close).
LINGER_SECONDS = 5.0


class PayloadTooLarge(Exception):
    pass


class ClientGone(Exception):
    """The client closed its connection before its body had arrived."""


async def respond(
    send: Send,
    status: int,
    body: bytes,
    media_type: bytes = JSON,
    retry_after: str | None = None,
) -> None:
    headers = [(b"content-type", media_type), (b"content-length", b"%d" % len(body))]
    if retry_after is not None:
        headers.append((b"retry-after", retry_after.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def error(
    send: Send, status: int, code: str, message: str, retry_after: str | None = None
) -> None:
    body = orjson.dumps({"code": code, "message": message})
    await respond(send, status, body, retry_after=retry_after)


def header_dict(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name (a repeated header: its last value)."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


async def read_body(receive: Receive, declared: str | None, limit: int) -> bytes:
    """The body, refused as soon as it exceeds ``limit`` bytes (never buffered whole);
    ``declared`` is the request's Content-Length, if it sent one."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        await discard_body(receive)
        raise PayloadTooLarge
    chunks = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            if message.get("more_body", False):
                await discard_body(receive)
            raise PayloadTooLarge
        chunks.append(chunk)
        more = message.get("more_body", False)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def discard_body(receive: Receive) -> None:
    """Read the rest of a refused body and drop it, for at most ``LINGER_SECONDS``."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(LINGER_SECONDS):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect" or not message.get("more_body"):
                    return


def custom_media_type(custom: dict[str, Any]) -> bytes:
    media = admission.CUSTOM_RESPONSE_MEDIA[custom["content_type"]]
    return f"{media}; charset=utf-8".encode() if media.startswith("text/") else media.encode()


class Ingest:
    """The webhook routes, as one ASGI app: ``/e/{source_id}[/path]`` for providers and
    ``/v1/publish`` for a project's own services; everything else goes to ``rest`` (health,
    readiness, the lifespan).  Each route is a named method, testable with a hand-built
    ``config`` (its state) and a producer set by the lifespan."""

    def __init__(self, settings: Settings, config: ConfigLog, rest: ASGIApp) -> None:
        self.settings = settings
        self.config = config
        self.rest = rest
        self.producer: AsyncProducer | None = None  # set while the lifespan runs
        self.requests_topic = topics.name(settings, topics.REQUESTS)
        self.records_topic = topics.name(settings, topics.RECORDS)
        self.content_types = admission.allowed_types(settings.ingest_content_types)
        self.produce_latency = metrics.PRODUCE_LATENCY.labels("requests")
        self.head_limits = admission.HeadLimits(
            settings.max_header_count, settings.max_header_bytes, settings.max_url_bytes
        )
        self.record_limit = request_max_bytes()
        self.public_url = settings.ingest_url.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.rest(scope, receive, send)
        path = scope["path"]
        if path.startswith("/e/"):
            handler = self.receive_webhook
        elif path == "/v1/publish":
            handler = self.publish
        else:
            return await self.rest(scope, receive, send)
        try:
            await handler(scope, receive, send)
        except ClientGone:
            pass
        except Exception:
            log.exception("ingest failed on %s %s", scope["method"], path)
            with contextlib.suppress(Exception):  # the answer may have begun already
                await error(send, 500, "INTERNAL_ERROR", "Ingest failed on this request.")

    async def not_ready(self, send: Send) -> None:
        # A half-read configuration would 404 real sources.
        metrics.INGEST_REQUESTS.labels("unknown", "NOT_READY").inc()
        await error(
            send,
            503,
            "NOT_READY",
            "Ingest is starting and not accepting requests yet.",
            retry_after="1",
        )

    async def receive_webhook(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``/e/{source_id}[/path]``: what providers post to."""
        source_id, slash, rest = scope["path"][3:].partition("/")
        source = self.config.state.get("source", source_id)
        if not self.config.ready:
            return await self.not_ready(send)
        if source is None:
            metrics.INGEST_REQUESTS.labels("unknown", "SOURCE_NOT_FOUND").inc()
            return await error(send, 404, "SOURCE_NOT_FOUND", f"No source with id {source_id}.")
        headers = header_dict(scope)
        domain = self.domain_of(headers)
        answerable = not source.get("disabled_at") and admission.of_host(domain, source) is None
        if scope["method"] == "HEAD" and answerable:
            # A provider checking that the URL answers: there is nothing to store or route.
            metrics.INGEST_REQUESTS.labels(source["id"], "HEAD").inc()
            return await respond(send, 200, b"")
        verification = source.get("verification")
        if verification and answerable:
            # A provider's unsigned handshake (X's CRC, eBay's challenge code): answered
            # from the source's config, not stored, as a HEAD is not.
            url, method = self.url_of(scope, domain), scope["method"]
            answer = challenge(verification, Signed(headers, b"", time.time(), url, method))
            if answer is not None:
                metrics.INGEST_REQUESTS.labels(source["id"], "CHALLENGE").inc()
                return await respond(send, 200, answer.body, answer.media_type.encode())
        await self.admit(scope, receive, send, source, slash + rest, headers)

    async def publish(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST /v1/publish``: a project's own services post with an API key and name
        the source in ``X-Hookdeck-Source-Name`` (or ``X-Hookhouse-Source-Name``)."""
        if not self.config.ready:
            return await self.not_ready(send)
        if scope["method"] != "POST":
            metrics.INGEST_REQUESTS.labels("unknown", "UNSUPPORTED_HTTP_METHOD").inc()
            return await error(
                send, 405, "UNSUPPORTED_HTTP_METHOD", "The Publish API takes POST only."
            )
        headers = header_dict(scope)
        # The project's key is never stored with the request.
        key = presented_key(headers.pop("authorization", None))
        record = self.config.state.api_key(key) if key else None
        if record is None:
            metrics.INGEST_REQUESTS.labels("unknown", "UNAUTHORIZED").inc()
            return await error(
                send, 401, "UNAUTHORIZED", "A valid API key is required (Bearer <key>)."
            )
        name = headers.get("x-hookdeck-source-name") or headers.get("x-hookhouse-source-name")
        if not name:
            metrics.INGEST_REQUESTS.labels("unknown", "SOURCE_NOT_FOUND").inc()
            return await error(
                send,
                422,
                "SOURCE_NAME_REQUIRED",
                "Name the source in the X-Hookdeck-Source-Name header.",
            )
        source = self.config.state.find("source", record["project_id"], name)
        if source is None:
            metrics.INGEST_REQUESTS.labels("unknown", "SOURCE_NOT_FOUND").inc()
            return await error(
                send, 404, "SOURCE_NOT_FOUND", f"No source named '{name}' in this project."
            )
        await self.admit(scope, receive, send, source, "", headers)

    async def admit(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        source: dict[str, Any],
        path: str,
        headers: dict[str, str],
    ) -> None:
        """Check, store and acknowledge one request for ``source``."""
        started = time.perf_counter()
        settings = self.settings
        now = now_ms()
        received_at = iso_ms(now)
        request_id = new_id("req", now)
        method = scope["method"]
        content_type = headers.get("content-type")
        query = scope["query_string"].decode("latin-1")

        async def refuse(refusal: admission.Refusal, kept: dict[str, str]) -> None:
            """Record the rejection (with the ``kept`` headers, the path and query cut to
            their limit, no body) and answer it."""
            cut = settings.max_url_bytes
            rejected = RequestRow(
                id=request_id,
                project_id=source["project_id"],
                source_id=source["id"],
                created_at=received_at,
                method=method,
                path=path[:cut],
                query=query[:cut],
                headers=kept,
                body="",
                body_size=0,
                verified=None,
                rejection_cause=refusal.recorded_cause,
                events_count=0,
                version=now_ms(),
            )
            metrics.INGEST_REQUESTS.labels(source["id"], refusal.code).inc()
            await self.record_rejection(rejected)
            await error(send, refusal.status, refusal.code, refusal.message)

        refusal = admission.of_head(
            scope["headers"], scope.get("raw_path") or b"", scope["query_string"], self.head_limits
        )
        if refusal is not None:  # recorded without what made it too large
            return await refuse(refusal, {})
        domain = self.domain_of(headers)
        refusal = admission.of_host(domain, source)
        if refusal is not None:
            return await refuse(refusal, headers)
        refusal = admission.before_body(source, method, content_type, self.content_types)
        body = b""
        if refusal is None:
            try:
                body = await read_body(
                    receive, headers.get("content-length"), settings.max_body_bytes
                )
            except PayloadTooLarge:
                refusal = admission.Refusal(
                    413,
                    "PAYLOAD_TOO_LARGE",
                    f"The body is larger than the limit of {settings.max_body_bytes} bytes.",
                )
        refusal = refusal or admission.of_body(content_type, body)
        verified, answer = None, None
        if refusal is None and source.get("verification"):
            signed = Signed(headers, body, time.time(), self.url_of(scope, domain), method)
            if not verify_signed(source["verification"], signed):
                refusal = admission.Refusal(
                    401,
                    "VERIFICATION_FAILED",
                    "The request's signature or credentials do not match this source's "
                    "verification; it was recorded and not accepted.",
                )
            else:  # the provider's own handshake gets its answer, after it is stored
                answer = reply(source["verification"], signed)
            verified = True
        if refusal is not None:
            return await refuse(refusal, headers)
        inbound = InboundRequest(
            id=request_id,
            project_id=source["project_id"],
            source_id=source["id"],
            received_at=received_at,
            method=method,
            path=path,
            query=query,
            headers=headers,
            body=b64(body),
            verified=verified,
        )
        value = inbound.to_json()
        if len(value) > self.record_limit:  # within each limit, too large all together
            refusal = admission.Refusal(
                413,
                "PAYLOAD_TOO_LARGE",
                f"The request as a whole (body in base64, headers, path and query) takes "
                f"{len(value)} bytes; the limit is {self.record_limit}.",
            )
            return await refuse(refusal, {})
        assert self.producer is not None
        produce_started = time.perf_counter()
        try:
            # No asyncio timer per request: the producer's message.timeout.ms is
            # produce_timeout_seconds, after which the send fails with KafkaUnavailable.
            await self.producer.send(self.requests_topic, value, key=source["id"])
        except KafkaUnavailable:
            metrics.INGEST_REQUESTS.labels(source["id"], "KAFKA_UNAVAILABLE").inc()
            return await error(
                send,
                503,
                "KAFKA_UNAVAILABLE",
                "The request could not be stored right now; it was not accepted. Retry later.",
                retry_after=RETRY_AFTER_SECONDS,
            )
        self.produce_latency.observe(time.perf_counter() - produce_started)
        metrics.INGEST_REQUESTS.labels(source["id"], "ACCEPTED").inc()
        metrics.INGEST_LATENCY.observe(time.perf_counter() - started)
        if answer is not None:
            return await respond(send, 200, answer.body, answer.media_type.encode())
        custom = source.get("custom_response")
        if custom:
            return await respond(send, 200, custom["body"].encode(), custom_media_type(custom))
        await respond(
            send,
            200,
            b'{"status":"SUCCESS","message":"Request stored.","request_id":"%s"}'
            % request_id.encode(),
        )

    def domain_of(self, headers: dict[str, str]) -> dict[str, Any] | None:
        """The custom domain the request came in under, if its ``Host`` is one."""
        return self.config.state.custom_domain(host_of(headers.get("host")))

    def url_of(self, scope: Scope, domain: dict[str, Any] | None) -> str:
        """The request's URL as its provider called it (schemes that sign the URL check
        it): the public ingest URL, or ``https://`` and the custom domain it came in
        under (the URL ``source.url`` shows), then the path and query as they arrived."""
        base = url_base(domain["hostname"]) if domain is not None else self.public_url
        path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        query = scope["query_string"].decode("latin-1")
        return f"{base}{path}" + (f"?{query}" if query else "")

    async def record_rejection(self, row: RequestRow) -> None:
        """Rejected requests are recorded (without their body) so the API can list them."""
        assert self.producer is not None
        try:
            await self.producer.send(
                self.records_topic, orjson.dumps(row), key=row.id, headers=[("kind", b"request")]
            )
        except KafkaUnavailable as exc:  # the caller still gets its 4xx; say what is missing
            log.warning(
                "rejected request %s (%s) not recorded: %s",
                row.id,
                row.rejection_cause,
                exc,
                extra={"request_id": row.id},
            )


def build_app(settings: Settings) -> ASGIApp:
    """The ingest service: :class:`Ingest` in front of a Starlette app for the probes,
    whose lifespan starts the configuration log, the producer and the operators' port."""
    config = ConfigLog(settings)
    readiness = Readiness({"kafka": KafkaProbe(settings), "config": lambda: config.ready})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(ensure_topics, settings)
        config.start()
        ingest.producer = producer = AsyncProducer(settings, eager_below=settings.kafka_eager_below)
        # Metrics name every source, and a source's id is all it takes to post to it:
        # they are served to operators on a port of their own, not to providers.
        operators = http_server(
            Starlette(routes=routes(readiness)), settings, settings.ingest_metrics_port
        )
        served = asyncio.create_task(operators.serve())
        settle_heap()
        yield
        operators.should_exit = True
        await served
        await asyncio.to_thread(producer.close)
        config.stop()

    probes = [route for route in routes(readiness) if route.path != "/metrics"]
    ingest = Ingest(settings, config, Starlette(routes=probes, lifespan=lifespan))
    return ingest


def main() -> None:
    settings = load()
    start("ingest", settings)
    serve_app(build_app(settings), settings, settings.ingest_port)
