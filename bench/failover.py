"""Failover under a steady load (issue 28 item 4): ``python -m bench.failover``.

Runs its own stack (``hookhouse up --brokers 3 --clickhouse-shards 2 --workers 2`` on
ports 28300-28399, beside the suite's infrastructure and the end-to-end stack), posts
webhooks at a fixed rate and, one after another, SIGKILLs a broker, a router of two, a
deliverer of two and a ClickHouse shard; the supervisor restarts each.  Then the same
with one process per stage (router and deliverer kills).  For each kill: webhooks
refused (goal 0) and answered 5xx, the time until delivery resumed (the longest time
without a delivery after the kill), and p50/p99 latency of the webhooks sent during
(``--hold`` seconds after the kill) and after (the next ``--hold`` seconds).  Writes its
section of BENCHMARKS.md.  ``tests/integration/test_cluster_failover.py`` runs the same
scenario, shorter, and asserts that nothing accepted is lost.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import clickhouse_connect
import httpx

from bench import harness
from hookhouse.stack.ports import is_listening
from hookhouse.stack.supervisor import pid_alive, read_env
from tests.e2e.running import Stack, connect, wait_for
from tests.receiver import Receiver

PORTS = {
    "HOOKHOUSE_INGEST_PORT": "28300",
    "HOOKHOUSE_API_PORT": "28301",
    "HOOKHOUSE_ROUTER_PORT": "28302",
    "HOOKHOUSE_DELIVERER_PORT": "28303",
    "HOOKHOUSE_SINK_PORT": "28304",
    "HOOKHOUSE_INGEST_METRICS_PORT": "28305",
    "HOOKHOUSE_WORKER_PORT": "28310",  # 28310-28312: the second router, deliverer, sink
    "HOOKHOUSE_CLICKHOUSE_HTTP_PORT": "28323",  # shard 2: 28333
    "HOOKHOUSE_CLICKHOUSE_TCP_PORT": "28380",  # shard 2: 28390
    "HOOKHOUSE_KAFKA_PORT": "28392",  # brokers 28392, 28394, 28396
    "HOOKHOUSE_KAFKA_CONTROLLER_PORT": "28393",  # 28393, 28395, 28397
    "HOOKHOUSE_KAFKA_HEAP": "256m",  # three JVMs on a shared machine
}
# Sources (each its own connection and destination path): records are keyed by source
# and destination, so one of each would load one partition, one process of a stage.
SOURCES = 8
SENT_HEADER = "x-failover-sent"  # the sender's clock (monotonic, this process) at the post


@dataclass(frozen=True)
class Kill:
    child: str  # its name in pids.json
    what: str  # as the table says it
    port: int | None = None  # listening again means it is back


def cluster_kills() -> list[Kill]:
    return [
        Kill("kafka-2", "broker (1 of 3)", int(PORTS["HOOKHOUSE_KAFKA_PORT"]) + 2),
        Kill("router-1", "router (1 of 2)"),
        Kill("deliverer-1", "deliverer (1 of 2)"),
        Kill("clickhouse-2", "ClickHouse shard (1 of 2)", 28333),
    ]


SINGLE_KILLS = [
    Kill("router", "router (the only one)"),
    Kill("deliverer", "deliverer (the only one)"),
]


@dataclass
class Sent:
    at: float
    status: int = 0  # 0: no answer
    request_id: str | None = None


class Load:
    """Posts webhooks at ``rate`` per second on a fixed schedule from a pool of threads
    (a slow answer never delays the next post), to each of ``urls`` in turn; keeps every
    answer."""

    def __init__(self, urls: list[str], rate: int) -> None:
        self.urls, self.rate = urls, rate
        self.sent: list[Sent] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        limits = httpx.Limits(max_connections=64)
        with httpx.Client(timeout=30, limits=limits) as client, ThreadPoolExecutor(64) as pool:
            start = time.monotonic()
            for n in itertools.count():
                if self.stopping.wait(max(0.0, start + n / self.rate - time.monotonic())):
                    break
                pool.submit(self.post, client, n)

    def post(self, client: httpx.Client, n: int) -> None:
        sent = Sent(time.monotonic())
        self.sent.append(sent)
        try:
            url = self.urls[n % len(self.urls)]
            answer = client.post(url, json={"n": n}, headers={SENT_HEADER: repr(sent.at)})
        except httpx.HTTPError:
            return
        sent.status = answer.status_code
        if answer.status_code == 200:
            sent.request_id = answer.json()["request_id"]

    def accepted(self) -> set[str]:
        return {s.request_id for s in list(self.sent) if s.request_id is not None}

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join()


@dataclass
class Phase:
    kill: Kill
    at: float  # when it was killed
    until: float = 0.0  # the next kill, or the end of the load
    figures: dict[str, Any] = field(default_factory=dict)


def longest_gap(arrivals: list[float], since: float, until: float = float("inf")) -> float:
    """The longest time without a delivery from ``since`` to the last arrival before
    ``until``."""
    after = sorted(a for a in arrivals if since <= a < until)
    edges = [since, *after]
    return max((b - a for a, b in itertools.pairwise(edges)), default=0.0)


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def first_arrivals(receiver: Receiver) -> dict[str, float]:
    """Each request's first delivery: its arrival minus its send time, and when."""
    seen: dict[str, float] = {}
    for got in receiver.snapshot():
        request = got.headers.get("x-hookhouse-request-id")
        if request is not None and request not in seen:
            seen[request] = got.at
    return seen


def measure(phase: Phase, sent: list[Sent], arrived: dict[str, float], hold: float) -> None:
    """The phase's figures: refusals over the whole phase, recovery, latency during the
    ``hold`` seconds after the kill and after them."""
    mine = [s for s in sent if phase.at <= s.at < phase.until]

    def latencies(start: float, end: float) -> list[float]:
        return [
            (arrived[s.request_id] - s.at) * 1000
            for s in mine
            if start <= s.at < end and s.request_id in arrived
        ]

    during, after = latencies(phase.at, phase.at + hold), latencies(phase.at + hold, phase.until)
    phase.figures = {
        "sent": len(mine),
        "refused": sum(1 for s in mine if s.status != 200),
        "5xx": sum(1 for s in mine if s.status >= 500),
        "recovery_s": longest_gap(list(arrived.values()), phase.at, phase.until),
        "longest_wait_s": max(during, default=0.0) / 1000,
        "during_p50_ms": percentile(during, 50),
        "during_p99_ms": percentile(during, 99),
        "after_p50_ms": percentile(after, 50),
        "after_p99_ms": percentile(after, 99),
    }


def table(phases: list[Phase]) -> str:
    rows = [
        "| kill | sent | refused (goal 0) | 5xx | delivery resumed after (s) | longest wait (s) "
        "| p50 / p99 during (ms) | p50 / p99 after (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in phases:
        f = phase.figures
        rows.append(
            f"| {phase.kill.what} | {f['sent']} | {f['refused']} | {f['5xx']} "
            f"| {f['recovery_s']:.1f} | {f['longest_wait_s']:.1f} "
            f"| {f['during_p50_ms']:.0f} / {f['during_p99_ms']:.0f} "
            f"| {f['after_p50_ms']:.0f} / {f['after_p99_ms']:.0f} |"
        )
    return "\n".join(rows)


def victim(home: Path, name: str) -> int:
    """The process ``name`` runs as now (``pids.json``, rewritten at each restart)."""
    pid: int = json.loads((home / "pids.json").read_text())[name]
    return pid


def kill_and_wait(home: Path, kill: Kill, arrivals: Any, hold: float) -> Phase:
    """SIGKILL ``kill.child``; return once its supervisor restarted it (and it listens),
    delivery resumed and ``2 * hold`` seconds passed."""
    old = victim(home, kill.child)
    phase = Phase(kill, time.monotonic())
    os.kill(old, signal.SIGKILL)

    def back() -> bool:
        pid = victim(home, kill.child)
        listening = kill.port is None or is_listening("127.0.0.1", kill.port)
        resumed = any(a > phase.at for a in arrivals())
        return pid != old and pid_alive(pid) and listening and resumed

    wait_for(back, 180, every=0.1)
    time.sleep(max(0.0, phase.at + 2 * hold - time.monotonic()))
    return phase


def stored(stack: Stack, ids: set[str]) -> int:
    """How many of ``ids`` the Distributed ``requests`` table holds (asked 1,000 at a time:
    ten thousand ids in one query pass ClickHouse's limit on a query's size)."""
    env = read_env(stack.home / "stack.env")
    client = clickhouse_connect.get_client(dsn=env["HOOKHOUSE_CLICKHOUSE_URL"])
    ordered, found = sorted(ids), 0
    try:
        for start in range(0, len(ordered), 1000):
            found += client.query(
                "SELECT uniqExact(id) FROM hookhouse.requests WHERE id IN {ids:Array(String)}",
                parameters={"ids": ordered[start : start + 1000]},
            ).result_rows[0][0]
    except Exception as exc:  # a shard still starting: not yet
        print(f"failover: ClickHouse not answering yet ({type(exc).__name__})", flush=True)
        return 0
    finally:
        client.close()
    return int(found)


@dataclass
class Run:
    phases: list[Phase]
    load: Load
    receiver: Receiver


@contextmanager
def stack_up(home: Path, workers: int) -> Iterator[Stack]:
    ports = {**PORTS, "HOOKHOUSE_KAFKA_BROKERS": "3", "HOOKHOUSE_WORKERS": str(workers)}
    stack = Stack(home, ports, args=("--clickhouse-shards", "2"))
    stack.up()
    try:
        yield stack
    finally:
        if stack.process is not None:
            stack.down()


def scenario(stack: Stack, kills: list[Kill], rate: int, hold: float) -> Run:
    """Load the stack, kill each in turn, wait until everything accepted is delivered and
    stored; the figures are in each phase."""
    with Receiver() as receiver:
        return load_and_kill(stack, receiver, kills, rate, hold)


def load_and_kill(
    stack: Stack, receiver: Receiver, kills: list[Kill], rate: int, hold: float
) -> Run:
    urls = [
        connect(stack, receiver, f"failover-{n}", path=f"/hooks/{n}")["source"]["url"]
        for n in range(SOURCES)
    ]

    def arrivals() -> list[float]:
        return list(first_arrivals(receiver).values())

    phases = []
    with Load(urls, rate) as load:
        wait_for(lambda: len(arrivals()) >= rate, 120)  # a second's worth delivered
        time.sleep(hold)
        for kill in kills:
            phases.append(kill_and_wait(stack.home, kill, arrivals, hold))
    ends = [phase.at for phase in phases[1:]] + [time.monotonic()]
    accepted = load.accepted()
    wait_for(lambda: accepted <= set(first_arrivals(receiver)), 180)
    try:
        wait_for(lambda: stored(stack, accepted) == len(accepted), 180, every=1.0)
    except AssertionError as exc:  # say how many, for whoever looks into it
        found = stored(stack, accepted)
        raise AssertionError(f"{len(accepted)} accepted, {found} in ClickHouse") from exc
    arrived = first_arrivals(receiver)
    for phase, end in zip(phases, ends, strict=True):
        phase.until = end
        measure(phase, load.sent, arrived, hold)
    return Run(phases, load, receiver)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=100, help="webhooks per second")
    parser.add_argument(
        "--hold", type=float, default=30.0, help="seconds 'during' a kill, and 'after' it"
    )
    args = parser.parse_args()
    results: dict[str, list[Phase]] = {}
    for workers, kills in ((2, cluster_kills()), (1, SINGLE_KILLS)):
        home = harness.HOME / f"failover-{workers}"
        shutil.rmtree(home, ignore_errors=True)  # a stack of its own, new each run
        with stack_up(home, workers) as stack:
            results[f"{workers}"] = scenario(stack, kills, args.rate, args.hold).phases
    body = f"""## Failover under a steady load (issue 28)

`.venv/bin/python -m bench.failover --rate {args.rate} --hold {args.hold:g}`

Its own stack: `hookhouse up --brokers 3 --clickhouse-shards 2 --workers 2` (3 KRaft
brokers, replication 3, min ISR 2; two embedded ClickHouse servers as one cluster; two
router, deliverer and sink processes), {args.rate} webhooks/s posted on a fixed schedule
to {SOURCES} sources (each with its own connection and destination, so every partition
has records).
One after another, each SIGKILLed and restarted by the supervisor: a broker, a router, a
deliverer, a ClickHouse shard. Then the same stack with one process per stage, its router
and then its deliverer killed. *Refused*: ingest answered anything but 200, or nothing
(goal 0); *delivery resumed after*: the longest time without a delivery after the kill; *longest
wait*: the slowest webhook sent during, sent to delivered;
*during*: webhooks sent in the {args.hold:g} s after the kill, *after*: the next
{args.hold:g} s (latency = arrival at the receiver minus the send time). Every accepted
webhook was delivered and stored in ClickHouse in both runs (the run waits for it).

### Two processes per stage

{table(results["2"])}

### One process per stage

{table(results["1"])}
"""
    harness.write_section("failover", body)
    print(body)


if __name__ == "__main__":
    main()
