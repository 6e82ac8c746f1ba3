"""A router or a deliverer killed (SIGKILL) under a trickle of webhooks: delivery goes on
and every accepted webhook is delivered.

Its own stack (`hookhouse up` on ports 28100-28199), one process per stage, so it runs
beside the suite's broker and the end-to-end stack.  How long delivery stopped is
measured and printed (``failover: …``), never asserted: the machine is shared.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.failover import Load, longest_gap
from hookhouse.stack.supervisor import pid_alive
from tests.e2e.running import Stack, connect, wait_for
from tests.receiver import Receiver

pytestmark = pytest.mark.integration

PORTS = {
    "HOOKHOUSE_INGEST_PORT": "28100",
    "HOOKHOUSE_API_PORT": "28101",
    "HOOKHOUSE_ROUTER_PORT": "28102",
    "HOOKHOUSE_DELIVERER_PORT": "28103",
    "HOOKHOUSE_SINK_PORT": "28104",
    "HOOKHOUSE_INGEST_METRICS_PORT": "28105",
    "HOOKHOUSE_KAFKA_PORT": "28192",
    "HOOKHOUSE_KAFKA_CONTROLLER_PORT": "28193",
    "HOOKHOUSE_CLICKHOUSE_HTTP_PORT": "28123",
    "HOOKHOUSE_CLICKHOUSE_TCP_PORT": "28190",
}
TRICKLE_RATE = 10  # webhooks per second
STEADY_SECONDS = 3.0  # of trickle before the kill, and after delivery resumed
GIVE_UP_SECONDS = 150.0  # the trickle stops then even if delivery did not resume


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("failover") / "home", PORTS)
    running.up()
    yield running
    if running.process is not None:
        running.down()


@pytest.mark.parametrize("service", ["deliverer", "router"])
def test_delivery_goes_on_after_a_kill(own_stack: Stack, service: str) -> None:
    with Receiver() as receiver:
        connection = connect(own_stack, receiver, f"failover-{service}")

        def arrivals() -> list[float]:
            return [
                r.at
                for r in receiver.snapshot()
                if r.headers.get("x-hookhouse-request-id") is not None
            ]

        with Load([connection["source"]["url"]], TRICKLE_RATE) as trickle:
            wait_for(lambda: len(arrivals()) >= 5, 60)
            time.sleep(STEADY_SECONDS)
            pids_file = own_stack.home / "pids.json"
            victim = json.loads(pids_file.read_text())[service]
            killed_at = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            deadline = killed_at + GIVE_UP_SECONDS
            while time.monotonic() < deadline and not any(a > killed_at for a in arrivals()):
                time.sleep(0.1)
            time.sleep(STEADY_SECONDS)
        gap = longest_gap(arrivals(), killed_at)
        print(f"failover: {service} killed, no delivery for {gap:.1f} s")

        def delivered() -> bool:
            seen = {r.headers.get("x-hookhouse-request-id") for r in receiver.snapshot()}
            return trickle.accepted() <= seen

        wait_for(delivered, 120)
        assert len(trickle.accepted()) > 20
    # `hookhouse status` reads the pids file: it names the restarted process.
    restarted = wait_for(lambda: live_pid(pids_file, service, victim), 30)
    assert pid_alive(restarted)


def live_pid(pids_file: Path, service: str, old: int) -> int:
    pid: int = json.loads(pids_file.read_text())[service]
    return pid if pid != old and pid_alive(pid) else 0


def test_longest_gap_counts_from_the_kill() -> None:
    assert longest_gap([0.5, 1.0, 1.2, 4.0, 4.1], since=1.0) == pytest.approx(2.8)
    assert longest_gap([], since=1.0) == 0.0
