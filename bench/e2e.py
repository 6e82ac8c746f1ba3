"""End-to-end latency at a constant offered rate: ingest accepted → destination received.

    .venv/bin/python -m bench.e2e [--rate 1000] [--seconds 20]

The load generator (its own process, open loop: a fixed send schedule, never waiting
for answers) stamps each webhook with its send time (``x-bench-sent-at``); the fast
receiver computes the latency on arrival.  The baseline is the same generator posting
the same webhooks straight to the receiver in the same run.  A run accounts for every
webhook: accepted by ingest, delivered, or still in flight at the cut-off.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any

import aiohttp
import orjson
import uvloop

from bench import harness
from hookhouse.stack.supervisor import read_env

PORTS = {"INGEST": 29700, "API": 29701, "ROUTER": 29702, "DELIVERER": 29703, "SINK": 29704}


async def generate(url: str, rate: int, seconds: int) -> dict[str, int]:
    """Send rate*seconds webhooks on a fixed schedule; count the answers."""
    counts = {"sent": 0, "accepted": 0, "rejected": 0, "errors": 0}
    body = orjson.dumps({"type": "order.created", "data": {"pad": "x" * 900}})
    tasks = set()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=512)) as session:

        async def one(n: int) -> None:
            headers = {
                "content-type": "application/json",
                "x-bench-id": str(n),
                "x-bench-sent-at": str(time.time_ns()),
            }
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    counts["accepted" if response.status < 300 else "rejected"] += 1
            except (aiohttp.ClientError, TimeoutError):
                counts["errors"] += 1

        start = time.monotonic()
        for n in range(rate * seconds):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            counts["sent"] += 1
        await asyncio.gather(*tasks)
    return counts


def row(name: str, counts: dict[str, int], stats: dict[str, Any], in_flight: str) -> str:
    figures = " | ".join(f"{stats[k]:.1f}" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
    return (
        f"| {name} | {counts['sent']} | {counts['accepted']} | {stats['unique']} | "
        f"{in_flight} | {figures} |"
    )


def api(env: dict[str, str], path: str, payload: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{env['HOOKHOUSE_API_URL']}/2024-03-01{path}",
        data=json.dumps(payload).encode(),
        headers={
            "Authorization": f"Bearer {env['HOOKHOUSE_API_KEY']}",
            "content-type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        result: dict[str, Any] = json.load(response)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    total = args.rate * args.seconds
    with harness.infrastructure(), harness.receiver() as receiver_url:
        settings = harness.settings()
        env = {
            **harness.env_of(settings),
            **{f"HOOKHOUSE_{name}_PORT": str(port) for name, port in PORTS.items()},
        }
        log = settings.home / "up.out"
        settings.home.mkdir(parents=True, exist_ok=True)
        stack = subprocess.Popen(
            [sys.executable, "-m", "hookhouse.cli", "up"],
            env=env,
            cwd=harness.REPO,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        try:
            harness.wait(lambda: "hookhouse is up" in log.read_text(), 180)
            state = read_env(settings.home / "stack.env")
            connection = api(
                state,
                "/connections",
                {
                    "name": "bench",
                    "source": {"name": "bench"},
                    "destination": {"name": "receiver", "url": receiver_url},
                },
            )
            source_url = connection["source"]["url"]

            print(f"baseline: {total} webhooks straight to the receiver…", flush=True)
            base_counts = uvloop.run(generate(receiver_url, args.rate, args.seconds))
            baseline = harness.stats(receiver_url)
            harness.reset(receiver_url)

            print(f"hookhouse: {total} webhooks through ingest…", flush=True)
            counts = uvloop.run(generate(source_url, args.rate, args.seconds))
            deadline = time.monotonic() + 60
            while (
                harness.stats(receiver_url)["unique"] < counts["accepted"]
                and time.monotonic() < deadline
            ):
                time.sleep(0.5)
            ours = harness.stats(receiver_url)
        finally:
            stack.send_signal(signal.SIGTERM)
            stack.wait(120)

    in_flight = counts["accepted"] - ours["unique"]
    body = f"""## End-to-end latency at a constant rate (issues 6 and 8)

`.venv/bin/python -m bench.e2e --rate {args.rate} --seconds {args.seconds}`

{total} webhooks (1 KiB JSON) offered at a constant {args.rate}/s (open loop) by one
load-generator process; the whole local stack (`hookhouse up`: ingest, router,
deliverer, sink, api; one Kafka broker, embedded ClickHouse, default settings) on the
same 2 cores. Latency = arrival at the receiver minus the send time stamped by the generator.
Baseline: the same generator posting straight to the receiver, same run.

| | sent | accepted (2xx) | delivered | in flight at cut-off | p50 ms | p95 ms | p99 ms | max ms |
|---|---|---|---|---|---|---|---|---|
{row("baseline (direct)", base_counts, baseline, "-")}
{row("hookhouse", counts, ours, str(in_flight))}

Rejected by ingest: {counts["rejected"]}; client errors: {counts["errors"]}. Target:
p99 under 50 ms at 1,000 events/s.
"""
    harness.write_section("e2e", body)
    print(body)


if __name__ == "__main__":
    main()
