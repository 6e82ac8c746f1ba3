"""``/healthz``, ``/readyz`` and ``/metrics`` for every service's HTTP server.

``/healthz`` says the process is alive.  ``/readyz`` runs the service's readiness
checks (Kafka answers, ClickHouse answers, the config view caught up) in a thread,
at most once a second, and answers 503 naming the failing checks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hookhouse.common.metrics import REGISTRY

Check = Callable[[], bool]


class Readiness:
    def __init__(self, checks: Mapping[str, Check], cache_seconds: float = 1.0) -> None:
        self._checks = dict(checks)
        self._cache_seconds = cache_seconds
        self._last: tuple[float, dict[str, bool]] = (0.0, {})
        self._lock = asyncio.Lock()

    async def results(self) -> dict[str, bool]:
        async with self._lock:
            checked_at, results = self._last
            if time.monotonic() - checked_at > self._cache_seconds:
                results = await asyncio.to_thread(self._run)
                self._last = (time.monotonic(), results)
            return results

    def _run(self) -> dict[str, bool]:
        out = {}
        for name, check in self._checks.items():
            try:
                out[name] = bool(check())
            except Exception:
                out[name] = False
        return out


def routes(readiness: Readiness, extra: CollectorRegistry | None = None) -> list[Route]:
    """The three routes; ``/metrics`` serves ``REGISTRY`` and then ``extra``'s metrics,
    gathered on a thread (``extra`` may ask the broker)."""

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        results = await readiness.results()
        ok = all(results.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": results},
            status_code=200 if ok else 503,
        )

    def exposition() -> bytes:
        return generate_latest(REGISTRY) + (generate_latest(extra) if extra else b"")

    async def metrics(_: Request) -> Response:
        return Response(await asyncio.to_thread(exposition), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
