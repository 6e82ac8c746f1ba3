"""The ingest HTTP service.

A request is answered 2xx only after the broker acknowledged its record on the
``requests`` topic; if Kafka does not acknowledge within the produce timeout the
answer is 503 with ``Retry-After`` (DESIGN section 5).
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
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hookhouse.api.auth import presented_key
from hookhouse.common import metrics, topics
from hookhouse.common.clock import iso_ms, now_ms
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.health import Readiness, routes
from hookhouse.common.ids import new_id
from hookhouse.common.kafka import AsyncProducer, KafkaProbe, KafkaUnavailable, ensure_topics
from hookhouse.common.records import InboundRequest, RequestRow, b64
from hookhouse.common.runtime import serve_app, settle_heap, start
from hookhouse.common.settings import Settings, load
from hookhouse.common.verification import verify
from hookhouse.ingest import admission

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "5"


class PayloadTooLarge(Exception):
    pass


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it exceeds ``limit`` bytes (never buffered whole)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def build_app(settings: Settings) -> Starlette:
    config = ConfigLog(settings)
    state: dict[str, AsyncProducer] = {}
    requests_topic = topics.name(settings, topics.REQUESTS)
    content_types = admission.allowed_types(settings.ingest_content_types)
    records_topic = topics.name(settings, topics.RECORDS)
    produce_latency = metrics.PRODUCE_LATENCY.labels("requests")

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(ensure_topics, settings)
        config.start()
        state["producer"] = AsyncProducer(settings)
        settle_heap()
        yield
        await asyncio.to_thread(state["producer"].close)
        config.stop()

    def unready() -> Response | None:
        if config.ready:
            return None
        # A half-read configuration would 404 real sources.
        metrics.INGEST_REQUESTS.labels("unknown", "NOT_READY").inc()
        return error(
            503,
            "NOT_READY",
            "Ingest is starting and not accepting requests yet.",
            headers={"Retry-After": "1"},
        )

    async def receive(request: Request) -> Response:
        """``/e/{source_id}[/path]``: what providers post to."""
        source_id = request.path_params["source_id"]
        source = config.state.get("source", source_id)
        if (waiting := unready()) is not None:
            return waiting
        if source is None:
            metrics.INGEST_REQUESTS.labels("unknown", "SOURCE_NOT_FOUND").inc()
            return error(404, "SOURCE_NOT_FOUND", f"No source with id {source_id}.")
        return await admit(request, source, request.path_params.get("path", ""), set())

    async def publish(request: Request) -> Response:
        """``POST /v1/publish``: a project's own services post with an API key and name
        the source in ``X-Hookdeck-Source-Name`` (or ``X-Hookhouse-Source-Name``)."""
        if (waiting := unready()) is not None:
            return waiting
        key = presented_key(request.headers.get("authorization"))
        record = config.state.api_key(key) if key else None
        if record is None:
            metrics.INGEST_REQUESTS.labels("unknown", "UNAUTHORIZED").inc()
            return error(401, "UNAUTHORIZED", "A valid API key is required (Bearer <key>).")
        name = request.headers.get("x-hookdeck-source-name") or request.headers.get(
            "x-hookhouse-source-name"
        )
        if not name:
            metrics.INGEST_REQUESTS.labels("unknown", "SOURCE_NOT_FOUND").inc()
            return error(
                422,
                "SOURCE_NAME_REQUIRED",
                "Name the source in the X-Hookdeck-Source-Name header.",
            )
        source = config.state.find("source", record["project_id"], name)
        if source is None:
            metrics.INGEST_REQUESTS.labels("unknown", "SOURCE_NOT_FOUND").inc()
            return error(404, "SOURCE_NOT_FOUND", f"No source named '{name}' in this project.")
        return await admit(request, source, "", {"authorization"})

    async def admit(
        request: Request, source: dict[str, Any], path: str, hidden: set[str]
    ) -> Response:
        """Check, store and acknowledge one request for ``source``; ``hidden`` headers
        (the publisher's API key) are not stored."""
        started = time.perf_counter()
        received_at = iso_ms(now_ms())
        request_id = new_id("req")
        content_type = request.headers.get("content-type")
        refusal = admission.before_body(source, request.method, content_type, content_types)
        body = b""
        if refusal is None:
            try:
                body = await read_body(request, settings.max_body_bytes)
            except PayloadTooLarge:
                refusal = admission.Refusal(
                    413,
                    "PAYLOAD_TOO_LARGE",
                    f"The body is larger than the limit of {settings.max_body_bytes} bytes.",
                )
        headers = {k: v for k, v in request.headers.items() if k not in hidden}
        refusal = refusal or admission.of_body(content_type, body)
        verified = None
        if refusal is None and source.get("verification"):
            if not verify(source["verification"], headers, body, time.time()):
                refusal = admission.Refusal(
                    401,
                    "VERIFICATION_FAILED",
                    "The request's signature or credentials do not match this source's "
                    "verification; it was recorded and not accepted.",
                )
            verified = True
        if refusal is not None:
            await record_rejection(
                request, source, request_id, received_at, path, headers, refusal.code
            )
            return error(refusal.status, refusal.code, refusal.message)
        inbound = InboundRequest(
            id=request_id,
            project_id=source["project_id"],
            source_id=source["id"],
            received_at=received_at,
            method=request.method,
            path=path,
            query=request.scope["query_string"].decode("latin-1"),
            headers=headers,
            body=b64(body),
            verified=verified,
        )
        producer = state["producer"]
        produce_started = time.perf_counter()
        try:
            # No asyncio timer per request: the producer's message.timeout.ms is
            # produce_timeout_seconds, after which the send fails with KafkaUnavailable.
            await producer.send(requests_topic, inbound.to_json(), key=source["id"])
        except KafkaUnavailable:
            metrics.INGEST_REQUESTS.labels(source["id"], "KAFKA_UNAVAILABLE").inc()
            return error(
                503,
                "KAFKA_UNAVAILABLE",
                "The request could not be stored right now; it was not accepted. Retry later.",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        produce_latency.observe(time.perf_counter() - produce_started)
        metrics.INGEST_REQUESTS.labels(source["id"], "ACCEPTED").inc()
        metrics.INGEST_LATENCY.observe(time.perf_counter() - started)
        custom = source.get("custom_response")
        if custom:
            return Response(
                custom["body"], media_type=admission.CUSTOM_RESPONSE_MEDIA[custom["content_type"]]
            )
        return Response(
            orjson.dumps(
                {"status": "SUCCESS", "message": "Request stored.", "request_id": request_id}
            ),
            media_type="application/json",
        )

    async def record_rejection(
        request: Request,
        source: dict[str, Any],
        request_id: str,
        received_at: str,
        path: str,
        headers: dict[str, str],
        cause: str,
    ) -> None:
        """Rejected requests are recorded (without their body) so the API can list them."""
        metrics.INGEST_REQUESTS.labels(source["id"], cause).inc()
        row = RequestRow(
            id=request_id,
            project_id=source["project_id"],
            source_id=source["id"],
            created_at=received_at,
            method=request.method,
            path=path,
            query=request.url.query,
            headers=headers,
            body="",
            body_size=0,
            verified=None,
            rejection_cause=cause,
            events_count=0,
            version=now_ms(),
        )
        try:
            await state["producer"].send(
                records_topic, orjson.dumps(row), key=request_id, headers=[("kind", b"request")]
            )
        except KafkaUnavailable as exc:  # the caller still gets its 4xx; say what is missing
            log.warning(
                "rejected request %s (%s) not recorded: %s",
                request_id,
                cause,
                exc,
                extra={"request_id": request_id},
            )

    readiness = Readiness(
        {
            "kafka": KafkaProbe(settings),
            "config": lambda: config.ready,
        }
    )
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(
        routes=[  # the webhooks' routes first: Starlette tries them in order
            Route("/e/{source_id}", receive, methods=methods),
            Route("/e/{source_id}{path:path}", receive, methods=methods),
            Route("/v1/publish", publish, methods=["POST"]),
            *routes(readiness),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    settings = load()
    start("ingest", settings)
    serve_app(build_app(settings), settings, settings.ingest_port)
