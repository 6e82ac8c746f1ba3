"""hookhouse beside another webhook gateway on this machine: the same load, one after the
other, the same load generator and receiver.

    .venv/bin/python -m bench.peer --name convoy --url http://127.0.0.1:5008/ingest/<id> \\
        [--receiver-port 29799] [--rates 300,1000] [--seconds 20] [--saturate 20]

The peer runs already, started by whoever measures: hookhouse's repository builds and
starts no other project (how Convoy was run is in BENCHMARKS.md, with every setting
that had to change).  Its destination must be the receiver
(``http://127.0.0.1:<receiver-port>/``), and it must pass the sender's ``x-bench-id``
and ``x-bench-sent-at`` headers on to it.  hookhouse runs as ``bench.e2e`` runs it:
``hookhouse up`` with default settings, a source and a connection to the receiver.

For each system, in this order:

- each rate in ``--rates``, open loop for ``--seconds`` (after as many seconds of
  warm-up): delivered, end-to-end p50/p99 (send → arrival), and CPU per delivered
  webhook;
- ingest at saturation: 64 connections posting as fast as answers come, for
  ``--saturate`` seconds, while the whole pipeline runs: accepted (2xx) per second,
  refused, and how many of the accepted arrived within 60 s after.

CPU is the machine's busy time (``/proc/stat``) less the load generator's and the
receiver's own, so every process of either system counts, those started during the
run too (PostgreSQL starts one per connection); nothing else runs during a benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import time
from typing import Any

import orjson
import uvloop

from bench import e2e, harness, loadgen

CONNECTIONS = 64  # of the saturating closed loop
DRAIN_SECONDS = 60
BODY = orjson.dumps({"type": "order.created", "data": {"pad": "x" * 900}})


class Outside:
    """CPU seconds of the machine less the generator's and the receiver's own."""

    def __init__(self, receiver_pid: int) -> None:
        self.ours = harness.CpuMeter({"load generator": os.getpid(), "receiver": receiver_pid})

    def start(self) -> None:
        self.ours.start()

    def stop(self) -> float:
        self.ours.stop()
        return self.ours.machine - sum(self.ours.used.values())


def at_rate(url: str, receiver_url: str, rate: int, seconds: int) -> dict[str, Any]:
    print(f"  {rate}/s: warm-up {seconds} s, then {rate * seconds} webhooks…", flush=True)
    warm = uvloop.run(e2e.generate(url, rate, seconds, tag=f"warm{rate}-"))
    harness.until_delivered(receiver_url, warm["accepted"], DRAIN_SECONDS)
    harness.reset(receiver_url)
    meter = Outside(harness.stats(receiver_url)["pid"])
    meter.start()
    counts = uvloop.run(e2e.generate(url, rate, seconds, tag=f"r{rate}-"))
    got = harness.until_delivered(receiver_url, counts["accepted"], DRAIN_SECONDS)
    cpu = meter.stop()
    harness.reset(receiver_url)
    return {
        "rate": rate,
        **counts,
        "delivered": got["unique"],
        "p50_ms": got["p50_ms"],
        "p99_ms": got["p99_ms"],
        "cpu_ms": 1000 * cpu / max(got["unique"], 1),
    }


async def saturate(url: str, seconds: float) -> dict[str, Any]:
    accepted = refused = failed = 0
    statuses: dict[int, int] = {}
    end = time.monotonic() + seconds
    async with loadgen.Poster(url, BODY, {"content-type": "application/json"}) as poster:

        async def worker(n: int) -> None:
            nonlocal accepted, refused, failed
            sent = 0
            while time.monotonic() < end:
                sent += 1
                headers = {"x-bench-id": f"s{n}-{sent}", "x-bench-sent-at": str(time.time_ns())}
                try:
                    status = await poster.post(headers)
                except (loadgen.Failed, OSError):
                    failed += 1
                    continue
                if status < 300:
                    accepted += 1
                else:
                    refused += 1
                    statuses[status] = statuses.get(status, 0) + 1

        started = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(CONNECTIONS)))
        elapsed = time.monotonic() - started
    return {
        "accepted_per_second": accepted / elapsed,
        "accepted": accepted,
        "refused": refused,
        "statuses": statuses,
        "failed": failed,
        "seconds": elapsed,
    }


def measure(
    url: str, receiver_url: str, rates: list[int], seconds: int, hold: int
) -> dict[str, Any]:
    runs = [at_rate(url, receiver_url, rate, seconds) for rate in rates]
    print(f"  saturation: {CONNECTIONS} connections for {hold} s…", flush=True)
    meter = Outside(harness.stats(receiver_url)["pid"])
    meter.start()
    flood = uvloop.run(saturate(url, hold))
    started = time.monotonic()
    got = harness.until_delivered(receiver_url, flood["accepted"], DRAIN_SECONDS)
    cpu = meter.stop()
    flood["delivered"] = got["unique"]
    flood["drained_seconds"] = time.monotonic() - started
    flood["cpu_ms"] = 1000 * cpu / max(got["unique"], 1)
    harness.reset(receiver_url)
    return {"runs": runs, "saturation": flood}


def table(name: str, peer: str, ours: dict[str, Any], theirs: dict[str, Any]) -> str:
    lines = [
        f"| | hookhouse | {peer} | hookhouse's lead |",
        "|---|---|---|---|",
    ]

    def add(what: str, a: float, b: float, digits: int = 1, higher: bool = True) -> None:
        ratio = (a / b if higher else b / a) if a and b else float("nan")
        lines.append(f"| {what} | {a:,.{digits}f} | {b:,.{digits}f} | {ratio:.2f} |")

    a, b = ours["saturation"], theirs["saturation"]
    add("ingest at saturation, accepted/s", a["accepted_per_second"], b["accepted_per_second"])
    add("of those, delivered within 60 s", a["delivered"], b["delivered"], 0)
    for x, y in zip(ours["runs"], theirs["runs"], strict=True):
        rate = x["rate"]
        add(f"{rate}/s: delivered of {x['sent']}", x["delivered"], y["delivered"], 0)
        add(f"{rate}/s: end to end p50 ms", x["p50_ms"], y["p50_ms"], higher=False)
        add(f"{rate}/s: end to end p99 ms", x["p99_ms"], y["p99_ms"], higher=False)
        add(f"{rate}/s: CPU ms per delivered webhook", x["cpu_ms"], y["cpu_ms"], 2, higher=False)
    add("saturation: CPU ms per delivered webhook", a["cpu_ms"], b["cpu_ms"], 2, higher=False)
    refused = f"{b['refused']:,} ({b['statuses']})" if b["refused"] else "0"
    lines.append("")
    lines.append(
        f"Refused at saturation: hookhouse {a['refused']:,}, {peer} {refused}; "
        f"connection errors {a['failed']:,} / {b['failed']:,}."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", required=True, help="the peer's name, for the table")
    parser.add_argument("--url", required=True, help="where the peer takes webhooks")
    parser.add_argument("--receiver-port", type=int, default=29799)
    parser.add_argument("--rates", default="300,1000")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--saturate", type=int, default=20)
    parser.add_argument(
        "--then", default="", help="a command run once the peer is measured (to stop it)"
    )
    parser.add_argument(
        "--skip-peer", action="store_true", help="measure hookhouse only, beside the last run"
    )
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    overrides = dict(pair.split("=", 1) for pair in args.set)
    rates = [int(rate) for rate in args.rates.split(",")]
    results = {}
    if args.skip_peer:  # trying hookhouse's settings: the peer's figures of the last run
        results[args.name] = json.loads((harness.RESULTS / "peer.json").read_text())[args.name]
    else:
        with harness.receiver(args.receiver_port) as receiver_url:
            print(f"{args.name}:", flush=True)
            results[args.name] = measure(args.url, receiver_url, rates, args.seconds, args.saturate)
    if args.then and not args.skip_peer:
        subprocess.run(args.then, shell=True, check=True)  # noqa: S602 - the caller's own
    # hookhouse's Kafka and ClickHouse run only while hookhouse is measured.
    with (
        harness.infrastructure(),
        harness.receiver(args.receiver_port) as receiver_url,
        e2e.running_stack(harness.settings(**overrides), f"{receiver_url}/") as (_, source_url),
    ):
        print("hookhouse:", flush=True)
        results["hookhouse"] = measure(source_url, receiver_url, rates, args.seconds, args.saturate)
    harness.record("peer", results)
    body = f"""## Beside {args.name} (issue 32)

`.venv/bin/python -m bench.peer --name {args.name} --url <its ingest URL> --rates {args.rates}
--seconds {args.seconds} --saturate {args.saturate} --then <its stop command>`

The same load generator (`bench/loadgen.py`, open loop at each rate after as long a
warm-up; then {CONNECTIONS} connections posting as fast as answers come) and the same
receiver, one system after the other on the same 2 cores: {args.name} first, with
hookhouse's Kafka and ClickHouse not running; then {args.name} stopped, hookhouse with
default settings (`hookhouse up`, one broker, embedded ClickHouse). CPU = the
machine's busy time less the generator's and the receiver's. A ratio above 1 is
hookhouse's lead (its rate over the peer's; the peer's time or CPU over its own).

{table(args.name, args.name, results["hookhouse"], results[args.name])}
"""
    harness.write_section(f"peer-{args.name}", body)
    print(body)


if __name__ == "__main__":
    main()
