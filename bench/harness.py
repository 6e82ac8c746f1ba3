"""What every benchmark shares: the machine, the infrastructure, the receiver, the report.

Benchmarks use their own home (``.hookhouse/bench``) and ports (29xxx), start Kafka and
ClickHouse with ``hookhouse up --infra-only`` unless those ports already answer, and
write one section of BENCHMARKS.md each, between markers, so a run replaces only its
own figures.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from prometheus_client.parser import text_string_to_metric_families

from hookhouse.common.clickhouse import migrate
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.kafka import client_config, consumer_config, ensure_topics, producer_config
from hookhouse.common.settings import Settings
from hookhouse.stack.bootstrap import new_api_key, project
from hookhouse.stack.ports import infrastructure_up, is_listening

REPO = Path(__file__).resolve().parents[1]
HOME = REPO / ".hookhouse" / "bench"
REPORT = REPO / "BENCHMARKS.md"
# Below Linux's ephemeral port range (32768-60999), so no client connection holds them.
KAFKA_PORT, CLICKHOUSE_PORT, RECEIVER_PORT = 29792, 29723, 29800


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("HOOKHOUSE_")}


@contextmanager
def infrastructure() -> Iterator[None]:
    if infrastructure_up("127.0.0.1", KAFKA_PORT, CLICKHOUSE_PORT):
        yield
        return
    fresh_home()
    env = {
        **clean_env(),
        "HOOKHOUSE_HOME": str(HOME),
        "HOOKHOUSE_KAFKA_PORT": str(KAFKA_PORT),
        "HOOKHOUSE_KAFKA_CONTROLLER_PORT": "29793",
        "HOOKHOUSE_CLICKHOUSE_HTTP_PORT": str(CLICKHOUSE_PORT),
        "HOOKHOUSE_CLICKHOUSE_TCP_PORT": "29790",
        "HOOKHOUSE_KAFKA_HEAP": "1g",
    }
    stack = subprocess.Popen(
        [sys.executable, "-m", "hookhouse.cli", "up", "--infra-only"],
        env=env,
        cwd=REPO,
        stdout=(HOME / "infra.out").open("ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait(
            lambda: (
                is_listening("127.0.0.1", KAFKA_PORT) and is_listening("127.0.0.1", CLICKHOUSE_PORT)
            ),
            300,
        )
        warm_up()
        yield
    finally:
        stack.send_signal(signal.SIGTERM)
        stack.wait(120)


KEPT = {"results", "suite"}  # what one run leaves for `hookhouse bench`'s tables and plots


def fresh_home() -> None:
    """Start the broker and ClickHouse on empty data directories.

    Every run makes its own topics and database; kept, they piled up (11,234 partition
    directories, 18 GB, and 266 databases after a few weeks of runs).  An idle
    ClickHouse then spent 9.7% of a core on their background tasks (0.7% when fresh),
    so figures drifted with the age of the directory, not with the code.
    """
    HOME.mkdir(parents=True, exist_ok=True)
    for path in HOME.iterdir():
        if path.name in KEPT:
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


WARM_UP_SECONDS = 30.0


def warm_up(seconds: float = WARM_UP_SECONDS) -> None:
    """Run produce and fetch traffic through a fresh broker, then let it settle.

    A JVM compiles its hot paths during its first minute of load: measured on this
    machine, the broker spent 76 µs of CPU per request of the raw aiohttp client (while
    serving nobody) and 358 µs per delivery of the deliverer right after start, against
    5 µs and 80-135 µs once warm.  Benchmarks measure a broker that has run a while.
    """
    made = Settings(kafka_bootstrap=f"127.0.0.1:{KAFKA_PORT}", topic_prefix="warmup.")
    topic = "warmup.records"
    admin = AdminClient(client_config(made))
    for future in admin.create_topics([NewTopic(topic, 4, 1)]).values():
        with suppress(KafkaException):  # already there: a reused data directory
            future.result()
    # Errors only: a new topic's first metadata updates warn, harmlessly.
    quiet = logging.getLogger("bench.warm_up")
    quiet.setLevel(logging.ERROR)
    producer = Producer({**producer_config(made), "logger": quiet})
    consumer = Consumer(consumer_config(made, "warmup"))
    consumer.subscribe([topic])
    value = b"x" * 1024
    print(f"warming the broker up ({seconds:g} s of traffic)…", flush=True)
    deadline = time.monotonic() + seconds
    sent = 0
    while time.monotonic() < deadline:
        for _ in range(200):
            with suppress(BufferError):
                producer.produce(topic, value, key=str(sent % 64))
                sent += 1
        producer.poll(0)
        consumer.consume(500, 0.005)
    producer.flush(30)
    consumer.close()
    broker = broker_pid()
    for _ in range(30):  # then until it idles (compilation finishing), at most 30 s
        used = cpu_seconds(broker)
        time.sleep(1)
        if cpu_seconds(broker) - used < 0.1:
            break


def settings(**overrides: Any) -> Settings:
    tag = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "kafka_bootstrap": f"127.0.0.1:{KAFKA_PORT}",
        "clickhouse_url": f"http://default:@127.0.0.1:{CLICKHOUSE_PORT}",
        "topic_prefix": f"b{tag}.",
        "clickhouse_database": f"b_{tag}",
        "home": HOME / tag,
        "destination_allow_networks": "127.0.0.0/8",
        "log_level": "WARNING",
        **overrides,
    }
    made = Settings(**values)
    ensure_topics(made)
    migrate(made)
    return made


def env_of(made: Settings) -> dict[str, str]:
    """The HOOKHOUSE_* variables that reproduce ``made`` in a child process."""
    return {**clean_env(), **made.environment()}


@contextmanager
def receiver(port: int = RECEIVER_PORT) -> Iterator[str]:
    if is_listening("127.0.0.1", port):
        raise RuntimeError(f"port {port} is taken (a receiver left from another run?)")
    process = subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "receiver.py"), str(port)], cwd=REPO
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait(lambda: is_listening("127.0.0.1", port), 30)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def produce_all(
    settings: Settings, topic: str, records: Iterable[tuple[str, bytes] | tuple[str, bytes, str]]
) -> None:
    """Write (key, value) records, or (key, value, kind) with a ``kind`` header, to
    ``topic`` (a benchmark's pre-filled input)."""
    producer = Producer({**client_config(settings), "linger.ms": 20})
    for n, (key, value, *kind) in enumerate(records):
        while True:
            try:
                producer.produce(
                    topic, value, key=key, headers=[("kind", kind[0])] if kind else None
                )
                break
            except BufferError:  # the local queue is full: let the broker catch up
                producer.poll(0.5)
        if n % 10000 == 0:
            producer.poll(0)
    producer.flush(60)


def read_topic(settings: Settings, topic: str) -> Iterator[Message]:
    """Every record of ``topic`` up to its end as of the call, partition by partition."""
    consumer = Consumer({**client_config(settings), "group.id": "bench-reader"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        for partition in partitions:
            end = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1]
            if end == 0:
                continue
            consumer.assign([TopicPartition(topic, partition, 0)])
            while True:
                msg = consumer.poll(5)
                if msg is None or msg.error():
                    continue
                yield msg
                if (msg.offset() or 0) + 1 >= end:
                    break
    finally:
        consumer.close()


def fetched(url: str) -> Any:
    """The JSON a receiver (loopback) answers at ``url``."""
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
        return json.load(response)


def stats(url: str) -> dict[str, Any]:
    result: dict[str, Any] = fetched(f"{url}/stats")
    return result


def reset(url: str) -> None:
    request = urllib.request.Request(f"{url}/reset", method="POST")  # noqa: S310
    urllib.request.urlopen(request, timeout=10).close()  # noqa: S310


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pid_matching(pattern: str) -> int:
    """The first process whose command line matches ``pattern`` (pgrep's), or 0."""
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
    return int(found[0]) if found else 0


def infrastructure_pid(program: str) -> int:
    """The process of the benchmarks' own ``program`` (its command line names HOME), or 0."""
    return pid_matching(f"{program} .*{HOME}")


def receiver_pid() -> int:
    """The process of the receiver ``receiver()`` runs, or 0."""
    return pid_matching(f"receiver.py {RECEIVER_PORT}")


def broker_pid() -> int:
    return infrastructure_pid("kafka.Kafka")


def services_of(supervisor: int) -> dict[str, int]:
    """The ``hookhouse.cli <service>`` processes a supervisor (``hookhouse up``) runs, by
    service, the second and later of a stage (``--workers``) as ``router-1`` …"""
    found = {}
    for entry in Path("/proc").iterdir():
        with suppress(OSError, IndexError):
            stat = (entry / "stat").read_text().rpartition(")")[2].split()
            args = (entry / "cmdline").read_bytes().split(b"\0")
            if int(stat[1]) == supervisor and b"hookhouse.cli" in args:
                service = args[args.index(b"hookhouse.cli") + 1].decode()
                instance = instance_of((entry / "environ").read_bytes())
                found[service if instance in ("", f"{service}-0") else instance] = int(entry.name)
    return found


def instance_of(environ: bytes) -> str:
    """The ``HOOKHOUSE_INSTANCE_ID`` in a process's environment, or ``""``."""
    for line in environ.split(b"\0"):
        if line.startswith(b"HOOKHOUSE_INSTANCE_ID="):
            return line.partition(b"=")[2].decode()
    return ""


def stack_parts(supervisor: int) -> dict[str, int]:
    """The processes of a running stack by name: broker, ClickHouse and its services."""
    return {
        "Kafka broker": broker_pid(),
        "ClickHouse": infrastructure_pid("clickhouse_server"),
        **services_of(supervisor),
    }


def idle_cpu(supervisor: int, seconds: float = 10.0) -> dict[str, float]:
    """Percent of one core each part of a running stack uses while nothing is sent."""
    meter = CpuMeter(stack_parts(supervisor))
    meter.start()
    time.sleep(seconds)
    meter.stop()
    return meter.shares()


def kafka_traffic(ports: dict[str, int]) -> dict[str, dict[str, float]]:
    """Per service (name -> its metrics port on loopback): what its Kafka clients did so
    far, summed over clients: ``Produce``, ``Fetch``, … requests, and ``→topic`` /
    ``topic→`` records produced and consumed (``common/traffic.py``)."""
    found: dict[str, dict[str, float]] = {}
    for service, port in ports.items():
        counts: dict[str, float] = {}
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
                text = answer.read().decode()
        except OSError:
            continue
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "hookhouse_kafka_requests_total":
                    key = sample.labels["request"]
                elif sample.name == "hookhouse_kafka_records_total":
                    topic = sample.labels["topic"].rpartition(".")[2]
                    key = f"→{topic}" if sample.labels["direction"] == "produced" else f"{topic}→"
                else:
                    continue
                counts[key] = counts.get(key, 0.0) + sample.value
        found[service] = counts
    return found


def traffic_per(
    before: dict[str, dict[str, float]], after: dict[str, dict[str, float]], count: int
) -> dict[str, dict[str, float]]:
    """What each service's clients did between two ``kafka_traffic`` readings, per unit
    of work (``count`` webhooks)."""
    return {
        service: {
            key: round((n - before.get(service, {}).get(key, 0.0)) / max(count, 1), 3)
            for key, n in sorted(counts.items())
            if n - before.get(service, {}).get(key, 0.0) > 0
        }
        for service, counts in after.items()
    }


def machine_busy_seconds() -> float:
    """CPU seconds all cores of this machine have spent busy (not idle, not waiting
    for I/O) since it booted, from ``/proc/stat``."""
    jiffies = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(jiffies[:8]) - jiffies[3] - jiffies[4]) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds that named processes spend between ``start()`` and ``stop()``."""

    def __init__(self, processes: dict[str, int]) -> None:
        self.processes = {name: pid for name, pid in processes.items() if pid}
        self.used: dict[str, float] = {}
        self.machine = self.seconds = 0.0

    def start(self) -> None:
        self.used = {name: -cpu_seconds(pid) for name, pid in self.processes.items()}
        self.machine = -machine_busy_seconds()
        self.seconds = -time.monotonic()

    def stop(self) -> None:
        for name, pid in self.processes.items():
            self.used[name] += cpu_seconds(pid)
        self.machine += machine_busy_seconds()
        self.seconds += time.monotonic()

    def shares(self) -> dict[str, float]:
        """Percent of one core each process used, busiest first."""
        shares = {name: round(100 * used / self.seconds, 1) for name, used in self.used.items()}
        return dict(sorted(shares.items(), key=lambda item: -item[1]))

    def machine_share(self) -> float:
        """Percent of one core the whole machine was busy (100 per core at most)."""
        return round(100 * self.machine / self.seconds, 1)

    def per(self, count: int) -> str:
        """``name µs, …`` of CPU per unit of work, e.g. per record."""
        return ", ".join(
            f"{name} {seconds / max(count, 1) * 1e6:,.0f} µs" for name, seconds in self.used.items()
        )


@contextmanager
def no_gc_pauses() -> Iterator[None]:
    """The load generator measures without garbage-collector pauses.

    Its full collections (30-150 ms, growing with what it holds) stalled its schedule,
    which then sent the late requests in a burst: the p99 of an open loop showed the
    generator's collector, not the service (measured: every slow episode began with one).
    The objects alive before the run are frozen and the collector is off during it.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def at_fixed_rate(
    rate: int, seconds: int, send: Callable[[int], Coroutine[Any, Any, None]]
) -> int:
    """Start ``send(n)`` for n = 0 … rate * seconds - 1 on a fixed schedule (an open loop: a
    slow answer never delays the next send), without collector pauses; wait for them all.
    Returns how many were started."""
    total = rate * seconds
    tasks: set[asyncio.Task[None]] = set()
    with no_gc_pauses():
        start = time.monotonic()
        for n in range(total):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(send(n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
    return total


def until_delivered(receiver_url: str, wanted: int, seconds: float) -> dict[str, Any]:
    """The receiver's stats once it has ``wanted`` distinct webhooks, or after
    ``seconds`` with what it has (what is missing then is still in flight)."""
    deadline = time.monotonic() + seconds
    while stats(receiver_url)["unique"] < wanted and time.monotonic() < deadline:
        time.sleep(0.5)
    return stats(receiver_url)


def wait(check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready within {timeout}s")
        time.sleep(0.2)


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


RESULTS = HOME / "results"  # what a run measured, for `hookhouse bench`'s table and plots


def record(name: str, result: dict[str, Any]) -> None:
    """Keep a benchmark's figures of this run: ``headline`` rows (``what``, ``ours``,
    ``baseline``, ``target``) and any series to plot."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result))


def write_section(name: str, body: str) -> None:
    """Replace (or add) the section ``name`` of BENCHMARKS.md."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    stamped = (
        f"{start}\n{body.strip()}\n\n_Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on "
        f"{machine()}._\n{end}"
    )
    text = (
        REPORT.read_text()
        if REPORT.exists()
        else (
            "# hookhouse benchmarks\n\nWritten by `bench/`; every figure has its command, its "
            "settings and a baseline measured in the same run, so it reads as a ratio. "
            "Loopback only; load generator, services, Kafka and ClickHouse share the machine. "
            "The broker gets 30 s of traffic before any measurement (a warm JVM).\n"
        )
    )
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _: stamped, text)
        if pattern.search(text)
        else (text.rstrip() + "\n\n" + stamped + "\n")
    )
    REPORT.write_text(text)


def project_with_key(settings: Settings, name: str = "bench") -> tuple[str, str]:
    """A project in the configuration log, and an API key of it."""
    log = ConfigLog(settings)
    log.start()
    try:
        log.wait_ready(30)
        project_id = str(project(log, name)["id"])
        return project_id, new_api_key(log, project_id)
    finally:
        log.stop()


@contextmanager
def api_process(settings: Settings, port: int) -> Iterator[str]:
    """``hookhouse api`` on ``port`` while the block runs; its versioned base URL."""
    env = {**env_of(settings), "HOOKHOUSE_API_PORT": str(port)}
    api = subprocess.Popen([sys.executable, "-m", "hookhouse.cli", "api"], env=env, cwd=REPO)
    try:
        yield f"http://127.0.0.1:{port}/2024-03-01"
    finally:
        api.terminate()
        api.wait(60)
