"""Process start-up shared by the services: logging, the settings line, HTTP serving."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Coroutine, Iterator
from typing import Any

import uvicorn
from pythonjsonlogger.json import JsonFormatter
from starlette.applications import Starlette
from starlette.types import ASGIApp
from uvicorn.config import STARTUP_FAILURE

from hookhouse.common.deadlines import deadlined
from hookhouse.common.health import Readiness, routes
from hookhouse.common.settings import Settings

log = logging.getLogger("hookhouse")

# Net allocations of young objects between two collections (Python's default: 700).
# At the default a busy service collected every few requests, each pass promoting what
# was in flight, and the older generations' passes grew with it: the deliverer spent a
# large share of its main thread collecting.  Non-cyclic garbage is freed at once
# whatever this is, so a larger value only lets cyclic garbage wait a little longer.
YOUNG_COLLECTION_THRESHOLD = 20_000


def settle_heap() -> None:
    """Call once start-up is done, before serving.

    What exists now lives as long as the process: it leaves the collector's passes
    (full passes over it came every few seconds under load, and each stalled everything
    in flight); and young objects are collected far less often.
    """
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, 10, 10)


def start(service: str, settings: Settings) -> None:
    """Configure logging and print the settings (secrets masked) once."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                static_fields={"service": service},
            )
        )
    else:
        text = f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s"
        handler.setFormatter(logging.Formatter(text))
    logging.basicConfig(level=settings.log_level.upper(), handlers=[handler], force=True)
    log.info("starting %s with %s", service, settings.describe())


# How often an HTTP server wakes to refresh its Date header and look for a shutdown.
TICK_SECONDS = 1.0


class Server(uvicorn.Server):
    """uvicorn's server, woken once a second rather than ten times.

    uvicorn's own loop sleeps 0.1 s between ticks, and its tick only refreshes the Date
    header once every ten.  An idle service spent about a tenth of its CPU on those
    wake-ups; now a shutdown is noticed within a second instead of a tenth of one.
    """

    async def main_loop(self) -> None:
        ticks = 0
        while not await self.on_tick(ticks):
            await asyncio.sleep(TICK_SECONDS)
            ticks = (ticks + 10) % 864_000  # a multiple of ten: each tick dates


class _EmbeddedServer(Server):
    """A uvicorn server inside a service whose own loop owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def client_bounds(settings: Settings) -> dict[str, Any]:
    """uvicorn's arguments that keep slow or idle clients from holding a server's
    connections (``deadlines.py``), for every hookhouse HTTP server."""
    return {
        "http": deadlined(
            settings.http_header_timeout_seconds,
            settings.http_body_timeout_seconds,
            settings.http_max_header_bytes,
        ),
        "timeout_keep_alive": settings.http_keep_alive_seconds,
        "limit_concurrency": settings.http_max_concurrency or None,
    }


def http_server(app: ASGIApp, settings: Settings, port: int) -> uvicorn.Server:
    """The health and metrics server of a service that is not itself an HTTP service."""
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=port,
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=5,
        **client_bounds(settings),
    )
    return _EmbeddedServer(config)


def serve_app(app: ASGIApp, settings: Settings, port: int) -> None:
    """Run an HTTP service (ingest, api) in the foreground until SIGINT/SIGTERM."""
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=port,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
        **client_bounds(settings),
    )
    server = Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:  # the port was taken, say: as uvicorn.run() exits
        sys.exit(STARTUP_FAILURE)


async def serve_beside(
    work: Coroutine[Any, Any, None],
    stop: asyncio.Event,
    readiness: Readiness,
    settings: Settings,
    port: int,
) -> None:
    """Run a consumer service's ``work`` with its health and metrics server on ``port``;
    SIGINT and SIGTERM set ``stop``, which ``work`` watches."""
    server = http_server(Starlette(routes=routes(readiness)), settings, port)
    stop_on_signals(stop)
    web = asyncio.create_task(server.serve())
    try:
        await work
    finally:
        server.should_exit = True
        await web


def stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
