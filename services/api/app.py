"""The API service: configuration through the config log, queries through ClickHouse.

Writes append to the ``config`` topic and answer once this process has read them back
(DESIGN section 3).  Reads of requests, events and attempts query ClickHouse with the
caller's project in every ``WHERE``.  This module only assembles the app: the context
the handlers share (``context.py``), its start and stop, and the route table of the
families in ``handlers/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from hookhouse.api import dashboard, mock
from hookhouse.api.bodies import BodyTooLarge, BoundedBodies, body_too_large
from hookhouse.api.context import Context
from hookhouse.api.fields import error_response
from hookhouse.api.handlers import (
    attempts,
    backfill,
    backtest,
    bookmarks,
    bulk,
    custom_domains,
    events,
    issues,
    metrics,
    notifications,
    openapi,
    requests,
    resources,
    transformations,
)
from hookhouse.common.health import Readiness, routes
from hookhouse.common.kafka import KafkaProbe, ensure_topics
from hookhouse.common.lag import KafkaLag
from hookhouse.common.runtime import serve_app, start
from hookhouse.common.settings import Settings, load

log = logging.getLogger(__name__)

API_VERSION = "2024-03-01"


def build_app(settings: Settings) -> Starlette:
    ctx = Context.of(settings)
    readiness = Readiness(
        {
            "kafka": KafkaProbe(settings),
            "clickhouse": ctx.store.ok,
            "config": lambda: ctx.config.ready,
        }
    )
    kafka_gauges = CollectorRegistry(auto_describe=True)
    kafka_gauges.register(KafkaLag(settings))
    return Starlette(
        routes=[
            *routes(readiness, kafka_gauges),
            Mount(f"/{API_VERSION}", routes=versioned(ctx)),
            *dashboard.routes(),
            Route(  # "/mock" and anything under it ("/mock/{path}" would redirect "/mock")
                "/mock{path:path}", mock.MockDestination(), methods=mock.METHODS
            ),
        ],
        lifespan=functools.partial(lifespan, ctx),
        middleware=[Middleware(BoundedBodies, limit=settings.api_max_body_bytes)],
        exception_handlers={
            404: no_route,
            405: no_route,
            BodyTooLarge: body_too_large,
            Exception: internal_error,
        },
    )


def versioned(ctx: Context) -> list[BaseRoute]:
    """The API's routes under ``/{API_VERSION}``, in the order they are matched."""
    return [
        *openapi.routes(ctx, API_VERSION),
        *transformations.routes(ctx),  # before the resources': /transformations/{id}
        *requests.routes(ctx),
        *bookmarks.routes(ctx),
        *events.routes(ctx),
        *metrics.routes(ctx),
        *notifications.routes(ctx),
        *issues.routes(ctx),
        *bulk.routes(ctx),
        *backtest.routes(ctx),  # before the resources': /connections/{id}
        *backfill.routes(ctx),  # before the resources': /connections/{id}/backfill
        *attempts.routes(ctx),
        *custom_domains.routes(ctx),
        *resources.routes(ctx),
    ]


@contextlib.asynccontextmanager
async def lifespan(ctx: Context, _: Starlette) -> AsyncIterator[None]:
    await asyncio.to_thread(ensure_topics, ctx.settings)
    ctx.config.start()
    ctx.producer.start()  # on the server's loop, which its sends resolve on
    ctx.bulk.tasks.add(asyncio.create_task(ctx.bulk.resume_when_ready()))
    ctx.bulk.tasks.add(asyncio.create_task(notifications.keep_notifying(ctx)))
    yield
    for task in list(ctx.bulk.tasks):
        task.cancel()
    await asyncio.to_thread(ctx.producer.close)
    ctx.config.stop()
    ctx.javascript.close()


async def internal_error(request: Request, exc: Exception) -> Response:
    """A fault of the API's own, answered in its error shape rather than plain text
    (Starlette then raises it on, and the server logs its traceback)."""
    log.error("%s %s failed: %r", request.method, request.url.path, exc)
    return error_response(
        500, "INTERNAL_ERROR", "The API failed to answer this request; its log says why."
    )


async def no_route(request: Request, exc: Exception) -> Response:
    """Paths and methods the API does not have answer in its error shape too."""
    if isinstance(exc, HTTPException) and exc.status_code == 405:
        return error_response(
            405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed on {request.url.path}."
        )
    return error_response(404, "NOT_FOUND", f"Nothing is at {request.url.path}.")


def main() -> None:
    settings = load()
    start("api", settings)
    serve_app(build_app(settings), settings, settings.api_port)
