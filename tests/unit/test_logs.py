"""Services log one JSON object per line, with the ids a line is about."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from hookhouse.common.runtime import start
from hookhouse.common.settings import Settings


@pytest.fixture
def restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_service_level_and_ids(
    restored: None, capsys: pytest.CaptureFixture[str]
) -> None:
    start("ingest", Settings(log_format="json", log_level="INFO"))
    logging.getLogger("hookhouse.ingest").warning(
        "rejected request %s not recorded", "req_1", extra={"request_id": "req_1"}
    )
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["message"].startswith("starting ingest with")
    assert {k: lines[1][k] for k in ("level", "service", "logger", "message", "request_id")} == {
        "level": "WARNING",
        "service": "ingest",
        "logger": "hookhouse.ingest",
        "message": "rejected request req_1 not recorded",
        "request_id": "req_1",
    }
    assert "time" in lines[1]


def test_text_lines_for_reading_by_eye(restored: None, capsys: pytest.CaptureFixture[str]) -> None:
    start("sink", Settings(log_format="text", log_level="WARNING"))
    logging.getLogger("hookhouse.sink").warning("ClickHouse unavailable")
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith("WARNING sink hookhouse.sink: ClickHouse unavailable")
