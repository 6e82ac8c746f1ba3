"""``hookhouse up``: start Kafka, ClickHouse and every service, and keep them running.

Order: Kafka → ClickHouse → migrations and topics → first-start bootstrap → ingest,
api, router, deliverer, sink (``--workers N``: N processes each of the last three,
``workers.py``) → wait until every ``/readyz`` answers → print where to send a webhook
and write ``stack.env``.  A child that dies is restarted on its own with backoff
(``restarts.py``) and ``pids.json`` names the new process.  Each service process runs
as a slot of its kind and is named so in its consumer groups
(``HOOKHOUSE_INSTANCE_ID``), so a restarted one takes its partitions back without a
rebalance.
SIGINT/SIGTERM stop the services first, then ClickHouse, then Kafka, so nothing is
left mid-write.  Children get their own session (Ctrl-C reaches only this process)
and SIGTERM if this process dies (Linux ``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from pydantic import SecretStr

from hookhouse.common.clickhouse import migrate
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.kafka import KafkaProbe, ensure_topics
from hookhouse.common.sealing import new_key
from hookhouse.common.settings import Settings
from hookhouse.stack import clickhouse_server, kafka_broker, prometheus
from hookhouse.stack.bootstrap import Bootstrapped, bootstrap, new_api_key, project
from hookhouse.stack.clickhouse_server import READER
from hookhouse.stack.ports import PortTaken, ensure_distinct, ensure_free, is_listening
from hookhouse.stack.restarts import Backoff
from hookhouse.stack.workers import Slot, slot_named, slots

SERVICES = ("ingest", "api", "router", "deliverer", "sink")
STOP_GRACE_SECONDS = {"kafka": 30.0, "clickhouse": 15.0}
READY_TIMEOUT_SECONDS = 120.0


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    command: list[str]
    log_path: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    backoff: Backoff = field(default_factory=Backoff)
    next_start: float = 0.0
    log_file: IO[bytes] | None = field(default=None, repr=False)
    run_dir: Path | None = None  # an embedded ClickHouse server's: where its stop FIFO is

    def start(self) -> None:
        self.backoff.started(time.monotonic())
        if self.log_file is not None:  # the previous process's
            self.log_file.close()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            if self.run_dir is not None:
                self._stop_clickhouse(self.run_dir)
            else:
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                print(f"  {self.name} did not stop in {grace:.0f}s; killing it", flush=True)
                self.process.kill()
                self.process.wait()
        if self.log_file is not None:
            self.log_file.close()

    def _stop_clickhouse(self, run_dir: Path) -> None:
        assert self.process is not None
        try:
            clickhouse_server.request_stop(run_dir)
        except OSError:
            self.process.send_signal(signal.SIGTERM)


class Stack:
    def __init__(self, settings: Settings, infra_only: bool = False, shards: int = 1) -> None:
        self.settings = settings
        self.infra_only = infra_only
        self.home = settings.home.expanduser().resolve()
        self.children: list[Child] = []
        self.stopping = False
        self.local_kafka = "HOOKHOUSE_KAFKA_BOOTSTRAP" not in os.environ
        self.local_clickhouse = "HOOKHOUSE_CLICKHOUSE_URL" not in os.environ
        self.shards = shards if self.local_clickhouse else 1
        if self.shards > 1:  # the services use the cluster layout over every shard
            urls = [f"http://default:@{settings.host}:{http}" for http, _ in self.shard_ports()]
            self.settings = settings.model_copy(
                update={
                    "clickhouse_cluster": settings.clickhouse_cluster or "hookhouse",
                    "clickhouse_shard_urls": ",".join(urls),
                }
            )

    # -- start ---------------------------------------------------------------------
    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "HOOKHOUSE_HOME": str(self.home),
                "HOOKHOUSE_KAFKA_BOOTSTRAP": self.settings.kafka_bootstrap,
                # Services create missing topics too, replicated as the stack's.
                "HOOKHOUSE_KAFKA_BROKERS": str(self.settings.kafka_brokers),
                "HOOKHOUSE_REPLICATION_FACTOR": str(self.settings.replication_factor),
                "HOOKHOUSE_MIN_INSYNC_REPLICAS": str(self.settings.min_insync_replicas),
                "HOOKHOUSE_CLICKHOUSE_URL": self.settings.clickhouse_url,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.shards > 1:
            env["HOOKHOUSE_CLICKHOUSE_CLUSTER"] = self.settings.clickhouse_cluster
            env["HOOKHOUSE_CLICKHOUSE_SHARD_URLS"] = self.settings.clickhouse_shard_urls
        # The local stack delivers to local receivers: allow loopback unless the user
        # chose the networks (the SSRF guard refuses private addresses otherwise).
        env.setdefault("HOOKHOUSE_DESTINATION_ALLOW_NETWORKS", "127.0.0.0/8,::1/128")
        env["HOOKHOUSE_CONFIG_KEYS"] = self.settings.config_keys.get_secret_value()
        return env

    def ports(self) -> dict[str, int]:
        ports = (
            {}
            if self.infra_only
            else {
                slot_setting(self.settings, slot): slot.port(self.settings)
                for slot in slots(SERVICES, self.settings.workers)
            }
            | {"HOOKHOUSE_INGEST_METRICS_PORT": self.settings.ingest_metrics_port}
        )
        if self.settings.prometheus and not self.infra_only:
            ports["HOOKHOUSE_PROMETHEUS_PORT"] = self.settings.prometheus_port
        if self.local_kafka:
            for node in kafka_broker.nodes(self.settings, self.home):
                step = node.port - self.settings.kafka_port
                more = f" (which {node.name} listens on + {step})" if step else ""
                ports[f"HOOKHOUSE_KAFKA_PORT{more}"] = node.port
                ports[f"HOOKHOUSE_KAFKA_CONTROLLER_PORT{more}"] = node.controller_port
        if self.local_clickhouse:
            for shard, (http, tcp) in enumerate(self.shard_ports(), start=1):
                moved = f" (shard {shard}: 10 per shard above it)" if shard > 1 else ""
                ports[f"HOOKHOUSE_CLICKHOUSE_HTTP_PORT{moved}"] = http
                ports[f"HOOKHOUSE_CLICKHOUSE_TCP_PORT{moved}"] = tcp
        return ports

    def shard_ports(self) -> list[tuple[int, int]]:
        """HTTP and native ports of each embedded ClickHouse server."""
        http, tcp = self.settings.clickhouse_http_port, self.settings.clickhouse_tcp_port
        return [clickhouse_server.shard_ports(http, tcp, k) for k in range(1, self.shards + 1)]

    def spawn(self, name: str, command: list[str], slot: Slot | None = None) -> Child:
        env = self.child_env()
        if slot is not None:
            env["HOOKHOUSE_INSTANCE_ID"] = slot.instance_id
            env[f"HOOKHOUSE_{slot.service.upper()}_PORT"] = str(slot.port(self.settings))
        child = Child(name, command, self.home / "logs" / f"{name}.log", env)
        child.start()
        self.children.append(child)
        return child

    def start_kafka(self) -> None:
        count = self.settings.kafka_brokers
        print(
            f"  kafka       resolving jars (Kafka {kafka_broker.kafka_version()}) and "
            f"starting {'the broker' if count == 1 else f'{count} brokers'}…",
            flush=True,
        )
        brokers = [
            (node, self.spawn(node.name, command))
            for node, command in kafka_broker.prepare(self.settings, self.home)
        ]
        # Wait for the ports before asking for metadata, so the client does not log
        # a connection failure every 50 ms while the JVMs start.
        for node, child in brokers:
            self.wait(
                lambda port=node.port: is_listening(self.settings.host, port),
                f"the Kafka broker {node.name}",
                child,
                90.0,
            )
        # Topics replicated to every broker can be made once all of them registered.
        probe = KafkaProbe(self.settings, brokers=count)
        self.wait(lambda: probe(1.0), "the Kafka brokers", brokers[0][1], 30.0)

    def start_clickhouse(self) -> None:
        """One embedded server, or with ``--clickhouse-shards N`` N of them as the
        shards of one cluster, each in a data directory of its own (a cluster's tables
        differ from one server's, so the layouts never share data)."""
        ports = self.shard_ports()
        addresses = ",".join(f"{self.settings.host}:{tcp}" for _, tcp in ports)
        for shard, (http, tcp) in enumerate(ports, start=1):
            if self.shards == 1:
                name, data, cluster = "clickhouse", self.home / "clickhouse" / "data", []
            else:
                name = "clickhouse" if shard == 1 else f"clickhouse-{shard}"
                data = self.home / f"clickhouse-{self.shards}-shards" / f"shard{shard}" / "data"
                cluster = ["--cluster", self.settings.clickhouse_cluster, "--shard", str(shard)]
                cluster += ["--shards", addresses]
            self.start_clickhouse_server(name, data, http, tcp, cluster)

    def start_clickhouse_server(
        self, name: str, data: Path, http_port: int, tcp_port: int, cluster: list[str]
    ) -> None:
        data.mkdir(parents=True, exist_ok=True)
        ch = self.spawn(
            name,
            [
                sys.executable,
                "-m",
                "hookhouse.stack.clickhouse_server",
                *cluster,
                str(data),
                str(http_port),
                str(tcp_port),
                self.settings.host,
                self.settings.clickhouse_database,
                hashlib.sha256(self.reader_password().encode()).hexdigest(),
                str(self.settings.clickhouse_reader_max_seconds),
                str(self.settings.clickhouse_reader_max_memory_mb * 1024 * 1024),
                str(self.settings.clickhouse_reader_max_rows),
            ],
        )
        ch.run_dir = data.parent / "run"
        url = f"http://{self.settings.host}:{http_port}/ping"
        self.wait(lambda: http_ok(url), "the ClickHouse server", ch, 60.0)

    def start_prometheus(self) -> None:
        line = prometheus.command(self.settings, self.home, SERVICES)
        if line is None:
            print(
                "  prometheus  not found (`make .hookhouse/tools/promtool` unpacks it); "
                "not started",
                flush=True,
            )
            return
        child = self.spawn("prometheus", line)
        url = f"http://{self.settings.host}:{self.settings.prometheus_port}/-/ready"
        self.wait(lambda: http_ok(url), "prometheus", child, READY_TIMEOUT_SECONDS)

    def reader_password(self) -> str:
        """The analysts' read-only ClickHouse password, made once per home."""
        return self.home_secret("clickhouse/reader.password", lambda: secrets.token_urlsafe(24))

    def with_home_key(self) -> Settings:
        """The settings, sealing the config topic's secrets with the home's key (made
        once, ``config.key``) unless ``HOOKHOUSE_CONFIG_KEYS`` gives keys."""
        if self.settings.config_keys.get_secret_value():
            return self.settings
        key = SecretStr(self.home_secret("config.key", new_key))
        return self.settings.model_copy(update={"config_keys": key})

    def home_secret(self, name: str, make: Callable[[], str]) -> str:
        """A secret kept in the home (mode 0600), made the first time it is asked for."""
        path = self.home / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(0o600)
            path.write_text(make())
        return path.read_text().strip()

    def wait(self, check: object, what: str, child: Child | None, timeout: float) -> None:
        assert callable(check)
        deadline = time.monotonic() + timeout
        while not check():
            if child is not None and not child.alive():
                raise RuntimeError(f"{what} exited while starting; see {child.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} was not ready within {timeout:.0f}s")
            time.sleep(0.25)

    def run(self) -> int:
        self.home.mkdir(parents=True, exist_ok=True)
        lock = (self.home / "up.lock").open("w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(
                f"another `hookhouse up` is already running with HOOKHOUSE_HOME={self.home}",
                file=sys.stderr,
            )
            return 1
        try:
            ports = self.ports()
            ensure_distinct(ports)
            ensure_free(self.settings.host, ports)
        except PortTaken as exc:
            print(f"hookhouse: {exc}", file=sys.stderr)
            return 2
        if self.local_kafka and self.settings.replication_factor > self.settings.kafka_brokers:
            print(
                f"hookhouse: HOOKHOUSE_REPLICATION_FACTOR={self.settings.replication_factor} "
                f"needs as many brokers; start them with --brokers "
                f"{self.settings.replication_factor}",
                file=sys.stderr,
            )
            return 2
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        started = time.monotonic()
        print(f"hookhouse: starting the local stack in {self.home}", flush=True)
        self.settings = self.with_home_key()
        try:
            if self.local_kafka:
                self.start_kafka()
            if self.local_clickhouse:
                self.start_clickhouse()
            if self.infra_only:
                print(
                    f"\nKafka ({self.settings.kafka_bootstrap}) and ClickHouse "
                    f"({self.settings.clickhouse_url.split('@')[-1]}) are up. Ctrl-C stops "
                    "them.",
                    flush=True,
                )
                self.supervise()
            for line in migrate(self.settings):
                print(f"  clickhouse  {line}", flush=True)
            created = ensure_topics(self.settings)
            if created:
                print(f"  kafka       created {len(created)} topics", flush=True)
            boot = self.bootstrap()
            started_services = [
                (
                    slot,
                    self.spawn(
                        slot.name, [sys.executable, "-m", "hookhouse.cli", slot.service], slot
                    ),
                )
                for slot in slots(SERVICES, self.settings.workers)
            ]
            for slot, child in started_services:
                url = f"http://{self.settings.host}:{slot.port(self.settings)}/readyz"
                self.wait(lambda url=url: http_ok(url), child.name, child, READY_TIMEOUT_SECONDS)
            if self.settings.prometheus:
                self.start_prometheus()
            self.write_state(boot.api_key)
            self.banner(boot.api_key, boot.source_id, time.monotonic() - started)
            self.supervise()
        except _Stop:
            pass
        finally:
            self.shutdown()
        return 0

    def bootstrap(self) -> Bootstrapped:
        state = read_env(self.home / "stack.env")
        log = ConfigLog(self.settings)
        log.start()
        try:
            return bootstrap(log, self.settings.api_url, state.get("HOOKHOUSE_API_KEY"))
        finally:
            log.stop()

    def write_state(self, api_key: str) -> None:
        values = {
            "HOOKHOUSE_INGEST_URL": self.settings.ingest_url,
            "HOOKHOUSE_API_URL": self.settings.api_url,
            "HOOKHOUSE_API_KEY": api_key,
            "HOOKHOUSE_KAFKA_BOOTSTRAP": self.settings.kafka_bootstrap,
            "HOOKHOUSE_CLICKHOUSE_URL": self.settings.clickhouse_url,
            "HOOKHOUSE_CONFIG_KEYS": self.settings.config_keys.get_secret_value(),
        }
        if self.shards > 1:
            values["HOOKHOUSE_CLICKHOUSE_CLUSTER"] = self.settings.clickhouse_cluster
            values["HOOKHOUSE_CLICKHOUSE_SHARD_URLS"] = self.settings.clickhouse_shard_urls
        if (self.home / "clickhouse" / "reader.password").exists():  # the embedded server's
            values["HOOKHOUSE_CLICKHOUSE_READER_URL"] = (
                f"http://{READER}:{self.reader_password()}@{self.settings.host}:"
                f"{self.settings.clickhouse_http_port}"
            )
        path = self.home / "stack.env"
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        path.chmod(0o600)
        self.write_pids()

    def write_pids(self) -> None:
        """``pids.json``, what `hookhouse status` reads: every child's current process."""
        pids = {c.name: c.process.pid for c in self.children if c.process is not None}
        text = json.dumps({"supervisor": os.getpid(), **pids})
        staged = self.home / "pids.json.new"
        staged.write_text(text)
        staged.replace(self.home / "pids.json")  # never half written for a reader

    def banner(self, api_key: str, source_id: str, seconds: float) -> None:
        ingest = self.settings.ingest_url
        scraped = (
            f"  prometheus  http://{self.settings.host}:{self.settings.prometheus_port}\n"
            if any(child.name == "prometheus" for child in self.children)
            else ""
        )
        print(
            f"\nhookhouse is up ({seconds:.1f}s).\n\n"
            f"  ingest      {ingest}/e/<source_id>\n"
            f"  api         {self.settings.api_url}/2024-03-01\n"
            f"  api key     {api_key}\n"
            f"  dashboard   {self.settings.dashboard_url}/  (sign in with the api key)\n"
            f"  kafka       {self.settings.kafka_bootstrap}\n"
            f"  clickhouse  {self.settings.clickhouse_url.split('@')[-1]}{self.cluster_note()}\n"
            f"{scraped}"
            f"  state       {self.home / 'stack.env'}\n\n"
            "Send a test webhook to the demo source (delivered to the mock destination):\n\n"
            f"  curl -X POST {ingest}/e/{source_id} -H 'content-type: application/json' "
            '-d \'{"hello": "world"}\'\n\n'
            f"See its event in the dashboard ({self.settings.dashboard_url}/#/events), or:\n\n"
            f"  curl -H 'Authorization: Bearer {api_key}' {self.settings.api_url}/2024-03-01/events"
            "\n\nLogs: `hookhouse logs -f`, status: `hookhouse status`. Ctrl-C stops everything.\n",
            flush=True,
        )

    def cluster_note(self) -> str:
        if self.shards == 1:
            return ""
        others = [url.split("@")[-1] for url in self.settings.clickhouse_shards[1:]]
        return f" (shard 1 of cluster {self.settings.clickhouse_cluster}; {', '.join(others)})"

    # -- run -----------------------------------------------------------------------
    def supervise(self) -> None:
        while True:
            for child in self.children:
                if child.alive() or self.stopping:
                    continue
                now = time.monotonic()
                if child.next_start == 0.0:
                    code = child.process.returncode if child.process else None
                    delay = child.backoff.exited(now)
                    child.next_start = now + delay
                    print(
                        f"  {child.name} exited with {code}; restarting in {delay:.0f}s "
                        f"(log: {child.log_path})",
                        flush=True,
                    )
                elif now >= child.next_start:
                    child.next_start = 0.0
                    child.start()
                    if (self.home / "pids.json").exists():  # not before the stack was up
                        self.write_pids()
            time.sleep(0.5)

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.stopping:
            return
        self.stopping = True
        raise _Stop

    def shutdown(self) -> None:
        self.stopping = True
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if not self.children:
            return
        print("hookhouse: stopping…", flush=True)
        services = [c for c in self.children if kind(c.name) in SERVICES]
        for child in services:
            if child.alive():
                assert child.process is not None
                child.process.send_signal(signal.SIGTERM)
        for child in services:
            child.stop(20.0)
        for name in ("clickhouse", "kafka"):
            stopping = [c for c in self.children if kind(c.name) == name]
            if name == "kafka":  # a cluster's brokers all at once, then each waited for
                for child in stopping[1:]:
                    if child.alive():
                        assert child.process is not None
                        child.process.send_signal(signal.SIGTERM)
            for child in stopping:
                child.stop(STOP_GRACE_SECONDS[name])
        (self.home / "pids.json").unlink(missing_ok=True)
        print("hookhouse: stopped", flush=True)


class _Stop(Exception):
    pass


def kind(name: str) -> str:
    """What a child is: ``kafka-2`` is a ``kafka`` broker."""
    return name.partition("-")[0]


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def read_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def initialize(settings: Settings) -> int:
    """What `up` does before starting services, for clusters `up` does not run."""
    stack = Stack(settings)
    stack.home.mkdir(parents=True, exist_ok=True)
    stack.settings = settings = stack.with_home_key()
    for line in migrate(settings):
        print(f"clickhouse: {line}")
    print(f"kafka: created {len(ensure_topics(settings))} topics")
    boot = stack.bootstrap()
    stack.write_state(boot.api_key)
    print(f"project {boot.project_id}; API key in {stack.home / 'stack.env'}")
    return 0


def add_project(settings: Settings, name: str) -> int:
    log = ConfigLog(Stack(settings).with_home_key())
    log.start()
    try:
        if not log.wait_ready(60):
            print("the config log could not be read within 60 s; is Kafka up?", file=sys.stderr)
            return 1
        made = project(log, name)
        print(f"project {made['id']} ({name})\nAPI key {new_api_key(log, made['id'])}")
        print("The key is shown once; only its hash is stored.")
        return 0
    finally:
        log.stop()


def slot_setting(settings: Settings, slot: Slot) -> str:
    """The setting that moves a service process's port, for the port checks' messages."""
    if slot.number == 0:
        return f"HOOKHOUSE_{slot.service.upper()}_PORT"
    offset = slot.port(settings) - settings.worker_port
    return f"HOOKHOUSE_WORKER_PORT (which {slot.name} listens on + {offset})"


def up(settings: Settings, infra_only: bool = False, shards: int = 1) -> int:
    return Stack(settings, infra_only, shards).run()


def status(settings: Settings) -> int:
    home = settings.home.expanduser().resolve()
    pids_file = home / "pids.json"
    if not pids_file.exists():
        print(f"hookhouse is not running (no {pids_file})")
        return 1
    pids: dict[str, int] = json.loads(pids_file.read_text())
    state = read_env(home / "stack.env")
    # The brokers in node order, as `up` wrote their addresses.
    brokers = iter(state.get("HOOKHOUSE_KAFKA_BOOTSTRAP", "").split(","))
    healthy = True
    for name, pid in pids.items():
        alive = pid_alive(pid)
        line = f"  {name:<11} pid {pid:<8} {'running' if alive else 'stopped'}"
        slot = slot_named(name, SERVICES)
        if slot is not None:
            url = f"http://{settings.host}:{slot.port(settings)}"
            ready = http_ok(f"{url}/readyz")
            line += f"  ready={'yes' if ready else 'no'}  {url}"
            healthy = healthy and ready
        elif kind(name) == "kafka":
            address = next(brokers, "")
            host, _, port = address.rpartition(":")
            listening = port.isdigit() and is_listening(host, int(port))
            line += f"  listening={'yes' if listening else 'no'}  {address}"
            healthy = healthy and listening
        healthy = healthy and alive
        print(line)
    for key, value in state.items():
        print(f"  {key}={value}")
    return 0 if healthy else 1


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def logs(settings: Settings, service: str | None, follow: bool, lines: int) -> int:
    directory = settings.home.expanduser().resolve() / "logs"
    # A service's or a broker's every process: router.log, router-1.log …
    files = sorted(
        directory.glob("*.log")
        if service is None
        else [*directory.glob(f"{service}.log"), *directory.glob(f"{service}-*.log")]
    )
    if not files:
        print(f"no logs in {directory}", file=sys.stderr)
        return 1
    command = ["tail", "-n", str(lines), *(["-F"] if follow else []), *map(str, files)]
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0
