"""A fast destination for benchmarks, in a process of its own.

Every request is answered 200 at once.  If it carries ``x-bench-sent-at`` (epoch
nanoseconds, stamped by the load generator when it sent the webhook to ingest), the
latency to arrival is recorded.  ``GET /stats`` returns the counts and percentiles;
``GET /arrivals`` the first arrival time of each ``x-bench-id``; ``GET /latencies``
every latency recorded (ms, in arrival order); ``POST /reset`` clears them.

A bare ASGI callable under uvicorn (httptools, uvloop), no framework: it shares the
machine with what is measured, and an aiohttp web application cost 57-134 µs of CPU
per request at full rate where this costs 35-42 µs (BENCHMARKS.md).
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn

latencies: list[float] = []
seen: set[bytes] = set()
arrivals: dict[bytes, int] = {}  # bench id -> first arrival, epoch ms
state = {"count": 0, "first": 0.0, "last": 0.0}

OK = b'{"ok":true}'
JSON = [(b"content-type", b"application/json")]


def receive(headers: list[tuple[bytes, bytes]]) -> None:
    now = time.time_ns()
    if not state["count"]:
        state["first"] = time.monotonic()
    state["count"] += 1
    state["last"] = time.monotonic()
    for name, value in headers:
        if name == b"x-bench-sent-at":
            latencies.append((now - int(value)) / 1e6)
        elif name == b"x-bench-id":
            seen.add(value)
            arrivals.setdefault(value, now // 1_000_000)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def stats() -> dict[str, Any]:
    return {
        "count": state["count"],
        "unique": len(seen),
        "seconds": state["last"] - state["first"],
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies) if latencies else float("nan"),
        "latencies": len(latencies),
        "pid": os.getpid(),  # for the benchmarks' CPU accounting
    }


def reset() -> dict[str, bool]:
    latencies.clear()
    seen.clear()
    arrivals.clear()
    state.update(count=0, first=0.0, last=0.0)
    return {"ok": True}


QUERIES: dict[tuple[str, str], Callable[[], Any]] = {
    ("GET", "/stats"): stats,
    ("GET", "/arrivals"): lambda: {key.decode(): ms for key, ms in arrivals.items()},
    ("GET", "/latencies"): lambda: latencies,
    ("POST", "/reset"): reset,
}


async def app(
    scope: dict[str, Any],
    read: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:  # the body is read and dropped
        more = (await read()).get("more_body", False)
    query = QUERIES.get((scope["method"], scope["path"]))
    if query is None:
        receive(scope["headers"])
        body = OK
    else:
        body = json.dumps(query()).encode()  # NaN as before: no latencies yet
    await send({"type": "http.response.start", "status": 200, "headers": JSON})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    # Full collections would delay arrivals (and their time stamps) by tens of ms; what
    # it holds grows untracked (floats, strings), so freezing what exists is enough.
    gc.freeze()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
