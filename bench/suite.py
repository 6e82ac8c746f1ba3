"""Every benchmark in one run: ``hookhouse bench`` (or ``python -m bench.suite``).

Runs ingest, router, deliverer, sink, query API and end-to-end benchmarks one after
another against one local Kafka and ClickHouse (loopback only), each with its same-run
baseline and bounded in time, then the end-to-end run again with two router, two
deliverer and two sink processes (``hookhouse up --workers 2``) on more partitions (the
scaling figures).  Each benchmark writes
its own section of BENCHMARKS.md; this writes the headline table and the scaling table
at the top, and PNG plots in ``bench/plots/``.  A progress bar shows what runs; each
step's output goes to ``.hookhouse/bench/suite/<step>.log``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from tqdm import tqdm

from bench import harness
from hookhouse.stack.kafka_broker import kafka_version

PLOTS = harness.REPO / "bench" / "plots"
LOGS = harness.HOME / "suite"
SINK_STEP_SECONDS = 0.5


@dataclass(frozen=True)
class Step:
    name: str
    args: tuple[str, ...]
    quick: tuple[str, ...]  # --quick: the same benchmark, smaller


STEPS = (
    Step("ingest", ("bench.ingest", "--seconds", "15"), ("--seconds", "5")),
    Step("router", ("bench.router", "--events", "20000"), ("--events", "5000")),
    Step("deliverer", ("bench.deliverer", "--events", "40000"), ("--events", "5000")),
    Step(
        "ordered",
        ("bench.ordered", "--events", "40000", "--keys", "10000"),
        ("--events", "5000", "--keys", "1000"),
    ),
    Step("sink", ("bench.sink", "--events", "50000"), ("--events", "10000")),
    Step("config", ("bench.config", "--connections", "20000"), ("--connections", "5000")),
    Step(
        "queries",
        ("bench.queries", "--attempts", "10000000", "--calls", "20"),
        ("--attempts", "500000", "--calls", "5"),
    ),
    Step(
        "backtest",
        ("bench.backtest", "--requests", "10000000", "--calls", "3"),
        ("--requests", "1000000", "--calls", "2"),
    ),
    Step("e2e", ("bench.e2e", "--rates", "1000,300", "--seconds", "20"), ("--seconds", "5")),
    *(
        Step(
            f"scaling-{workers}",
            (
                "bench.e2e",
                "--rates",
                "1500",
                "--seconds",
                "20",
                "--workers",
                str(workers),
                "--partitions",
                str(4 * workers),
                "--section",
                f"scaling-{workers}",
            ),
            ("--seconds", "5"),
        )
        for workers in (1, 2)
    ),
)


def command(step: Step, quick: bool) -> list[str]:
    args = list(step.args)
    if quick:  # later flags win with argparse
        args += step.quick
    return [sys.executable, "-m", *args]


def run(steps: list[Step], quick: bool) -> dict[str, float | None]:
    """Each step's seconds, or ``None`` when it failed (its log says why)."""
    LOGS.mkdir(parents=True, exist_ok=True)
    took: dict[str, float | None] = {}
    with harness.infrastructure(), tqdm(steps, unit="benchmark", ncols=80) as bar:
        for step in bar:
            bar.set_description(step.name)
            started = time.monotonic()
            with (LOGS / f"{step.name}.log").open("w") as log:
                done = subprocess.run(
                    command(step, quick), cwd=harness.REPO, stdout=log, stderr=subprocess.STDOUT
                )
            took[step.name] = time.monotonic() - started if done.returncode == 0 else None
            if done.returncode:
                bar.write(f"{step.name} failed ({done.returncode}): see {LOGS / step.name}.log")
    return took


def results(name: str) -> dict[str, Any] | None:
    path = harness.RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def headline(took: dict[str, float | None]) -> str:
    lines = [
        "| benchmark | hookhouse | baseline | ratio | target | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for name, seconds in took.items():
        found = results(name)
        if seconds is None or found is None:
            lines.append(f"| {name} | failed | | | | |")
            continue
        for row in found.get("headline", []):
            ratio = row["ours"] / row["baseline"] if row["baseline"] else float("nan")
            lines.append(
                f"| {row['what']} | {row['ours']:,.1f} | {row['baseline']:,.1f} | "
                f"{ratio:.2f} | {row['target']} | {seconds:.0f} |"
            )
    return "\n".join(lines)


def scaling() -> str:
    lines = [
        "| processes per stage (router, deliverer, sink) | partitions | offered/s "
        "| delivered/s | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for workers in (1, 2):
        found = results(f"scaling-{workers}")
        if found is None:
            continue
        for run in found["runs"]:
            lines.append(
                f"| {found['workers']} | {found['partitions']} | {run['rate']:,} | "
                f"{run['delivered_per_second']:,.0f} | {run['ours']['p50_ms']:.0f} | "
                f"{run['ours']['p99_ms']:.0f} |"
            )
    return "\n".join(lines)


def plot() -> list[str]:
    """Draw what the results hold; the file names drawn."""
    PLOTS.mkdir(parents=True, exist_ok=True)
    drawn = []
    e2e = results("e2e")
    if e2e:
        figure, axes = plt.subplots(figsize=(8, 4.5))
        for run in e2e["runs"]:
            for key, style in (("latencies", "-"), ("direct", ":")):
                values = sorted(run[key])
                if values:
                    share = [(n + 1) / len(values) for n in range(len(values))]
                    label = f"{run['rate']:,}/s {'hookhouse' if key == 'latencies' else 'direct'}"
                    axes.plot(values, share, style, label=label)
        axes.set_xscale("log")
        axes.set_xlabel("latency, ingest sent → destination received (ms, log scale)")
        axes.set_ylabel("share of webhooks")
        axes.set_title("End-to-end latency distribution")
        axes.grid(True, alpha=0.3)
        axes.legend(loc="lower right")
        drawn.append(save(figure, "e2e-latency.png"))
        figure, axes = plt.subplots(figsize=(8, 4.5))
        runs = [(run, "") for run in e2e["runs"]] + [
            (run, f", {w} router + {w} deliverer")
            for w in (1, 2)
            for run in (results(f"scaling-{w}") or {}).get("runs", [])
        ]
        for run, workers in runs:
            per_second = bins(run["arrivals"])
            label = f"offered {run['rate']:,}/s{workers}"
            axes.plot(range(len(per_second)), per_second, label=label)
        axes.set_xlabel("seconds since the first delivery")
        axes.set_ylabel("webhooks delivered per second")
        axes.set_ylim(bottom=0)
        axes.set_title("End-to-end throughput over time")
        axes.grid(True, alpha=0.3)
        axes.legend()
        drawn.append(save(figure, "e2e-throughput.png"))
    sink = results("sink")
    if sink:
        samples = sink["series"]["committed_rows"]
        figure, axes = plt.subplots(figsize=(8, 4.5))
        rates, (t0, r0) = [], samples[0]
        for t1, r1 in samples[1:]:
            if t1 - t0 >= SINK_STEP_SECONDS:
                rates.append((t1, (r1 - r0) / (t1 - t0)))
                t0, r0 = t1, r1
        axes.plot([t for t, _ in rates], [r for _, r in rates])
        axes.set_xlabel("seconds since the first insert")
        axes.set_ylabel("rows stored per second")
        axes.set_ylim(bottom=0)
        axes.set_title(f"Sink throughput over time (committed offsets, {SINK_STEP_SECONDS} s)")
        axes.grid(True, alpha=0.3)
        drawn.append(save(figure, "sink-throughput.png"))
    return drawn


def bins(arrivals_ms: list[int]) -> list[int]:
    counts = [0] * (max(arrivals_ms, default=0) // 1000 + 1)
    for at in arrivals_ms:
        counts[at // 1000] += 1
    return counts


def save(figure: Any, name: str) -> str:
    figure.tight_layout()
    figure.savefig(PLOTS / name, dpi=100)
    plt.close(figure)
    return name


def versions() -> str:
    """What ran: the commit and the versions of the parts that carry the load."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=harness.REPO, capture_output=True, text=True
    ).stdout.strip()
    parts = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("chdb-core", "confluent-kafka", "aiohttp", "starlette")
    )
    return f"hookhouse {commit or 'unknown'}, Kafka {kafka_version()}, {parts}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", help="comma-separated steps: " + ", ".join(s.name for s in STEPS))
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    parser.add_argument(
        "--report", action="store_true", help="run nothing: redo the last run's tables and plots"
    )
    args = parser.parse_args()
    wanted = set(args.only.split(",")) if args.only else {s.name for s in STEPS}
    steps = [s for s in STEPS if s.name in wanted]
    last = harness.RESULTS / "suite.json"
    if args.report:
        kept = json.loads(last.read_text())
        took, args.only, args.quick = kept["took"], kept["only"], kept["quick"]
        ran = kept["versions"]
    else:
        for step in steps:
            (harness.RESULTS / f"{step.name}.json").unlink(missing_ok=True)
        ran = versions()
        took = run(steps, args.quick)
        kept = {"took": took, "only": args.only, "quick": args.quick, "versions": ran}
        last.write_text(json.dumps(kept))
    # A benchmark that left no figures failed too, whatever its exit code.
    failed = [name for name, seconds in took.items() if seconds is None or results(name) is None]
    drawn = plot()
    images = "\n".join(f"![{name}](bench/plots/{name})" for name in drawn)
    command = "hookhouse bench" + (f" --only {args.only}" if args.only else "")
    body = f"""## Headline (`{command}{" --quick" if args.quick else ""}`)

Every benchmark below in one run, one after another on this machine; each row is one
benchmark's own figure and its same-run baseline (for latency, lower is better).
Versions: {ran}; default settings except where a section says otherwise.

{headline(took)}

### Scaling: the same end-to-end run with more router, deliverer and sink processes

Offered 1,500 webhooks/s for the run's seconds; one process each on 4 partitions, then
two each on 8 (`hookhouse up --workers 2`). Both share the machine's cores with ingest,
Kafka, ClickHouse and the load generator.

{scaling()}

{images}
"""
    harness.write_section("headline", body)
    print(body)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
