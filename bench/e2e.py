"""End-to-end latency at a constant offered rate: ingest accepted → destination received.

    .venv/bin/python -m bench.e2e [--rates 1000,300] [--seconds 20]
                                  [--workers 1] [--partitions 4] [--section e2e]

The load generator (its own process, ``bench/loadgen.py``, open loop: a fixed send
schedule, never waiting for answers) stamps each webhook with its send time
(``x-bench-sent-at``); the fast receiver computes the latency on arrival.  The baseline
is the same generator posting the same webhooks straight to the receiver in the same
run.  A run accounts for every webhook: accepted by ingest, delivered, or still in
flight at the cut-off.

``--workers N`` runs N router and N deliverer processes (the stack's own plus N-1
more) on topics of ``--partitions`` partitions: the scaling figures of ``hookhouse
bench``.  Each run's figures and series are kept for its table and plots
(``harness.record``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import uvloop

from bench import harness, loadgen
from hookhouse.common import topics
from hookhouse.common.settings import Settings
from hookhouse.stack.supervisor import read_env

STACK_WARM_UP_SECONDS = 15  # per rate, before its measured run
STATISTICS_SECONDS = 1.5  # librdkafka's statistics interval, and some
OUTSIDE_THE_STACK = ("load generator", "receiver")
IDLE_SETTLE_SECONDS = 120.0
IDLE_SECONDS = 30.0

PORTS = {
    "INGEST": 29700,
    "API": 29701,
    "ROUTER": 29702,
    "DELIVERER": 29703,
    "SINK": 29704,
    "INGEST_METRICS": 29705,
    "WORKER": 29710,  # --workers: the second and later processes of each stage
}


async def generate(url: str, rate: int, seconds: int, tag: str = "") -> dict[str, int]:
    """Send rate*seconds webhooks on a fixed schedule; count the answers.

    Their ``x-bench-id`` is ``tag`` followed by a sequence number."""
    counts = {"sent": 0, "accepted": 0, "rejected": 0, "errors": 0}
    body = orjson.dumps({"type": "order.created", "data": {"pad": "x" * 900}})
    async with loadgen.Poster(url, body, {"content-type": "application/json"}) as poster:

        async def one(n: int) -> None:
            headers = {"x-bench-id": f"{tag}{n}", "x-bench-sent-at": str(time.time_ns())}
            try:
                status = await poster.post(headers)
                counts["accepted" if status < 300 else "rejected"] += 1
            except (loadgen.Failed, OSError):  # TimeoutError is an OSError
                counts["errors"] += 1

        counts["sent"] = await harness.at_fixed_rate(rate, seconds, one)
    return counts


def stamps(settings: Settings, topic: str, tag: str) -> dict[str, tuple[int, int]]:
    """bench id -> (time the generator sent it, record time on ``topic``), in epoch ms,
    for the ids that start with ``tag``."""
    found: dict[str, tuple[int, int]] = {}
    for message in harness.read_topic(settings, topics.name(settings, topic)):
        headers = orjson.loads(message.value() or b"{}").get("headers", {})
        if headers.get("x-bench-id", "").startswith(tag):
            sent = int(headers["x-bench-sent-at"]) // 1_000_000
            found.setdefault(headers["x-bench-id"], (sent, message.timestamp()[1]))
    return found


def stages(settings: Settings, arrivals: dict[str, int], tag: str) -> str:
    """Where the time goes, from the record time stamps each stage leaves on its topic
    and the receiver's ``arrivals`` (bench id -> epoch ms)."""
    ingested = stamps(settings, topics.REQUESTS, tag)
    routed = stamps(settings, topics.DELIVERIES, tag)
    spans: dict[str, list[float]] = {"ingest": [], "router": [], "deliverer": []}
    for key, (sent, at_ingest) in ingested.items():
        if key in routed and key in arrivals:
            spans["ingest"].append(at_ingest - sent)
            spans["router"].append(routed[key][1] - at_ingest)
            spans["deliverer"].append(arrivals[key] - routed[key][1])
    lines = ["| stage | p50 ms | p95 ms | p99 ms | max ms |", "|---|---|---|---|---|"]
    for stage, values in spans.items():
        values.sort()
        if not values:
            continue
        cut = [values[min(len(values) - 1, int(q * len(values)))] for q in (0.5, 0.95, 0.99)]
        lines.append(f"| {stage} | " + " | ".join(f"{v:.0f}" for v in [*cut, values[-1]]) + " |")
    return "\n".join(lines)


def shares(cpu: dict[str, float]) -> str:
    """``name share, …`` of a CPU measurement."""
    return ", ".join(f"{name} {share}" for name, share in cpu.items())


def stack_cpu_ms(cpu: harness.CpuMeter, delivered: int) -> float:
    """Milliseconds of CPU the stack's own processes used per delivered webhook."""
    used = sum(s for name, s in cpu.used.items() if name not in OUTSIDE_THE_STACK)
    return round(1000 * used / max(delivered, 1), 3)


def traffic_table(traffic: dict[str, dict[str, float]]) -> str:
    lines = ["| service | per webhook |", "|---|---|"]
    for service, counts in traffic.items():
        if counts:
            lines.append(
                f"| {service} | " + ", ".join(f"{k} {v:g}" for k, v in counts.items()) + " |"
            )
    return "\n".join(lines)


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


def measure(
    receiver_url: str, source_url: str, settings: Settings, rate: int, seconds: int, stack: int
) -> tuple[str, dict[str, Any]]:
    """One rate: baseline, warm-up, measured run; its table and stage breakdown, and
    its figures and series.  ``stack``: the supervisor's process, whose parts' CPU is
    measured while the webhooks are sent."""
    total = rate * seconds
    tag = f"r{rate}-"
    print(f"{rate}/s baseline: {total} webhooks straight to the receiver…", flush=True)
    base_counts = uvloop.run(generate(receiver_url, rate, seconds))
    baseline = harness.stats(receiver_url)
    direct = harness.fetched(f"{receiver_url}/latencies")
    harness.reset(receiver_url)

    # Steady state is what is measured: first connections, producer ids and group
    # joins happen during an unmeasured warm-up at the same rate, and so does most of
    # the broker's compiling of the paths this traffic takes (its JIT compiler threads
    # used 6-20% of a core for the first 15 s of it, 0-5% after).
    print(f"{rate}/s warm-up: {STACK_WARM_UP_SECONDS} s through ingest…", flush=True)
    warm = uvloop.run(generate(source_url, rate, STACK_WARM_UP_SECONDS, tag=f"warm{tag}"))
    harness.wait(lambda: harness.stats(receiver_url)["count"] >= warm["accepted"], 120)
    harness.reset(receiver_url)

    print(f"{rate}/s hookhouse: {total} webhooks through ingest…", flush=True)
    cpu = harness.CpuMeter(
        {
            **harness.stack_parts(stack),
            "load generator": os.getpid(),
            "receiver": harness.receiver_pid(),
        }
    )
    metrics_ports = {
        "ingest": PORTS["INGEST_METRICS"],
        **{name.lower(): PORTS[name] for name in ("ROUTER", "DELIVERER", "SINK", "API")},
    }
    traffic_before = harness.kafka_traffic(metrics_ports)
    cpu.start()
    counts = uvloop.run(generate(source_url, rate, seconds, tag=tag))
    cpu.stop()
    ours = harness.until_delivered(receiver_url, counts["accepted"], 60)
    time.sleep(STATISTICS_SECONDS)  # the clients' last counts reach /metrics
    traffic = harness.traffic_per(
        traffic_before, harness.kafka_traffic(metrics_ports), counts["accepted"]
    )
    arrived: dict[str, int] = harness.fetched(f"{receiver_url}/arrivals")
    breakdown = stages(settings, arrived, tag)
    arrivals = sorted(arrived.values())
    figures = {
        "rate": rate,
        "delivered_per_second": len(arrivals) / max((arrivals[-1] - arrivals[0]) / 1000, 1e-3)
        if arrivals
        else 0.0,
        "ours": ours,
        "baseline": baseline,
        "latencies": harness.fetched(f"{receiver_url}/latencies"),
        "direct": direct,
        "arrivals": [a - arrivals[0] for a in arrivals],
        "cpu": cpu.shares(),
        "machine_cpu": cpu.machine_share(),
        "stack_cpu_ms": stack_cpu_ms(cpu, ours["unique"]),
        "kafka_per_webhook": traffic,
    }
    harness.reset(receiver_url)
    in_flight = counts["accepted"] - ours["unique"]
    return (
        f"""### {rate} webhooks/s for {seconds} s

| | sent | accepted (2xx) | delivered | in flight at cut-off | p50 ms | p95 ms | p99 ms | max ms |
|---|---|---|---|---|---|---|---|---|
{row("baseline (direct)", base_counts, baseline, "-")}
{row("hookhouse", counts, ours, str(in_flight))}

Rejected by ingest: {counts["rejected"]}; client errors: {counts["errors"]}.

{breakdown}

CPU while the webhooks were sent (% of one core): {shares(figures["cpu"])}; the
machine as a whole was {figures["machine_cpu"]}% busy of {100 * (os.cpu_count() or 1)}%.
The stack's own processes (not the generator or the receiver) used
**{figures["stack_cpu_ms"]} ms of CPU per delivered webhook**.

Kafka, per accepted webhook, by service (requests sent to the broker, by kind, from
the clients' statistics; records produced →topic and consumed topic→):

{traffic_table(traffic)}

""",
        figures,
    )


@contextmanager
def running_stack(
    settings: Settings, receiver_url: str, workers: int = 1
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``hookhouse up`` (on ``PORTS``, ``workers`` processes per stage) with a
    connection to the receiver: its supervisor process and the source's URL."""
    env = {
        **harness.env_of(settings),
        **{f"HOOKHOUSE_{name}_PORT": str(port) for name, port in PORTS.items()},
        "HOOKHOUSE_WORKERS": str(workers),
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
        yield stack, str(connection["source"]["url"])
    finally:
        stack.send_signal(signal.SIGTERM)
        stack.wait(120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--rates", default="1000,300", help="comma-separated offered rates, one run each"
    )
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument(
        "--workers", type=int, default=1, help="router, deliverer and sink processes (up --workers)"
    )
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--section", default="e2e", help="its section of BENCHMARKS.md")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting of the stack (docs/settings.md, lower case without HOOKHOUSE_), "
        "e.g. --set kafka_linger_ms=1; repeatable",
    )
    args = parser.parse_args()
    overrides = dict(pair.split("=", 1) for pair in args.set)
    rates = [int(rate) for rate in args.rates.split(",")]
    with harness.infrastructure(), harness.receiver() as receiver_url:
        settings = harness.settings(topic_partitions=args.partitions, **overrides)
        with running_stack(settings, receiver_url, args.workers) as (stack, source_url):
            idle: dict[str, float] = {}
            if args.section == "e2e":  # the scaling runs do not report it
                # Start-up work done (topic metadata, first commits), and the broker's
                # compilation of what the start-up ran (its JIT took 4-8% of a core for
                # a minute or two): the idle stack as it runs for hours.
                time.sleep(IDLE_SETTLE_SECONDS)
                idle = harness.idle_cpu(stack.pid, IDLE_SECONDS)
                print(f"idle stack, % of a core: {idle}", flush=True)
            results = [
                measure(receiver_url, source_url, settings, rate, args.seconds, stack.pid)
                for rate in rates
            ]
    harness.record(
        args.section,
        {
            "workers": args.workers,
            "partitions": args.partitions,
            "idle": idle,
            "runs": [figures for _, figures in results],
            "headline": [
                {
                    "what": f"end to end at {figures['rate']:,}/s, p99 ms (vs direct)",
                    "ours": figures["ours"]["p99_ms"],
                    "baseline": figures["baseline"]["p99_ms"],
                    "target": "< 50 ms at 1,000/s",
                }
                for _, figures in results
            ]
            if args.section == "e2e"
            else [],
        },
    )

    if args.section != "e2e":
        print("".join(text for text, _ in results))
        return  # a scaling run: `hookhouse bench` tables it with the others
    body = f"""## End-to-end latency at a constant rate (issues 6 and 8)

`.venv/bin/python -m bench.e2e --rates {args.rates} --seconds {args.seconds}`

Webhooks (1 KiB JSON) offered at a constant rate (open loop) by one load-generator
process (`bench/loadgen.py`), its garbage collector off while it sends; the whole local
stack (`hookhouse up`: ingest, router, deliverer, sink, api; one Kafka broker, embedded
ClickHouse, default settings) on the same 2 cores. Latency = arrival at the receiver
minus the send time stamped by the generator. Baseline: the same generator posting
straight to the receiver, same run. Before each measured run, {STACK_WARM_UP_SECONDS} s
of the same traffic warm the stack up (not counted). Target: p99 under 50 ms at 1,000
events/s.

Stage tables: where the time goes, per webhook, from the time stamps of its records (ms
resolution): ingest = sent → record on `requests`; router = `requests` → record on
`deliveries`; deliverer = `deliveries` → arrival at the receiver.

{"".join(text for text, _ in results)}
### The stack with no traffic

CPU of each part over {IDLE_SECONDS:g} s with nothing sent, {IDLE_SETTLE_SECONDS:g} s after the
stack was up and before the runs above (% of one core):
{shares(idle)}; {sum(idle.values()):.1f} in all. An idle consumer on a webhook's way
sends one fetch per `HOOKHOUSE_KAFKA_FETCH_WAIT_MS` (2 s), answered as soon as a
record arrives (with 10 ms, the default until issue 32, the broker alone used 18% of a
core idle); the other readers (sink, releaser, config log) fetch every 0.5 to 2 s, and an
idle service wakes about once a second.
"""
    harness.write_section("e2e", body)
    print(body)


if __name__ == "__main__":
    main()
