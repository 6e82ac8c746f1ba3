"""Crashes mid-run — the deliverer killed, the broker or ClickHouse restarted: nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from confluent_kafka import Producer

from hookhouse.common import clickhouse, topics
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.config import new_resource
from hookhouse.common.domain.times import iso_ms
from hookhouse.common.kafka import client_config
from hookhouse.common.settings import Settings
from hookhouse.stack.ports import is_listening
from tests.integration.test_deliverer import (
    config_log,
    connect,
    deliverer_settings,
    final_events,
    project_id,
    send,
    wait_for,
)
from tests.receiver import Answer, Receiver
from tests.stack import REPO, TEST_HOME, clean_env

# Inside the ClickHouse tables' retention (a TTL), whatever day the suite runs.
CREATED = iso_ms(now_ms())

pytestmark = pytest.mark.integration


def service_env(settings: Settings) -> dict[str, str]:
    return {
        **clean_env(),
        "HOOKHOUSE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "HOOKHOUSE_CLICKHOUSE_URL": settings.clickhouse_url,
        "HOOKHOUSE_CLICKHOUSE_DATABASE": settings.clickhouse_database,
        "HOOKHOUSE_TOPIC_PREFIX": settings.topic_prefix,
        "HOOKHOUSE_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "HOOKHOUSE_DESTINATION_ALLOW_NETWORKS": "127.0.0.0/8",
        "HOOKHOUSE_HOME": str(settings.home),
        "HOOKHOUSE_LOG_LEVEL": "WARNING",
    }


def start_service(
    name: str, settings: Settings, port: int, log: Path, **env: str
) -> subprocess.Popen[bytes]:
    """``hookhouse <name>`` on ``port``; ``env`` adds HOOKHOUSE_* settings."""
    return subprocess.Popen(
        [sys.executable, "-m", "hookhouse.cli", name],
        env={
            **service_env(settings),
            f"HOOKHOUSE_{name.upper()}_PORT": str(port),
            **{f"HOOKHOUSE_{k.upper()}": v for k, v in env.items()},
        },
        cwd=REPO,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def test_sigkill_mid_flight_loses_nothing(infra: None, tmp_path: Path) -> None:
    settings = deliverer_settings()
    with Receiver(lambda _: Answer(delay=0.02)) as receiver, config_log(settings) as config:
        conn, dest = connect(config, receiver.url)
        ids = set(send(settings, conn, dest, 300, project_id(config)))
        first = start_service("deliverer", settings, 17850, tmp_path / "deliverer.log")
        wait_for(lambda: len(receiver.snapshot()) >= 60, 60)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = start_service("deliverer", settings, 17850, tmp_path / "deliverer.log")
        try:

            def all_received() -> bool:
                got = {r.headers["x-hookhouse-event-id"] for r in receiver.snapshot()}
                return ids <= got

            wait_for(all_received, 90)
            events = final_events(settings, ids)
            assert all(events[i]["status"] == "SUCCESSFUL" for i in ids)
        finally:
            second.terminate()
            second.wait(30)
    for got in receiver.snapshot():  # duplicates, if any, carry the same key
        assert got.headers["idempotency-key"] == got.headers["x-hookhouse-event-id"]


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[tuple[Settings, subprocess.Popen[bytes]]]:
    """A broker of this test's own (the suite's shared one must not be restarted).

    Its ports are below Linux's ephemeral range (32768-60999), where a client
    connection's local port could already hold them.
    """
    home = TEST_HOME / "restart"
    env = {
        **clean_env(),
        "HOOKHOUSE_HOME": str(home),
        "HOOKHOUSE_KAFKA_PORT": "31792",
        "HOOKHOUSE_KAFKA_CONTROLLER_PORT": "31793",
        "HOOKHOUSE_CLICKHOUSE_HTTP_PORT": "31723",
        "HOOKHOUSE_CLICKHOUSE_TCP_PORT": "31790",
    }
    stack = subprocess.Popen(
        [sys.executable, "-m", "hookhouse.cli", "up", "--infra-only"],
        env=env,
        cwd=REPO,
        stdout=(tmp_path / "up.log").open("ab"),
        stderr=subprocess.STDOUT,
    )

    def up() -> bool:
        assert stack.poll() is None, (tmp_path / "up.log").read_text()[-2000:]
        return is_listening("127.0.0.1", 31792) and is_listening("127.0.0.1", 31723)

    wait_for(up, 120)
    settings = deliverer_settings(
        kafka_bootstrap="127.0.0.1:31792", clickhouse_url="http://default:@127.0.0.1:31723"
    )
    try:
        yield settings, stack
    finally:
        stack.send_signal(signal.SIGTERM)
        stack.wait(60)


def test_broker_restart_mid_run_the_deliverer_recovers(
    own_broker: tuple[Settings, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    settings, _ = own_broker
    with Receiver() as receiver, config_log(settings) as config:
        conn, dest = connect(config, receiver.url)
        before = set(send(settings, conn, dest, 50, project_id(config)))
        deliverer = start_service("deliverer", settings, 17851, tmp_path / "deliverer.log")
        try:
            wait_for(lambda: len(receiver.snapshot()) >= 50, 60)
            os.kill(_kafka_pid(), signal.SIGKILL)  # the supervisor starts it again
            wait_for(lambda: not is_listening("127.0.0.1", 31792), 30)
            wait_for(lambda: is_listening("127.0.0.1", 31792), 120)
            after = set(send(settings, conn, dest, 50, project_id(config)))

            def all_received() -> bool:
                got = {r.headers["x-hookhouse-event-id"] for r in receiver.snapshot()}
                return (before | after) <= got

            wait_for(all_received, 120)
            assert deliverer.poll() is None  # it recovered by itself, no restart
        finally:
            deliverer.terminate()
            deliverer.wait(30)


def test_broker_unresponsive_ingest_answers_503_in_bounded_time_then_recovers(
    own_broker: tuple[Settings, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """The broker frozen (SIGSTOP: connections open, nothing answers): every request is
    refused with 503 and Retry-After within the produce timeout, none gets a 2xx; once
    it answers again, ingest accepts again without a restart."""
    settings, _ = own_broker
    with config_log(settings) as config:
        source = new_resource("src", project_id(config), {"name": "outage"}, now_ms())
        config.append("source", source["id"], source)
        ingest = start_service(
            "ingest", settings, 17852, tmp_path / "ingest.log", produce_timeout_seconds="2"
        )
        url = f"http://127.0.0.1:17852/e/{source['id']}"

        def post() -> httpx.Response:
            return httpx.post(url, json={"n": 1}, timeout=20)  # 10x the produce timeout

        def accepted() -> bool:
            try:
                return post().status_code == 200
            except httpx.TransportError:
                return False

        kafka = _kafka_pid()
        try:
            # A fresh broker's first producer id can take a minute on a busy machine.
            wait_for(accepted, 150)
            os.kill(kafka, signal.SIGSTOP)
            for _ in range(3):  # unbounded waits would end in the client's timeout instead
                answer = post()
                assert answer.status_code == 503, answer.text
                assert answer.json()["code"] == "KAFKA_UNAVAILABLE"
                assert answer.headers["retry-after"]
            os.kill(kafka, signal.SIGCONT)
            wait_for(accepted, 60)
            assert ingest.poll() is None
        finally:
            os.kill(kafka, signal.SIGCONT)
            ingest.terminate()
            ingest.wait(30)


def _kafka_pid() -> int:
    """The broker of the `restart` home (its server.properties path names it)."""
    found = subprocess.run(
        ["pgrep", "-f", "kafka.Kafka .*/restart/"], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(found[0])


def _clickhouse_pid() -> int:
    """The embedded ClickHouse server of the `restart` home."""
    found = subprocess.run(
        ["pgrep", "-f", "clickhouse_server .*/restart/"], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(found[0])


def test_clickhouse_restart_mid_run_the_sink_loses_nothing(
    own_broker: tuple[Settings, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    settings, _ = own_broker
    producer = Producer(client_config(settings))
    records = topics.name(settings, topics.RECORDS)

    def send(first: int, count: int) -> None:
        for n in range(first, first + count):
            row = {
                "id": f"evt_{n:06d}",
                "project_id": "tm_outage",
                "request_id": f"req_{n}",
                "source_id": "src",
                "connection_id": "web",
                "destination_id": "des",
                "created_at": CREATED,
                "status": "SUCCESSFUL",
                "attempts": 1,
                "last_attempt_at": None,
                "response_status": 200,
                "error_code": "",
                "version": 1,
            }
            key = f"evt_{n:06d}"
            producer.produce(records, orjson.dumps(row), key=key, headers=[("kind", b"event")])
        assert producer.flush(30) == 0

    def stored() -> int:
        try:
            client = clickhouse.client(settings, settings.clickhouse_database)
            try:
                return int(str(client.command("SELECT count() FROM events FINAL")))
            finally:
                client.close()
        except Exception:  # ClickHouse is down: not stored yet
            return -1

    sink = start_service("sink", settings, 17852, tmp_path / "sink.log")
    try:
        send(0, 200)
        wait_for(lambda: stored() == 200, 60)
        os.kill(_clickhouse_pid(), signal.SIGKILL)  # the supervisor starts it again
        wait_for(lambda: not is_listening("127.0.0.1", 31723), 30)
        send(200, 300)  # written while ClickHouse is down
        wait_for(lambda: is_listening("127.0.0.1", 31723), 120)
        wait_for(lambda: stored() == 500, 120)
        assert sink.poll() is None  # it waited and resumed by itself, no restart
    finally:
        sink.terminate()
        sink.wait(30)
