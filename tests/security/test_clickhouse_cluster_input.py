"""What the cluster settings and ``--clickhouse-shards`` take: a cluster name ends up in
every DDL statement and in the servers' XML config, so only a plain identifier passes;
shard URLs carry passwords, which the start-up log masks; a migration statement the
layout cannot spread is refused by name, never run half-rewritten."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hookhouse.common.clickhouse_layout import Layout, UnshardableStatement
from hookhouse.common.settings import Settings
from hookhouse.stack.clickhouse_server import Cluster, arguments


@pytest.mark.parametrize(
    "name",
    [
        "two; DROP DATABASE hookhouse",
        "c</hookhouse><x>",
        "a b",
        "1cluster",
        "c" * 10_000 + "-",
        "{shard}",
        "ünicode",
    ],
)
def test_a_cluster_name_is_a_plain_identifier(name: str) -> None:
    with pytest.raises(ValidationError):
        Settings(clickhouse_cluster=name)


def test_a_long_identifier_is_still_only_an_identifier() -> None:
    name = "c" * 10_000
    statements = Layout(name).statements("DROP VIEW IF EXISTS hh.v")
    assert statements[0].sql == f"DROP VIEW IF EXISTS hh.v ON CLUSTER {name}"


@pytest.mark.parametrize(
    "values",
    [
        {"clickhouse_replicated": True},
        {"clickhouse_shard_urls": "http://a:8123,http://b:8123"},
    ],
)
def test_cluster_settings_without_a_cluster_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="clickhouse_cluster"):
        Settings(**values)  # type: ignore[arg-type]


def test_shard_urls_are_logged_without_their_passwords() -> None:
    settings = Settings(
        clickhouse_cluster="c",
        clickhouse_shard_urls=" http://u:s3cret@a:8123 ,, http://b:8123,",
    )
    assert settings.clickhouse_shards == ["http://u:s3cret@a:8123", "http://b:8123"]
    shown = settings.describe()["clickhouse_shard_urls"]
    assert "s3cret" not in shown and shown == "http://u:***@a:8123,http://b:8123"


# `hookhouse up --clickhouse-shards` out of range: test_kafka_cluster_settings.py, with --brokers.


@pytest.mark.parametrize(
    "sql",
    [
        # Tables outside the known ones, and statements with no cluster form.
        "CREATE TABLE IF NOT EXISTS hh.secrets (id String) ENGINE = MergeTree ORDER BY id",
        "DROP TABLE IF EXISTS hh.other_projects_table",
        "DROP DATABASE hh",
        "CREATE TABLE hh.events (id String) ENGINE = MergeTree ORDER BY id",
        "SYSTEM DROP DNS CACHE",
        "",
    ],
)
def test_statements_it_cannot_spread_are_refused(sql: str) -> None:
    with pytest.raises(UnshardableStatement):
        Layout("c").statements(sql)


def test_the_server_s_cluster_options_make_well_formed_config() -> None:
    positional, cluster = arguments(
        ["--cluster", "c", "--shard", "2", "--shards", "127.0.0.1:1,127.0.0.1:2", "d", "1"]
    )
    assert positional == ["d", "1"]
    assert cluster == Cluster("c", 2, ("127.0.0.1:1", "127.0.0.1:2"))
    assert cluster.xml().count("<shard><replica>") == 2
    assert "<macros><shard>2</shard><replica>2</replica></macros>" in cluster.xml()
    assert arguments(["d", "1", "2", "h"]) == (["d", "1", "2", "h"], None)
