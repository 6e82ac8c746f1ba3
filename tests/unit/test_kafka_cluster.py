"""The local cluster's layout and the replication defaults, without a broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookhouse.cli import parser
from hookhouse.common.kafka import producer_config
from hookhouse.common.settings import Settings
from hookhouse.stack.kafka_broker import kafka_uuid, nodes, server_properties
from hookhouse.stack.supervisor import Stack, kind


def properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


@pytest.mark.parametrize(
    ("brokers", "replication", "in_sync"), [(1, 1, 1), (2, 1, 1), (3, 3, 2), (5, 3, 2)]
)
def test_replication_follows_the_broker_count(brokers: int, replication: int, in_sync: int) -> None:
    settings = Settings(kafka_brokers=brokers)
    assert (settings.replication_factor, settings.min_insync_replicas) == (replication, in_sync)


def test_a_set_replication_wins_and_brings_its_own_in_sync_default() -> None:
    assert Settings(kafka_brokers=3, replication_factor=1).min_insync_replicas == 1
    assert Settings(replication_factor=3).min_insync_replicas == 2
    explicit = Settings(kafka_brokers=3, replication_factor=3, min_insync_replicas=3)
    assert explicit.min_insync_replicas == 3


def test_the_default_bootstrap_lists_every_local_broker_first_port_first() -> None:
    settings = Settings(kafka_brokers=3, kafka_port=9000, kafka_controller_port=9001)
    assert settings.kafka_bootstrap == "127.0.0.1:9000,127.0.0.1:9002,127.0.0.1:9004"
    assert settings.kafka_controller_ports == [9001, 9003, 9005]
    assert Settings(kafka_port=9000).kafka_bootstrap == "127.0.0.1:9000"


def test_one_broker_keeps_its_name_and_folder_a_cluster_numbers_them() -> None:
    home = Path("/h")
    (single,) = nodes(Settings(), home)
    assert (single.id, single.name, single.home, single.port) == (1, "kafka", home / "kafka", 7792)
    cluster = nodes(Settings(kafka_brokers=3), home)
    assert [(n.id, n.name, n.port, n.controller_port) for n in cluster] == [
        (1, "kafka-1", 7792, 7793),
        (2, "kafka-2", 7794, 7795),
        (3, "kafka-3", 7796, 7797),
    ]
    assert cluster[2].data == home / "kafka-3" / "data"


def test_each_node_knows_every_controller_and_replicates_internal_topics() -> None:
    settings = Settings(kafka_brokers=3)
    second = nodes(settings, Path("/h"))[1]
    made = properties(server_properties(settings, second, Path("/h/kafka-2/data")))
    assert made["node.id"] == "2"
    assert made["process.roles"] == "broker,controller"
    assert made["listeners"] == "PLAINTEXT://127.0.0.1:7794,CONTROLLER://127.0.0.1:7795"
    assert made["controller.quorum.bootstrap.servers"] == (
        "127.0.0.1:7793,127.0.0.1:7795,127.0.0.1:7797"
    )
    for key in ("offsets.topic.replication.factor", "transaction.state.log.replication.factor"):
        assert made[key] == "3"
    assert made["transaction.state.log.min.isr"] == made["min.insync.replicas"] == "2"


def test_one_broker_keeps_one_replica() -> None:
    settings = Settings()
    made = properties(server_properties(settings, nodes(settings, Path("/h"))[0], Path("/d")))
    assert made["offsets.topic.replication.factor"] == made["min.insync.replicas"] == "1"
    assert made["controller.quorum.bootstrap.servers"] == "127.0.0.1:7793"


def test_producers_stay_idempotent_with_acks_from_every_in_sync_replica() -> None:
    conf = producer_config(Settings(kafka_brokers=3))
    assert conf["enable.idempotence"] is True  # librdkafka then requires acks=all
    assert conf.get("acks", "all") in ("all", -1)
    assert conf["bootstrap.servers"].count(",") == 2


def test_ids_are_kafkas_shape() -> None:
    made = {kafka_uuid() for _ in range(200)}
    assert len(made) == 200
    assert all(len(text) == 22 and not text.startswith("-") for text in made)


def test_up_takes_a_broker_count_and_watches_each_brokers_ports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOKHOUSE_KAFKA_BOOTSTRAP", raising=False)  # else no local brokers
    assert parser().parse_args(["up", "--brokers", "3"]).brokers == 3
    assert parser().parse_args(["up"]).brokers is None
    ports = Stack(Settings(kafka_brokers=3, home=tmp_path), infra_only=True).ports()
    kafka = sorted(port for name, port in ports.items() if name.startswith("HOOKHOUSE_KAFKA"))
    assert kafka == [7792, 7793, 7794, 7795, 7796, 7797]
    assert (kind("kafka-2"), kind("kafka"), kind("clickhouse")) == ("kafka", "kafka", "clickhouse")
