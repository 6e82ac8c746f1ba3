"""CPU per delivered webhook, part by part, to size a cluster with (issue 28 item 5):
``python -m bench.scale [--rate 600] [--seconds 20]``.

On 2 cores more processes cannot add throughput, so this measures what each part costs:
for 1 and 3 Kafka brokers and 1 and 2 processes per stage (router, deliverer, sink), a
whole stack of its own (``hookhouse up --brokers B --workers W``, 8 partitions, ports
28400-28499) is offered webhooks at a constant rate the machine carries, and the CPU
time each part spends per delivered webhook is read from ``/proc`` (all brokers
together, each stage's processes together, ClickHouse), from the first send until every
webhook is delivered and a sink batch has passed.  The webhooks per second one core
carries at that cost is 1 / the total.  Writes its section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop

from bench import e2e, harness
from hookhouse.stack.supervisor import read_env
from tests.e2e.running import Stack

PORTS = {
    "HOOKHOUSE_INGEST_PORT": "28400",
    "HOOKHOUSE_API_PORT": "28401",
    "HOOKHOUSE_ROUTER_PORT": "28402",
    "HOOKHOUSE_DELIVERER_PORT": "28403",
    "HOOKHOUSE_SINK_PORT": "28404",
    "HOOKHOUSE_INGEST_METRICS_PORT": "28405",
    "HOOKHOUSE_WORKER_PORT": "28410",
    "HOOKHOUSE_CLICKHOUSE_HTTP_PORT": "28423",
    "HOOKHOUSE_CLICKHOUSE_TCP_PORT": "28480",
    "HOOKHOUSE_KAFKA_PORT": "28492",
    "HOOKHOUSE_KAFKA_CONTROLLER_PORT": "28493",
    "HOOKHOUSE_TOPIC_PARTITIONS": "8",
    "HOOKHOUSE_KAFKA_HEAP": "512m",
    "HOOKHOUSE_LOG_LEVEL": "WARNING",
}
CONFIGS = ((1, 1), (1, 2), (3, 1), (3, 2))  # (brokers, processes per stage)
PARTS = ("Kafka", "ClickHouse", "ingest", "router", "deliverer", "sink", "api")
WARM_UP_SECONDS = 45  # the brokers' JIT compiling is done (it costs most in the first 30 s)
IDLE_SECONDS = 10
SINK_BATCH_SECONDS = 1.5  # a sink batch (1 s) has passed after the last delivery


def part_of(args: list[bytes]) -> str | None:
    """Which part of the stack a process with this command line is."""
    if b"kafka.Kafka" in args:
        return "Kafka"
    if any(b"clickhouse_server" in a for a in args):
        return "ClickHouse"
    if b"hookhouse.cli" in args:
        return args[args.index(b"hookhouse.cli") + 1].decode()
    return None


def processes(supervisor: int) -> dict[str, int]:
    """Every child of the supervisor that is a part of the stack, named ``part:pid``."""
    found = {}
    for entry in Path("/proc").iterdir():
        with suppress(OSError, IndexError, ValueError):
            parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            part = part_of((entry / "cmdline").read_bytes().split(b"\0"))
            if parent == supervisor and part is not None:
                found[f"{part}:{entry.name}"] = int(entry.name)
    return found


def by_part(used: dict[str, float]) -> dict[str, float]:
    """CPU seconds by part, its processes summed."""
    parts: dict[str, float] = defaultdict(float)
    for name, seconds in used.items():
        parts[name.partition(":")[0]] += seconds
    return {part: parts[part] for part in PARTS}


def per_webhook(window: Window) -> dict[str, float]:
    """Milliseconds of CPU per delivered webhook, by part."""
    return {part: 1000 * window.cpu[part] / max(window.delivered, 1) for part in PARTS}


@dataclass
class Window:
    """One loaded run: webhooks delivered, and CPU seconds by part."""

    delivered: int
    accepted: int
    cpu: dict[str, float]
    machine: float


def loaded(url: str, receiver: str, parts: dict[str, int], rate: int, seconds: int) -> Window:
    """``rate`` webhooks/s for ``seconds``, measured until all are delivered and a sink
    batch has passed."""
    meter = harness.CpuMeter(parts)
    meter.start()
    counts = uvloop.run(e2e.generate(url, rate, seconds, tag=f"r{rate}-"))
    harness.wait(lambda: harness.stats(receiver)["unique"] >= counts["accepted"], 120)
    time.sleep(SINK_BATCH_SECONDS)
    meter.stop()
    delivered = harness.stats(receiver)["unique"]
    harness.reset(receiver)
    return Window(delivered, counts["accepted"], by_part(meter.used), meter.machine_share())


def measure(brokers: int, workers: int, rate: int, seconds: int, receiver: str) -> dict[str, Any]:
    home = harness.HOME / f"scale-b{brokers}-w{workers}"
    shutil.rmtree(home, ignore_errors=True)
    ports = {**PORTS, "HOOKHOUSE_KAFKA_BROKERS": str(brokers), "HOOKHOUSE_WORKERS": str(workers)}
    stack = Stack(home, ports)
    stack.up()
    try:
        assert stack.process is not None
        state = read_env(home / "stack.env")
        connection = e2e.api(
            state,
            "/connections",
            {
                "name": "scale",
                "source": {"name": "scale"},
                "destination": {"name": "r", "url": receiver},
            },
        )
        url = connection["source"]["url"]
        print(f"{brokers} broker(s), {workers} per stage: warm-up…", flush=True)
        warm = uvloop.run(e2e.generate(url, rate, WARM_UP_SECONDS, tag="warm"))
        harness.wait(lambda: harness.stats(receiver)["unique"] >= warm["accepted"], 120)
        harness.reset(receiver)
        parts = processes(stack.process.pid)
        quiet = harness.CpuMeter(parts)
        quiet.start()
        time.sleep(IDLE_SECONDS)
        quiet.stop()
        idle = {part: used / quiet.seconds for part, used in by_part(quiet.used).items()}
        print(f"{brokers} broker(s), {workers} per stage: {rate}/s…", flush=True)
        window = loaded(url, receiver, parts, rate, seconds)
    finally:
        stack.down()
    cost = per_webhook(window)
    total = sum(cost.values())
    return {
        "brokers": brokers,
        "workers": workers,
        "accepted": window.accepted,
        "delivered": window.delivered,
        "ms": cost,
        "idle": {part: round(100 * share, 1) for part, share in idle.items()},
        "total_ms": total,
        "per_core": 1000 / total if total > 0 else 0.0,
        "machine_cpu": window.machine,
    }


def table(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| brokers | processes per stage | delivered | "
        + " | ".join(PARTS)
        + " | all parts | webhooks/s per core |",
        "|---|---|---|" + "---|" * len(PARTS) + "---|---|",
    ]
    for run in runs:
        cells = " | ".join(f"{run['ms'][part]:.3f}" for part in PARTS)
        lines.append(
            f"| {run['brokers']} | {run['workers']} | {run['delivered']:,} of "
            f"{run['accepted']:,} | {cells} | {run['total_ms']:.3f} | {run['per_core']:,.0f} |"
        )
    return "\n".join(lines)


def idle_table(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| brokers | processes per stage | " + " | ".join(PARTS) + " | all parts |",
        "|---|---|" + "---|" * len(PARTS) + "---|",
    ]
    for run in runs:
        cells = " | ".join(f"{run['idle'][part]:.1f}" for part in PARTS)
        total = sum(run["idle"].values())
        lines.append(f"| {run['brokers']} | {run['workers']} | {cells} | {total:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=600, help="webhooks per second offered")
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    with harness.receiver() as receiver:
        runs = [measure(b, w, args.rate, args.seconds, receiver) for b, w in CONFIGS]
    harness.record("scale", {"runs": runs, "headline": []})
    body = f"""## Scale: CPU per delivered webhook

`.venv/bin/python -m bench.scale --rate {args.rate} --seconds {args.seconds}`

On 2 cores more processes cannot add throughput, so these are the figures to size a
cluster with, for 1 and 3 Kafka brokers (replication 1, or 3 with 2 in sync) and 1 and 2
processes per stage (router, deliverer, sink; `hookhouse up --brokers B --workers W`, 8
partitions), 1 KiB JSON webhooks on one connection with no rules. Each stack gets
{WARM_UP_SECONDS} s of traffic first (the brokers' JIT), then {IDLE_SECONDS} s with nothing
sent (its idle cost), then {args.rate:,} webhooks/s for {args.seconds} s. CPU is read
from `/proc` for every process of the stack, from the first send until every webhook
was delivered and a sink batch had passed; "Kafka" is all brokers together, a stage all
its processes; the load generator and the receiver are not counted.

**Per delivered webhook**: milliseconds of CPU each part spent over the run, divided by
the webhooks delivered, fixed cost included; "webhooks/s per core" is 1,000 / "all
parts". These are upper bounds: a part's cost per webhook falls as the rate rises,
because the consumers fetch on a fixed cadence and carry more records per fetch (a
second run that subtracted a 150/s run from a 300/s one got negative costs for Kafka:
more traffic made the brokers' work per webhook smaller, on a machine already 175 to 196%
busy). The end-to-end section above measures the same stack at 1,000/s.

{table(runs)}

**Idle**, % of one core with nothing sent (a fixed cost per process, mostly the
consumers' empty fetches every `HOOKHOUSE_KAFKA_FETCH_WAIT_MS` and the brokers answering
them):

{idle_table(runs)}

To size a cluster, take the idle row per process and the per-webhook figure times the
rate, per part: e.g. 1,000 webhooks/s at 3 ms of CPU per webhook for all parts is 3
cores, at most.

Machine busy during each run (% of one core, of {100 * (os.cpu_count() or 1)}%):
{", ".join(f"{r['brokers']}/{r['workers']}: {r['machine_cpu']}%" for r in runs)}.
"""
    harness.write_section("scale", body)
    print(body)


if __name__ == "__main__":
    main()
