"""``/healthz``, ``/readyz`` and ``/metrics`` for every service's HTTP server.

``/healthz`` says the process is alive.  ``/readyz`` runs the service's readiness
checks (Kafka answers, ClickHouse answers, the config view caught up) in a thread,
at most once a second, and answers 503 naming the failing checks.  A consumer service
adds its place in its group (``membership.py``): the ``group`` check passes once it is
a settled member, and the body says how (``{"state": "idle", "partitions": 0}`` for a
surplus replica, ready but with nothing to read).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hookhouse.common.membership import Membership
from hookhouse.common.metrics import REGISTRY

Check = Callable[[], bool]


class Readiness:
    def __init__(
        self,
        checks: Mapping[str, Check],
        cache_seconds: float = 1.0,
        group: Callable[[], Membership] | None = None,
    ) -> None:
        """``group``: the service's membership in its consumer group, if it has one."""
        self._checks = dict(checks)
        self._group = group
        self._cache_seconds = cache_seconds
        self._last: tuple[float, dict[str, bool], Membership | None] = (0.0, {}, None)
        self._lock = asyncio.Lock()

    async def _results(self) -> tuple[dict[str, bool], Membership | None]:
        async with self._lock:
            checked_at, results, group = self._last
            if time.monotonic() - checked_at > self._cache_seconds:
                results = await asyncio.to_thread(self._run)
                group = self._group() if self._group is not None else None
                if group is not None:
                    results["group"] = group.ready
                self._last = (time.monotonic(), results, group)
            return results, group

    def _run(self) -> dict[str, bool]:
        out = {}
        for name, check in self._checks.items():
            try:
                out[name] = bool(check())
            except Exception:
                out[name] = False
        return out

    async def body(self) -> tuple[bool, dict[str, Any]]:
        """Whether every check passes, and ``/readyz``'s body."""
        results, group = await self._results()
        ok = all(results.values())
        body: dict[str, Any] = {"status": "ready" if ok else "not_ready", "checks": results}
        if group is not None:
            body["group"] = group.describe()
        return ok, body


def routes(readiness: Readiness, extra: CollectorRegistry | None = None) -> list[Route]:
    """The three routes; ``/metrics`` serves ``REGISTRY`` and then ``extra``'s metrics,
    gathered on a thread (``extra`` may ask the broker)."""

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        ok, body = await readiness.body()
        return JSONResponse(body, status_code=200 if ok else 503)

    def exposition() -> bytes:
        return generate_latest(REGISTRY) + (generate_latest(extra) if extra else b"")

    async def metrics(_: Request) -> Response:
        return Response(await asyncio.to_thread(exposition), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
