"""The whole stack as a newcomer starts it (`hookhouse up`), for the end-to-end tests:
its ports, start and stop, and the helpers that drive it over HTTP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from confluent_kafka import Consumer, Message, TopicPartition

from hookhouse.stack.supervisor import read_env
from tests.receiver import Receiver
from tests.stack import REPO, clean_env

T = TypeVar("T")

PORTS = {
    "HOOKHOUSE_INGEST_PORT": "27700",
    "HOOKHOUSE_INGEST_METRICS_PORT": "27705",
    "HOOKHOUSE_API_PORT": "27701",
    "HOOKHOUSE_ROUTER_PORT": "27702",
    "HOOKHOUSE_DELIVERER_PORT": "27703",
    "HOOKHOUSE_SINK_PORT": "27704",
    "HOOKHOUSE_KAFKA_PORT": "27792",
    "HOOKHOUSE_KAFKA_CONTROLLER_PORT": "27793",
    "HOOKHOUSE_CLICKHOUSE_HTTP_PORT": "27723",
    "HOOKHOUSE_CLICKHOUSE_TCP_PORT": "27790",
    "HOOKHOUSE_MAX_BODY_BYTES": "65536",
    "HOOKHOUSE_PROMETHEUS": "true",
    "HOOKHOUSE_PROMETHEUS_PORT": "27709",
}


class Stack:
    def __init__(
        self, home: Path, ports: dict[str, str] | None = None, args: tuple[str, ...] = ()
    ) -> None:
        """``ports``: the stack's ports (default: the end-to-end suite's, ``PORTS``);
        ``args``: more of `hookhouse up`'s options."""
        self.home = home
        self.args = args
        self.env = {**clean_env(), **(ports or PORTS), "HOOKHOUSE_HOME": str(home)}
        self.process: subprocess.Popen[str] | None = None
        self.output = home / "up.out"

    def up(self) -> dict[str, str]:
        self.home.mkdir(parents=True, exist_ok=True)
        out = self.output.open("a")
        start = out.tell()  # the banner of an earlier start must not count
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hookhouse.cli", "up", *self.args],
            env=self.env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        wait_for(
            lambda: (
                "hookhouse is up" in self.output.read_text()[start:]
                or self.process is None
                or self.process.poll() is not None
            ),
            300,
        )
        assert self.process.poll() is None, self.output.read_text()[-3000:]
        return read_env(self.home / "stack.env")

    def down(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(120) == 0
        self.process = None


def topic_values(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every record of ``topic`` so far, as JSON, partition by partition."""
    return topic_records(bootstrap, topic, lambda msg: json.loads(msg.value() or b"{}"))


def topic_records(bootstrap: str, topic: str, pick: Callable[[Message], T]) -> list[T]:
    """``pick`` of every record of ``topic`` so far, partition by partition."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "e2e-reader"})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    values: list[T] = []
    for partition in partitions:
        end = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1]
        consumer.assign([TopicPartition(topic, partition, 0)])
        read = 0
        while read < end:
            msg = consumer.poll(5)
            assert msg is not None, f"{topic}[{partition}] stopped before offset {end}"
            if msg.error() is None:
                values.append(pick(msg))
                read = (msg.offset() or 0) + 1
    consumer.close()
    return values


def service_pids(stack: Stack, name: str) -> set[int]:
    """The running processes of this stack's service ``name`` (``hookhouse <name>``)."""
    home = f"HOOKHOUSE_HOME={stack.home}".encode()
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:  # gone, or not ours to read
            continue
        if argv[-3:-1] == [b"hookhouse.cli", name.encode()] and home in environ:
            found.add(int(proc.name))
    return found


def wait_for(check: Callable[[], T], timeout: float = 60, every: float = 0.25) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(every)


def stored(client: httpx.Client, path: str, timeout: float = 30) -> dict[str, Any]:
    """The resource at path once the sink has stored it (a 404 until then)."""

    def found() -> dict[str, Any]:
        response = client.get(path)
        body: dict[str, Any] = response.json() if response.status_code == 200 else {}
        return body

    return wait_for(found, timeout)


def api(stack: Stack) -> httpx.Client:
    env = read_env(stack.home / "stack.env")
    return httpx.Client(
        base_url=f"{env['HOOKHOUSE_API_URL']}/2024-03-01",
        headers={"Authorization": f"Bearer {env['HOOKHOUSE_API_KEY']}"},
        timeout=10,
    )


def connect(
    stack: Stack,
    receiver: Receiver,
    name: str,
    rules: list[dict[str, Any]] | None = None,
    path: str = "/hooks",
    ordering: dict[str, Any] | None = None,
) -> dict[str, Any]:
    with api(stack) as client:
        response = client.post(
            "/connections",
            json={
                "name": name,
                "source": {"name": f"{name}-source"},
                "destination": {"name": f"{name}-destination", "url": f"{receiver.url}{path}"},
                "rules": rules or [],
                "ordering": ordering,
            },
        )
    assert response.status_code == 200, response.text
    connection: dict[str, Any] = response.json()
    return connection
