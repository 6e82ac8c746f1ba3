"""A fast destination for benchmarks, in a process of its own.

Every request is answered 200 at once.  If it carries ``x-bench-sent-at`` (epoch
nanoseconds, stamped by the load generator when it sent the webhook to ingest), the
latency to arrival is recorded.  ``GET /stats`` returns the counts and percentiles;
``GET /arrivals`` the first arrival time of each ``x-bench-id``; ``GET /latencies``
every latency recorded (ms, in arrival order); ``POST /reset`` clears them.
"""

from __future__ import annotations

import gc
import os
import sys
import time

from aiohttp import web

latencies: list[float] = []
seen: set[str] = set()
arrivals: dict[str, int] = {}  # bench id -> first arrival, epoch ms
state = {"count": 0, "first": 0.0, "last": 0.0}


async def receive(request: web.Request) -> web.Response:
    await request.read()
    now = time.time_ns()
    if not state["count"]:
        state["first"] = time.monotonic()
    state["count"] += 1
    state["last"] = time.monotonic()
    sent = request.headers.get("x-bench-sent-at")
    if sent:
        latencies.append((now - int(sent)) / 1e6)
    key = request.headers.get("x-bench-id")
    if key:
        seen.add(key)
        arrivals.setdefault(key, now // 1_000_000)
    return web.Response(text='{"ok":true}', content_type="application/json")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def stats(_: web.Request) -> web.Response:
    return web.json_response(
        {
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
    )


async def arrived(_: web.Request) -> web.Response:
    return web.json_response(arrivals)


async def recorded(_: web.Request) -> web.Response:
    return web.json_response(latencies)


async def reset(_: web.Request) -> web.Response:
    latencies.clear()
    seen.clear()
    arrivals.clear()
    state.update(count=0, first=0.0, last=0.0)
    return web.json_response({"ok": True})


def main() -> None:
    app = web.Application()
    app.router.add_get("/stats", stats)
    app.router.add_get("/arrivals", arrived)
    app.router.add_get("/latencies", recorded)
    app.router.add_post("/reset", reset)
    app.router.add_route("*", "/{tail:.*}", receive)
    # Full collections would delay arrivals (and their time stamps) by tens of ms; what
    # it holds grows untracked (floats, strings), so freezing what exists is enough.
    gc.freeze()
    web.run_app(
        app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=lambda *_: None
    )


if __name__ == "__main__":
    main()
