"""The cluster form of the migrations, as text: every statement of every migration has
one, the replicated engines (which need Keeper, so run nowhere here) included."""

from __future__ import annotations

import re

import pytest

from hookhouse.common.clickhouse import migrations, statements
from hookhouse.common.clickhouse_layout import SHARDING_KEYS, Layout

EVERY_STATEMENT = [
    sql for m in migrations() for text in (m.up, m.down) for sql in statements(text, "hh")
]


def test_one_server_keeps_the_statements_as_written() -> None:
    for sql in EVERY_STATEMENT:
        assert [s.sql for s in Layout().statements(sql)] == [sql]


@pytest.mark.parametrize(
    "layout", [Layout("c"), Layout("c", replicated=True), Layout("c", on_cluster=False)]
)
def test_every_migration_has_a_cluster_form(layout: Layout) -> None:
    for sql in EVERY_STATEMENT:
        for statement in layout.statements(sql):
            assert ("ON CLUSTER c" in statement.sql) == (
                layout.on_cluster and statement.every_server
            ), statement.sql


def test_tables_become_local_tables_under_distributed_ones_keyed_by_request() -> None:
    create = next(
        s for s in EVERY_STATEMENT if s.startswith("CREATE TABLE IF NOT EXISTS hh.events")
    )
    local, distributed = Layout("c").statements(create)
    assert local.sql.startswith("CREATE TABLE IF NOT EXISTS hh.events_local ON CLUSTER c (")
    assert "ENGINE = ReplacingMergeTree(version)" in local.sql
    assert distributed.sql == (
        "CREATE TABLE IF NOT EXISTS hh.events ON CLUSTER c AS hh.events_local "
        "ENGINE = Distributed(c, hh, events_local, cityHash64(request_id))"
    )
    # A request and everything made from it share a shard: FINAL and the views need it.
    assert SHARDING_KEYS["requests"] == "cityHash64(id)"
    assert {SHARDING_KEYS[t] for t in ("events", "attempts", "event_payloads")} == {
        "cityHash64(request_id)"
    }


def test_replicated_engines_keep_their_version_and_name_shard_and_replica() -> None:
    made = [s.sql for sql in EVERY_STATEMENT for s in Layout("c", replicated=True).statements(sql)]
    engines = {m.group(0) for s in made if (m := re.search(r"ENGINE = \w+\([^)]*\)", s))}
    assert (
        "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/hh/events_local', "
        "'{replica}', version)" in engines
    )
    assert (
        "ENGINE = ReplicatedAggregatingMergeTree("
        "'/clickhouse/tables/{shard}/hh/attempts_hourly_local', '{replica}')" in engines
    )
    assert not [s for s in made if re.search(r"ENGINE = (Replacing|Aggregating)?MergeTree", s)]


def test_views_watch_and_fill_local_tables() -> None:
    view = next(s for s in EVERY_STATEMENT if "VIEW IF NOT EXISTS hh.events_of_attempts" in s)
    (made,) = Layout("c").statements(view)
    assert "TO hh.events_local AS" in made.sql and "FROM hh.attempts_local AS a" in made.sql
    assert "a.created_at" in made.sql  # a column, not a table


def test_columns_change_on_both_tables_indexes_only_below() -> None:
    layout = Layout("c", on_cluster=False)
    added = layout.statements("ALTER TABLE hh.events ADD COLUMN IF NOT EXISTS x UInt8")
    assert [s.sql.split(" ADD")[0] for s in added] == [
        "ALTER TABLE hh.events_local",
        "ALTER TABLE hh.events",
    ]
    dropped = layout.statements("ALTER TABLE hh.events DROP COLUMN IF EXISTS x")
    assert [s.sql.split(" DROP")[0] for s in dropped] == [
        "ALTER TABLE hh.events",
        "ALTER TABLE hh.events_local",
    ]
    ttl = layout.statements("ALTER TABLE hh.events MODIFY TTL toDateTime(created_at)")
    assert [s.sql for s in ttl] == ["ALTER TABLE hh.events_local MODIFY TTL toDateTime(created_at)"]


def test_data_statements_run_once_through_the_distributed_tables() -> None:
    (insert,) = Layout("c").statements("INSERT INTO hh.attempts_hourly SELECT 1")
    assert insert.sql == "INSERT INTO hh.attempts_hourly SELECT 1" and not insert.every_server
