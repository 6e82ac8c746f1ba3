"""ClickHouse client factory and numbered migrations (``schemas/clickhouse/``).

Migrations are ``NNNN_name.up.sql`` / ``NNNN_name.down.sql`` files whose statements
are separated by ``;`` at the end of a line, with ``{db}`` standing for the database.
Applied versions are kept in ``<db>.schema_migrations``.  The files are package data
(``hookhouse.schemas``, see ``common/schemas.py``), so an installed wheel migrates too.
On a cluster (``HOOKHOUSE_CLICKHOUSE_CLUSTER``) each statement is rewritten by
``clickhouse_layout`` and the ledger is a Distributed table like the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from urllib.parse import unquote, urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from hookhouse.common.clickhouse_layout import Layout
from hookhouse.common.settings import Settings

MIGRATIONS: Traversable = resources.files("hookhouse.schemas") / "clickhouse"
_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$")


# On a cluster: an insert into a Distributed table returns only once every shard has
# its rows (else a shard that is down would hold them in the initiator's queue, on one
# disk, after the sink committed their offsets); the one IN subquery over two
# Distributed tables (events whose request matches a search) reads each shard's own
# requests, which holds because a request and its events share a shard.
CLUSTER_SETTINGS = {"distributed_foreground_insert": 1, "distributed_product_mode": "local"}


def layout(settings: Settings) -> Layout:
    return Layout(
        settings.clickhouse_cluster,
        settings.clickhouse_replicated,
        on_cluster=not settings.clickhouse_shards,
    )


def client(settings: Settings, database: str | None = None, url_text: str | None = None) -> Client:
    """A clickhouse-connect HTTP client for ``HOOKHOUSE_CLICKHOUSE_URL`` (or ``url_text``,
    one server of the cluster)."""
    url = urlsplit(url_text or settings.clickhouse_url)
    return clickhouse_connect.get_client(
        host=url.hostname or "127.0.0.1",
        port=url.port or (8443 if url.scheme == "https" else 8123),
        username=unquote(url.username or "default"),
        password=unquote(url.password or ""),
        secure=url.scheme == "https",
        database=database or "default",
        connect_timeout=5,
        send_receive_timeout=60,
        autogenerate_session_id=False,
        settings=CLUSTER_SETTINGS if settings.clickhouse_cluster else None,
    )


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    up: str
    down: str


def migrations(directory: Traversable = MIGRATIONS) -> list[Migration]:
    found: dict[int, dict[str, str]] = {}
    for path in directory.iterdir():
        match = _MIGRATION_FILE.match(path.name)
        if match is None:
            continue
        number, name, direction = match.groups()
        entry = found.setdefault(int(number), {"name": name})
        entry[direction] = path.read_text()
    out = []
    for version in sorted(found):
        entry = found[version]
        if "up" not in entry or "down" not in entry:
            raise ValueError(f"migration {version:04d} needs both an .up.sql and a .down.sql")
        out.append(Migration(version, entry["name"], entry["up"], entry["down"]))
    return out


def statements(sql: str, database: str) -> list[str]:
    text = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    parts = re.split(r";\s*$", text, flags=re.MULTILINE)
    return [part.strip().replace("{db}", database) for part in parts if part.strip()]


class Servers:
    """Where DDL runs: the one server (which spreads ``ON CLUSTER`` statements itself),
    or each server of ``HOOKHOUSE_CLICKHOUSE_SHARD_URLS`` in turn; data statements run
    once, on the first."""

    def __init__(self, settings: Settings) -> None:
        self.layout = layout(settings)
        urls = settings.clickhouse_shards or [settings.clickhouse_url]
        self.clients = [client(settings, url_text=url) for url in urls]
        self.first = self.clients[0]

    def run(self, sql: str) -> None:
        for statement in self.layout.statements(sql):
            for ch in self.clients if statement.every_server else [self.first]:
                ch.command(statement.sql)

    def close(self) -> None:
        for ch in self.clients:
            ch.close()


def _ensure_ledger(servers: Servers, database: str) -> set[int]:
    servers.run(f"CREATE DATABASE IF NOT EXISTS {database}")
    servers.run(
        f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations "
        "(version UInt32, name String, applied_at DateTime DEFAULT now(), active UInt8) "
        "ENGINE = ReplacingMergeTree(applied_at) ORDER BY version"
    )
    # The database name is a validated identifier (Settings), not user input.
    ledger = f"SELECT version FROM {database}.schema_migrations FINAL WHERE active = 1"  # noqa: S608
    rows = servers.first.query(ledger).result_rows
    return {int(row[0]) for row in rows}


def migrate(settings: Settings, target: int | None = None) -> list[str]:
    """Apply (or, for a lower ``target``, revert) migrations; return what was done."""
    database = settings.clickhouse_database
    servers = Servers(settings)
    try:
        applied = _ensure_ledger(servers, database)
        done = []
        all_migrations = migrations()
        top = target if target is not None else max((m.version for m in all_migrations), default=0)
        steps = [(m, True) for m in all_migrations if m.version <= top and m.version not in applied]
        steps += [
            (m, False) for m in reversed(all_migrations) if m.version > top and m.version in applied
        ]
        for m, forward in steps:
            for statement in statements(m.up if forward else m.down, database):
                servers.run(statement)
            servers.first.insert(
                f"{database}.schema_migrations",
                [[m.version, m.name, int(forward)]],
                column_names=["version", "name", "active"],
            )
            done.append(f"{'applied' if forward else 'reverted'} {m.version:04d}_{m.name}")
        if target is None:
            done += retention(servers, database, settings.clickhouse_retention_days)
        return done
    finally:
        servers.close()


RETAINED = {
    "requests": "created_at",
    "events": "created_at",
    "attempts": "created_at",
    "attempts_hourly": "hour",
    "ignored_events": "created_at",
    "transformation_executions": "created_at",
    "event_payloads": "created_at",
}


def retention(servers: Servers, database: str, days: int) -> list[str]:
    """Set each table's TTL to ``days`` after its rows' time (0: keep forever); only
    tables whose TTL differs are altered, since an ALTER rewrites their parts."""
    done = []
    for table, column in RETAINED.items():
        found = servers.first.query(
            "SELECT engine_full FROM system.tables WHERE database = {db:String} "
            "AND name = {table:String}",
            parameters={"db": database, "table": servers.layout.local(table)},
        ).result_rows
        if not found:
            continue
        current = re.search(rf"TTL toDateTime\({column}\) \+ toIntervalDay\((\d+)\)", found[0][0])
        now = int(current.group(1)) if current else 0
        if now == days:
            continue
        if days:
            servers.run(
                f"ALTER TABLE {database}.{table} "
                f"MODIFY TTL toDateTime({column}) + INTERVAL {int(days)} DAY"
            )
        else:
            servers.run(f"ALTER TABLE {database}.{table} REMOVE TTL")
        done.append(f"retention of {table}: {f'{days} days' if days else 'forever'}")
    return done
