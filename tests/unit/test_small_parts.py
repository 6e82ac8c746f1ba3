"""Auth header parsing, settings masking and documentation, config state, migrations,
the sink's batching, kept metrics."""

from __future__ import annotations

import base64
import gc
import re
import socket
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from hookhouse.common import metrics
from hookhouse.common.clickhouse import migrations, statements
from hookhouse.common.domain.config import ConfigState, hash_api_key, record_key
from hookhouse.common.domain.keys import presented_key
from hookhouse.common.domain.times import iso_ms, parse_iso
from hookhouse.common.kafka import consumer_config
from hookhouse.common.runtime import YOUNG_COLLECTION_THRESHOLD, settle_heap
from hookhouse.common.settings import Settings, mask_url_password
from hookhouse.sink.batch import InvalidRecord, table_of
from hookhouse.sink.service import refuses_rows
from hookhouse.stack.ports import PortTaken, infrastructure_up


def test_bearer_and_basic_keys() -> None:
    assert presented_key("Bearer abc") == "abc"
    basic = base64.b64encode(b"abc:").decode()
    assert presented_key(f"Basic {basic}") == "abc"
    assert presented_key("Basic !!!") is None
    assert presented_key("Token abc") is None
    assert presented_key(None) is None


@given(st.text(min_size=1).filter(lambda s: ":" not in s and s.strip() == s and s != ""))
def test_basic_roundtrip(key: str) -> None:
    encoded = base64.b64encode(f"{key}:".encode()).decode()
    assert presented_key(f"Basic {encoded}") == key


def test_settings_mask_secrets() -> None:
    settings = Settings(
        clickhouse_url="http://u:secret@h:8123", kafka_sasl_password=SecretStr("pw")
    )
    shown = settings.describe()
    assert "secret" not in str(shown) and "pw" not in shown["kafka_sasl_password"]
    assert mask_url_password("http://u:p@h") == "http://u:***@h"
    assert mask_url_password("http://h:1") == "http://h:1"


def test_settings_environment_makes_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(topic_partitions=3, kafka_sasl_password=SecretStr("pw"))
    for name, value in settings.environment().items():
        monkeypatch.setenv(name, value)
    assert Settings() == settings  # secrets too: a child process gets them in clear


def test_local_defaults_follow_ports() -> None:
    settings = Settings(kafka_port=1234, clickhouse_http_port=4321)
    assert settings.kafka_bootstrap == "127.0.0.1:1234"
    assert settings.clickhouse_url == "http://default:@127.0.0.1:4321"


def test_consumers_fetch_settings_apply_unless_a_wait_is_given() -> None:
    settings = Settings(kafka_fetch_wait_ms=100, kafka_fetch_min_bytes=1)
    hop = consumer_config(settings, "g")
    assert (hop["fetch.wait.max.ms"], hop["fetch.min.bytes"]) == (100, 1)
    own = consumer_config(settings, "g", fetch_wait_ms=250)
    assert (own["fetch.wait.max.ms"], own["fetch.min.bytes"]) == (250, 64 * 1024)
    default = consumer_config(Settings(), "g")
    assert (default["fetch.wait.max.ms"], default["fetch.min.bytes"]) == (2000, 1)


def test_settled_heap_is_frozen_and_collected_seldom() -> None:
    before = gc.get_threshold()
    gc.unfreeze()  # a service run in this process before may have settled it already
    gc.set_threshold(700, 10, 10)  # Python's default
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, 10, 10)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_half_a_stack_is_an_error_not_a_stack_to_start_over() -> None:
    with socket.socket() as one, socket.socket() as other:
        for sock in (one, other):
            sock.bind(("127.0.0.1", 0))
        kafka, clickhouse = one.getsockname()[1], other.getsockname()[1]
        assert infrastructure_up("127.0.0.1", kafka, clickhouse) is False  # bound, not listening
        one.listen()
        with pytest.raises(PortTaken, match=r"Kafka is listening .* but ClickHouse is not"):
            infrastructure_up("127.0.0.1", kafka, clickhouse)
        other.listen()
        assert infrastructure_up("127.0.0.1", kafka, clickhouse) is True


def test_config_state_applies_and_deletes() -> None:
    state = ConfigState()
    conn = {
        "id": "web_1",
        "project_id": "p",
        "name": "c",
        "source_id": "src_1",
        "destination_id": "des_1",
    }
    state.apply(record_key("connection", "web_1"), orjson.dumps(conn))
    state.apply(
        record_key("api_key", "key_1"),
        orjson.dumps({"id": "key_1", "project_id": "p", "key_hash": hash_api_key("k")}),
    )
    assert state.connections_of("src_1") == [conn]
    assert state.api_key("k") is not None and state.api_key("other") is None
    assert state.find("connection", "p", "c", "src_1") == conn
    assert state.find("connection", "p", "c", "src_2") is None
    assert state.find("connection", "q", "c", "src_1") is None
    state.apply(record_key("connection", "web_1"), None)
    assert state.connections_of("src_1") == []
    state.apply(b"future_kind:x", b"{}")  # unknown kinds are skipped


def test_the_first_record_of_a_name_wins_on_every_reader() -> None:
    def source(resource_id: str, name: str) -> bytes:
        return orjson.dumps({"id": resource_id, "project_id": "p", "name": name})

    log = [
        (record_key("source", "src_a"), source("src_a", "shop")),
        (record_key("source", "src_b"), source("src_b", "shop")),  # same name, later
        (record_key("source", "src_c"), source("src_c", "other")),
        (record_key("source", "src_c"), source("src_c", "shop")),  # rename onto it
    ]
    for _ in range(2):  # two replicas reading the same log agree
        state = ConfigState()
        assert [state.apply(key, value) for key, value in log] == [True, False, True, False]
        assert state.find("source", "p", "shop")["id"] == "src_a"  # type: ignore[index]
        assert state.find("source", "p", "other")["id"] == "src_c"  # type: ignore[index]
        assert state.get("source", "src_b") is None
    state.apply(record_key("source", "src_a"), None)  # a deleted name is free again
    assert state.apply(record_key("source", "src_b"), source("src_b", "shop"))
    assert state.apply(record_key("source", "src_b"), source("src_b", "renamed"))
    assert state.find("source", "p", "shop") is None


def test_migrations_have_both_directions() -> None:
    found = migrations()
    assert [m.version for m in found] == sorted(m.version for m in found)
    for m in found:
        assert statements(m.up, "db") and statements(m.down, "db")
        assert all("{db}" not in s for s in statements(m.up, "db"))


def test_sink_rejects_unusable_records() -> None:
    assert table_of(b"event", b'{"id": "evt_1"}') == "events"
    # Rows as the services write them (id first) skip the parse; ClickHouse refuses the
    # broken ones and the sink isolates them by halving (tests/integration/test_sink.py).
    assert table_of(b"attempt", b'{"id":"atm_1","status":') == "attempts"
    for kind, value in [
        (None, b'{"id":"x"}'),
        (b"nope", b'{"id":"x"}'),
        (b"event", b"not json"),
        (b"event", b"[]"),
        (b"event", b'{"id": 3}'),
        (b"event", None),
    ]:
        with pytest.raises(InvalidRecord):
            table_of(kind, value)


@given(st.integers(min_value=0, max_value=4_000_000_000_000))
def test_iso_ms_roundtrip(ms: int) -> None:
    assert round(parse_iso(iso_ms(ms)).timestamp() * 1000) == ms


def test_the_sink_waits_out_systemic_clickhouse_errors_and_bisects_the_rest() -> None:
    no_database = Exception("Code: 81. DB::Exception: Database hookhouse does not exist")
    too_many_parts = Exception("code: 252, Too many parts")
    bad_row = Exception("Code: 27. DB::Exception: Cannot parse input: expected '\"'")
    assert not refuses_rows(no_database) and not refuses_rows(too_many_parts)
    assert refuses_rows(bad_row) and refuses_rows(Exception("no code at all"))


def test_a_kept_metric_counts_into_the_registry_through_one_child() -> None:
    counter = metrics.ROUTER_IGNORED
    child = counter.labels("KEPT_TEST")
    assert counter.labels("KEPT_TEST") is child
    before = metrics.REGISTRY.get_sample_value(
        "hookhouse_router_ignored_events_total", {"cause": "KEPT_TEST"}
    )
    counter.labels("KEPT_TEST").inc()
    after = metrics.REGISTRY.get_sample_value(
        "hookhouse_router_ignored_events_total", {"cause": "KEPT_TEST"}
    )
    assert (before, after) == (0.0, 1.0)


def test_every_setting_has_a_row_in_the_settings_page() -> None:
    """docs/settings.md, the users' list of settings: a row names ``HOOKHOUSE_<NAME>``, or
    ``_<END>`` after a name that starts alike (``HOOKHOUSE_KAFKA_SASL_MECHANISM``,
    ``_SASL_USERNAME``)."""
    rows = [
        line
        for line in (Path(__file__).parents[2] / "docs" / "settings.md").read_text().splitlines()
        if line.startswith("| `HOOKHOUSE_")
    ]

    def documented(name: str) -> bool:
        for row in rows:
            if f"`HOOKHOUSE_{name}`" in row:
                return True
            for end in re.findall(r"`_([A-Z0-9_]+)`", row):
                start = name[: len(name) - len(end)]
                if name.endswith(end) and row.startswith(f"| `HOOKHOUSE_{start}"):
                    return True
        return False

    assert [name for name in Settings.model_fields if not documented(name.upper())] == []
