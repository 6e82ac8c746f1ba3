"""Deliverer throughput against a raw aiohttp client sending the same requests.

    .venv/bin/python -m bench.deliverer [--events 20000]

Both send the same N requests (1 KiB JSON body, the headers the deliverer sends: the
delivery headers made by ``outbound_headers``) to the same fast local receiver (its own
process); the rate is N over the receiver's first-to-last arrival.  The deliverer reads
them from a pre-filled ``deliveries`` topic (4 partitions) and records every attempt
back to Kafka, as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import aiohttp
import orjson
import uvloop

from bench import harness
from hookhouse.common import topics
from hookhouse.common.clock import now_ms
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.domain.attempt import outbound_headers
from hookhouse.common.domain.config import new_resource
from hookhouse.common.domain.records import Delivery, b64
from hookhouse.common.domain.times import iso_ms
from hookhouse.common.settings import Settings

BODY = orjson.dumps({"id": "evt", "type": "order.created", "data": {"pad": "x" * 950}})
CONCURRENCY = 64
DELIVERER_WARM_UP_EVENTS = 10000


async def raw_client(url: str, events: int, headers: dict[str, str]) -> None:
    """The baseline: one process, one session, bounded in-flight (BASELINES' advice)."""
    gate = asyncio.Semaphore(CONCURRENCY)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:

        async def one() -> None:
            async with gate, session.post(url, data=BODY, headers=headers) as response:
                await response.read()

        await asyncio.gather(*(one() for _ in range(events)))


def measure_raw(url: str, events: int, headers: dict[str, str], cpu: harness.CpuMeter) -> float:
    """The raw client's requests per second (the receiver's first to last arrival)."""
    print(f"raw aiohttp client: {events} requests…", flush=True)
    cpu.start()
    uvloop.run(raw_client(url, events, headers))
    cpu.stop()
    rate = events / harness.stats(url)["seconds"]
    harness.reset(url)
    return float(rate)


def delivery(
    n: int, stamp: str, destination_id: str, connection_id: str, project_id: str
) -> Delivery:
    return Delivery(
        event_id=f"evt_{n:08d}",
        project_id=project_id,
        request_id=f"req_{n:08d}",
        source_id="src_b",
        connection_id=connection_id,
        destination_id=destination_id,
        created_at=stamp,
        received_at=stamp,
        method="POST",
        path="",
        query="",
        headers={"content-type": "application/json"},
        body=b64(BODY),
    )


def fill(
    settings: Settings, destination_id: str, connection_id: str, project_id: str, events: int
) -> None:
    stamp = iso_ms(now_ms())
    harness.produce_all(
        settings,
        topics.name(settings, topics.DELIVERIES),
        (
            (
                destination_id,
                delivery(n, stamp, destination_id, connection_id, project_id).to_json(),
            )
            for n in range(events)
        ),
    )


class Ids(NamedTuple):
    project: str
    destination: str
    connection: str


Fill = Callable[[Settings, str, str, str, int], None]


def run_deliverer(
    settings: Settings,
    ids: Ids,
    url: str,
    events: int,
    others: dict[str, int],
    filled_by: Fill = fill,
) -> tuple[dict[str, Any], float, harness.CpuMeter, int]:
    """Fill ``deliveries`` with ``events`` (or what ``filled_by`` fills) and run one
    deliverer until the receiver got them all.  The receiver's stats; the wall time from
    the start of the process; the CPU meter (the deliverer and the ``others`` processes)
    from the first arrival to the last, and the arrivals before it started."""
    print(f"filling {events} deliveries…", flush=True)
    filled_by(settings, ids.destination, ids.connection, ids.project, events)
    print("deliverer…", flush=True)
    env = {**harness.env_of(settings), "HOOKHOUSE_DELIVERER_PORT": "29810"}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "hookhouse.cli", "deliverer"], env=env, cwd=harness.REPO
    )
    cpu = harness.CpuMeter({"deliverer": process.pid, **others})
    try:
        harness.wait(lambda: harness.stats(url)["count"] > 0, 300)
        cpu.start()
        first = harness.stats(url)["count"]
        harness.wait(lambda: harness.stats(url)["count"] >= events, 600)
        cpu.stop()
    finally:
        process.terminate()
        process.wait(30)
    stats = {**harness.stats(url), "arrivals": harness.fetched(f"{url}/arrivals")}
    wall = time.monotonic() - started
    harness.reset(url)
    return stats, wall, cpu, first


def configure(settings: Settings, url: str, **connection: Any) -> Ids:
    """A project, the receiver as its destination, and a connection to it."""
    log = ConfigLog(settings)
    log.start()
    log.wait_ready(30)
    project = new_resource("tm", "", {"name": "bench", "signing_secret": "s"}, now_ms())
    log.append("project", project["id"], project)
    dest = new_resource("des", project["id"], {"name": "receiver", "url": url}, now_ms())
    log.append("destination", dest["id"], dest)
    conn = new_resource(
        "web",
        project["id"],
        {"name": "bench", "source_id": "src_b", "destination_id": dest["id"], **connection},
        now_ms(),
    )
    log.append("connection", conn["id"], conn)
    log.stop()
    return Ids(project["id"], dest["id"], conn["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--in-flight", type=int, default=256)
    args = parser.parse_args()
    with harness.infrastructure(), harness.receiver() as url:
        settings = harness.settings(topic_partitions=4, deliverer_max_in_flight=args.in_flight)
        ids = configure(settings, url)
        # What the deliverer sends for one of these deliveries, byte for byte in size.
        sample = delivery(0, iso_ms(now_ms()), ids.destination, ids.connection, ids.project)
        headers = outbound_headers(
            sample,
            settings.delivery_header_prefix,
            {"connection": "bench", "destination": "receiver"},
            None,
            settings.dashboard_url,
        )

        others = {"receiver": int(harness.stats(url)["pid"]), "Kafka broker": harness.broker_pid()}
        raw_cpu = harness.CpuMeter({"client": os.getpid(), **others})
        # The broker compiles the paths of the deliverer's traffic (a backlog fetched,
        # attempts produced) while it first serves them; the raw client does not use
        # it.  Measured runs see a broker that has served a deliverer before.
        run_deliverer(settings, ids, url, DELIVERER_WARM_UP_EVENTS, others)
        raw_before = measure_raw(url, args.events, headers, raw_cpu)

        ours, wall, ours_cpu, first = run_deliverer(settings, ids, url, args.events, others)
        raw_after = measure_raw(url, args.events, headers, harness.CpuMeter({}))

    raw_rate = (raw_before + raw_after) / 2
    our_rate = args.events / ours["seconds"]
    ratio = our_rate / raw_rate
    harness.record(
        "deliverer",
        {
            "headline": [
                {
                    "what": "deliverer, requests/s (vs a raw aiohttp client)",
                    "ours": our_rate,
                    "baseline": raw_rate,
                    "target": "≥ 0.60",
                }
            ]
        },
    )
    body = f"""## Deliverer throughput (issue 6)

`.venv/bin/python -m bench.deliverer --events {args.events}`

{args.events} POSTs of a 1 KiB JSON body to a fast local receiver (`bench/receiver.py`: a
bare ASGI callable under uvicorn, its own process). Baseline: one process with one
aiohttp session (uvloop, `TCPConnector(limit=100)`, {CONCURRENCY} in flight) sending the
same requests, with the {len(headers)} headers the deliverer sends (content type,
idempotency key and the `x-hookhouse-` delivery headers). hookhouse: one `hookhouse
deliverer` process reading a pre-filled `deliveries` topic
(4 partitions, one broker), recording every attempt (one record each) to Kafka; default settings
(`HOOKHOUSE_DELIVERER_MAX_IN_FLIGHT=256`). Before anything is measured, a first deliverer
process sends {DELIVERER_WARM_UP_EVENTS} deliveries the same way, so that the broker has compiled
the paths of that traffic (the raw client does not use the broker).
Rate = requests / (last arrival - first arrival) at the receiver. The raw client runs
before and after the deliverer ({raw_before:,.0f} and {raw_after:,.0f} requests/s); the
table has their mean.

| | requests/s | ratio |
|---|---|---|
| raw aiohttp client (baseline) | {raw_rate:,.0f} | 1.00 |
| hookhouse deliverer | {our_rate:,.0f} | {ratio:.2f} |

CPU per request, raw client (first run): {raw_cpu.per(args.events)}; deliverer (from
the first arrival to the last): {ours_cpu.per(args.events - first)}.

Target: ≥ 0.60 of the raw client. The deliverer's wall time including start-up and
consumer-group join was {wall:.1f} s.
"""
    harness.write_section("deliverer", body)
    print(body)


if __name__ == "__main__":
    main()
