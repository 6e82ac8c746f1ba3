"""docker-compose.yml cannot run here (no Docker engine); keep it consistent with the code."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import yaml

from hookhouse.cli import parser
from hookhouse.common.domain.limits import TOPIC_MAX_MESSAGE_BYTES
from hookhouse.common.settings import Settings
from hookhouse.stack import kafka_broker

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_every_service_runs_a_real_command_with_known_settings() -> None:
    services = compose()["services"]
    actions = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    commands = set(actions[0].choices)
    known = {f"HOOKHOUSE_{name.upper()}" for name in Settings.model_fields}
    for name in ("init", "ingest", "api", "router", "deliverer", "sink"):
        service = services[name]
        assert service["image"] == "hookhouse:local"
        assert service["command"][0] in commands
        for variable in service["environment"]:
            assert variable in known, f"{name}: {variable} is not a setting"


def test_kafka_image_matches_the_pinned_broker() -> None:
    image = compose()["services"]["kafka"]["image"]
    assert image == f"apache/kafka:{kafka_broker.kafka_version()}"


def test_clickhouse_image_matches_the_embedded_server() -> None:
    image = compose()["services"]["clickhouse"]["image"]
    pyproject = (ROOT / "pyproject.toml").read_text()
    chdb = re.search(r'"chdb-core==(\d+\.\d+)', pyproject)
    assert chdb is not None and image == f"clickhouse/clickhouse-server:{chdb.group(1)}"


def test_the_broker_takes_the_records_hookhouse_sends() -> None:
    kafka = compose()["services"]["kafka"]["environment"]
    assert kafka["KAFKA_MESSAGE_MAX_BYTES"] == TOPIC_MAX_MESSAGE_BYTES
