"""What an operator's environment or command line may hold about the Kafka cluster:
broker counts at and past their bounds, malformed bootstrap lists, and values that
would reach the brokers' server.properties or their JVM's command line."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from pydantic import ValidationError

from hookhouse.cli import main
from hookhouse.common.settings import MAX_LOCAL_BROKERS, MAX_LOCAL_WORKERS, Settings
from hookhouse.stack.kafka_broker import nodes, server_properties
from hookhouse.stack.supervisor import Stack


@pytest.mark.parametrize("count", ["1", str(MAX_LOCAL_BROKERS)])
def test_broker_counts_at_the_bounds_are_taken(count: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOKHOUSE_KAFKA_BROKERS", count)
    settings = Settings()
    assert len(settings.kafka_bootstrap.split(",")) == int(count)


@pytest.mark.parametrize(
    ("setting", "count"),
    [
        *[
            ("kafka_brokers", n)
            for n in [
                "0",
                "-1",
                str(MAX_LOCAL_BROKERS + 1),
                "1" + "0" * 30,
                "3; rm -rf /",
                "",
                "3.5",
            ]
        ],
        *[("workers", n) for n in ["0", "-1", str(MAX_LOCAL_WORKERS + 1), "2; kill", "1.5", ""]],
    ],
)
def test_broker_and_worker_counts_past_the_bounds_or_not_numbers_are_refused(
    setting: str, count: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"HOOKHOUSE_{setting.upper()}", count)
    with pytest.raises(ValidationError, match=setting):
        Settings()


@pytest.mark.parametrize(
    ("option", "count"),
    [
        *[("--brokers", n) for n in ["0", "10", "abc", "1e3", "-1", "99999999999999999999"]],
        *[("--clickhouse-shards", n) for n in ["0", "7", "-1", "two", "1e3", ""]],
        *[("--workers", n) for n in ["0", "9", "-1", "two", "1e3", "", "99999999999999999999"]],
    ],
)
def test_up_refuses_counts_it_cannot_run_before_anything_starts(
    option: str, count: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["up", option, count])
    assert exited.value.code == 2
    assert option in capsys.readouterr().err


@pytest.mark.parametrize(
    "bootstrap",
    ["a:1,,b:2", ",a:1", "a:1,", "a:1\nb:2", "a :1", "a:1,b:2\x00", " , "],
)
def test_malformed_bootstrap_lists_are_refused(bootstrap: str) -> None:
    with pytest.raises(ValidationError, match="brokers separated by commas"):
        Settings(kafka_bootstrap=bootstrap)


def test_a_long_bootstrap_list_is_kept_whole_spaces_around_commas_dropped() -> None:
    brokers = [f"k{n}.example:9092" for n in range(500)]
    assert Settings(kafka_bootstrap=" , ".join(brokers)).kafka_bootstrap == ",".join(brokers)


@pytest.mark.parametrize(
    "host", ["127.0.0.1\nprocess.roles=controller", "h#x", "h x", "h=1", "h\r", "h\\"]
)
def test_a_host_cannot_write_lines_into_the_brokers_properties(host: str) -> None:
    with pytest.raises(ValidationError, match="host"):
        Settings(host=host)


def test_every_property_line_is_the_projects_own() -> None:
    settings = Settings(kafka_brokers=3, host="broker-host.example")
    text = server_properties(settings, nodes(settings, Path("/h"))[0], Path("/h/kafka-1/data"))
    assert all(line.count("=") >= 1 for line in text.splitlines() if line)
    assert text.count("node.id=") == 1


@pytest.mark.parametrize("heap", ["1g -XX:+UnlockDiagnosticVMOptions", "", "0", "-1g", "9999999g"])
def test_a_heap_is_a_size_and_nothing_more(heap: str) -> None:
    with pytest.raises(ValidationError, match="kafka_heap"):
        Settings(kafka_heap=heap)


def test_more_in_sync_replicas_than_replicas_is_refused() -> None:
    with pytest.raises(ValidationError, match="min_insync_replicas"):
        Settings(kafka_brokers=3, replication_factor=2, min_insync_replicas=3)


@pytest.mark.parametrize(
    "ports",
    [
        {"kafka_port": 7792, "kafka_controller_port": 7794},  # broker 2 on a controller's
        {"kafka_port": 65533, "kafka_controller_port": 7793},  # past 65535
        {"kafka_port": 0},
    ],
)
def test_brokers_ports_that_collide_or_do_not_exist_are_refused(ports: dict[str, int]) -> None:
    with pytest.raises(ValidationError, match=r"kafka_port|local brokers need ports"):
        Settings(kafka_brokers=3, **ports)  # type: ignore[arg-type]


def test_up_refuses_more_replicas_than_brokers_before_starting_any(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HOOKHOUSE_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.setenv("HOOKHOUSE_CLICKHOUSE_URL", "http://default:@127.0.0.1:9")  # none started
    ports = {}
    for name in ("kafka_port", "kafka_controller_port"):
        with socket.socket() as s:  # free now, so the port check passes
            s.bind(("127.0.0.1", 0))
            ports[name] = s.getsockname()[1]
    settings = Settings(home=tmp_path, replication_factor=3, **ports)
    assert Stack(settings, infra_only=True).run() == 2
    assert "needs as many brokers; start them with --brokers 3" in capsys.readouterr().err
    assert not (tmp_path / "kafka").exists()


@pytest.mark.parametrize(("workers", "port"), [(2, 65534), (8, 65516), (2, 0), (2, 70000)])
def test_worker_ports_past_65535_or_none_are_refused(workers: int, port: int) -> None:
    with pytest.raises(ValidationError, match="worker_port"):
        Settings(workers=workers, worker_port=port)


def test_worker_ports_ending_at_65535_are_taken() -> None:
    assert Settings(workers=8, worker_port=65535 - 20).workers == 8
