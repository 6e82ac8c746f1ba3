"""Test helpers that start or reuse the real Kafka broker and ClickHouse server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from hookhouse.common.kafka import KafkaProbe
from hookhouse.common.settings import Settings
from hookhouse.stack import kafka_broker
from hookhouse.stack.ports import ensure_free, infrastructure_up, is_listening

REPO = Path(__file__).resolve().parents[1]
TEST_HOME = REPO / ".hookhouse" / "test"

# The suite's own ports, so it runs beside a developer's `hookhouse up`.
TEST_PORTS = {
    "HOOKHOUSE_KAFKA_PORT": "17792",
    "HOOKHOUSE_KAFKA_CONTROLLER_PORT": "17793",
    "HOOKHOUSE_CLICKHOUSE_HTTP_PORT": "17723",
    "HOOKHOUSE_CLICKHOUSE_TCP_PORT": "17790",
}
KAFKA_BOOTSTRAP = "127.0.0.1:17792"
CLICKHOUSE_URL = "http://default:@127.0.0.1:17723"


def clean_env() -> dict[str, str]:
    """The environment without any HOOKHOUSE_* setting of the developer's shell."""
    return {k: v for k, v in os.environ.items() if not k.startswith("HOOKHOUSE_")}


class Infra:
    """Kafka and ClickHouse for the suite: reused if already listening, else started."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if infrastructure_up("127.0.0.1", 17792, 17723):
            return
        # Empty data directories: every test makes its own topics and database, and kept
        # from run to run they pile up in the broker and in ClickHouse (bench/harness.py).
        shutil.rmtree(TEST_HOME, ignore_errors=True)
        TEST_HOME.mkdir(parents=True, exist_ok=True)
        env = {**clean_env(), **TEST_PORTS, "HOOKHOUSE_HOME": str(TEST_HOME)}
        log = (TEST_HOME / "infra.out").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hookhouse.cli", "up", "--infra-only"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        deadline = time.monotonic() + 300  # the first run downloads the Kafka jars
        while not (is_listening("127.0.0.1", 17792) and is_listening("127.0.0.1", 17723)):
            if self.process.poll() is not None:
                raise RuntimeError(f"test infrastructure failed; see {TEST_HOME}/infra.out")
            if time.monotonic() > deadline:
                raise RuntimeError("test infrastructure did not start in 300 s")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)


class KafkaCluster:
    """Three brokers on their own ports (clients 28092, 28094, 28096; controllers one
    above each), made by the same code and jars as ``hookhouse up --brokers 3``, each a
    process a test may kill."""

    def __init__(self, home: Path) -> None:
        self.settings = Settings(
            kafka_brokers=3,
            kafka_port=28092,
            kafka_controller_port=28093,
            kafka_heap="256m",  # three JVMs on a shared 2-core machine
            home=home,
            topic_prefix=f"c{uuid.uuid4().hex[:8]}.",
        )
        self.home = home
        self.brokers: dict[int, subprocess.Popen[bytes]] = {}

    def start(self, timeout: float = 240) -> None:
        ports = self.settings.kafka_ports + self.settings.kafka_controller_ports
        ensure_free("127.0.0.1", {f"the cluster fixture's port {port}": port for port in ports})
        for node, command in kafka_broker.prepare(self.settings, self.home):
            log = (self.home / f"{node.name}.log").open("ab")
            self.brokers[node.id] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        probe = KafkaProbe(self.settings, brokers=3)
        deadline = time.monotonic() + timeout
        # The ports first: a client probing JVMs still starting logs every refusal.
        while not all(is_listening("127.0.0.1", port) for port in ports) or not probe(1.0):
            if any(broker.poll() is not None for broker in self.brokers.values()):
                raise RuntimeError(f"a broker of the cluster exited; see {self.home}/kafka-*.log")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the cluster did not start in {timeout:.0f} s")
            time.sleep(0.5)

    def address(self, node_id: int) -> str:
        return f"127.0.0.1:{self.settings.kafka_ports[node_id - 1]}"

    def kill(self, node_id: int) -> None:
        """SIGKILL: no controlled shutdown, as when a machine is lost."""
        self.brokers[node_id].kill()
        self.brokers[node_id].wait()

    def stop(self) -> None:
        running = [broker for broker in self.brokers.values() if broker.poll() is None]
        for broker in running:
            broker.send_signal(signal.SIGTERM)
        for broker in running:
            try:
                broker.wait(60)
            except subprocess.TimeoutExpired:
                broker.kill()
                broker.wait()


def isolated_settings(**overrides: object) -> Settings:
    """Settings with a fresh topic prefix and ClickHouse database."""
    tag = uuid.uuid4().hex[:8]
    values: dict[str, object] = {
        "kafka_bootstrap": KAFKA_BOOTSTRAP,
        "clickhouse_url": CLICKHOUSE_URL,
        "topic_prefix": f"t{tag}.",
        "clickhouse_database": f"t_{tag}",
        "topic_partitions": 2,
        "home": TEST_HOME / tag,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedShards:
    """Embedded ClickHouse servers as the shards of one cluster, each in its own process
    and data directory, on the ports given (http, native) per shard; a shard may be
    stopped and started again on the same data."""

    CLUSTER = "hookhouse"

    def __init__(self, home: Path, ports: list[tuple[int, int]]) -> None:
        self.home, self.ports = home, ports
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def urls(self) -> list[str]:
        return [f"http://default:@127.0.0.1:{http}" for http, _ in self.ports]

    def data(self, shard: int) -> Path:
        return self.home / f"shard{shard}" / "data"

    def start(self, shard: int | None = None) -> None:
        from hookhouse.stack.supervisor import http_ok

        chosen = [shard] if shard is not None else list(range(1, len(self.ports) + 1))
        addresses = ",".join(f"127.0.0.1:{tcp}" for _, tcp in self.ports)
        for number in chosen:
            http, tcp = self.ports[number - 1]
            self.data(number).mkdir(parents=True, exist_ok=True)
            log = (self.home / f"shard{number}.log").open("ab")
            self.processes[number] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "hookhouse.stack.clickhouse_server",
                    *("--cluster", self.CLUSTER, "--shard", str(number), "--shards", addresses),
                    *(str(self.data(number)), str(http), str(tcp), "127.0.0.1"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=clean_env(),
            )
        for number in chosen:
            deadline = time.monotonic() + 60
            while not http_ok(f"http://127.0.0.1:{self.ports[number - 1][0]}/ping"):
                if self.processes[number].poll() is not None:
                    raise RuntimeError(f"shard {number} exited; see {self.home}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"shard {number} did not answer in 60 s")
                time.sleep(0.2)

    def stop(self, shard: int | None = None) -> None:
        from hookhouse.stack.clickhouse_server import request_stop

        chosen = [shard] if shard is not None else list(self.processes)
        for number in chosen:
            process = self.processes.pop(number, None)
            if process is None or process.poll() is not None:
                continue
            request_stop(self.data(number).parent / "run")
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
