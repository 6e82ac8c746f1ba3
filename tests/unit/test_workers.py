"""Several processes per consumer stage in the local stack: their names, ports and
consumer-group names, without starting any."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookhouse.cli import parser
from hookhouse.common.settings import Settings
from hookhouse.stack.ports import PortTaken, ensure_distinct
from hookhouse.stack.prometheus import config
from hookhouse.stack.supervisor import SERVICES, Stack
from hookhouse.stack.workers import Slot, slot_named, slots


def test_one_worker_is_the_stack_as_it_always_ran() -> None:
    made = slots(SERVICES, 1)
    assert [slot.name for slot in made] == list(SERVICES)
    assert [slot.instance_id for slot in made] == [f"{name}-0" for name in SERVICES]
    assert [slot.port(Settings()) for slot in made] == [7700, 7701, 7702, 7703, 7704]


def test_workers_multiply_the_consumer_stages_only() -> None:
    names = [slot.name for slot in slots(SERVICES, 3)]
    assert names == [
        "ingest",
        "api",
        *("router", "router-1", "router-2"),
        *("deliverer", "deliverer-1", "deliverer-2"),
        *("sink", "sink-1", "sink-2"),
    ]
    assert Slot("deliverer", 2).instance_id == "deliverer-2"


def test_later_slots_take_three_ports_each_from_the_worker_port() -> None:
    settings = Settings(worker_port=9000)
    ports = {slot.name: slot.port(settings) for slot in slots(SERVICES, 3) if slot.number}
    assert ports == {
        "router-1": 9000,
        "deliverer-1": 9001,
        "sink-1": 9002,
        "router-2": 9003,
        "deliverer-2": 9004,
        "sink-2": 9005,
    }


@pytest.mark.parametrize(
    ("name", "slot"),
    [
        ("router", Slot("router", 0)),
        ("sink-3", Slot("sink", 3)),
        ("api", Slot("api", 0)),
        ("api-1", None),  # one api only
        ("router-0", None),  # slot 0 is named after its service
        ("router-x", None),
        ("kafka-2", None),
        ("clickhouse", None),
    ],
)
def test_a_childs_name_gives_back_its_slot(name: str, slot: Slot | None) -> None:
    assert slot_named(name, SERVICES) == slot


def test_up_watches_every_slots_port_and_names_the_setting_that_moves_it(tmp_path: Path) -> None:
    ports = Stack(Settings(workers=2, home=tmp_path)).ports()
    assert ports["HOOKHOUSE_ROUTER_PORT"] == 7702
    assert ports["HOOKHOUSE_WORKER_PORT (which deliverer-1 listens on + 1)"] == 7711
    ensure_distinct(ports)  # the defaults leave room for five workers
    ensure_distinct(Stack(Settings(workers=5, home=tmp_path)).ports())


def test_a_slot_on_another_parts_port_is_refused_naming_both(tmp_path: Path) -> None:
    ports = Stack(Settings(workers=2, worker_port=7721, home=tmp_path)).ports()
    with pytest.raises(PortTaken, match=r"sink-1.*HOOKHOUSE_CLICKHOUSE_HTTP_PORT"):
        ensure_distinct(ports)


def test_up_takes_a_worker_count() -> None:
    assert parser().parse_args(["up", "--workers", "2"]).workers == 2
    assert parser().parse_args(["up"]).workers is None  # then HOOKHOUSE_WORKERS decides


def test_prometheus_scrapes_every_slot_under_its_service() -> None:
    made = config(Settings(workers=2), SERVICES)
    targets = {
        c["labels"]["service"]: c["targets"] for c in made["scrape_configs"][0]["static_configs"]
    }
    assert targets["router"] == ["127.0.0.1:7702", "127.0.0.1:7710"]
    assert targets["ingest"] == ["127.0.0.1:7705"]  # its metrics port, one process
