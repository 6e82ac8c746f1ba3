"""How the migrations' statements read on one server or on a sharded cluster; pure.

The migration files are written for one server.  On a cluster each table ``T`` becomes a
local table ``T_local`` on every shard (the file's engine, or its ``Replicated*`` twin
keyed by the ``{shard}`` and ``{replica}`` macros) and a ``Distributed`` table ``T`` over
them, so every reader and the sink keep their table names.  Materialized views sit on
the local tables: a view fires only for the insert into the table it watches, and the
``Distributed`` table forwards each row to one shard's local table.

Every table is sharded by its request's id, so a request, its events, their attempts
and the rest land on one shard: the versions of one id must meet in one
ReplacingMergeTree for ``FINAL`` to collapse them, and the view that writes an event's
state from its attempt writes into the same shard as the event's own rows.  A
project's rows still spread over every shard, so one large tenant does not fill one
server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Table -> the expression that picks its shard.  A table missing here cannot be sharded:
# a migration that adds one adds it here (a unit test checks every migration).
SHARDING_KEYS = {
    "requests": "cityHash64(id)",
    "events": "cityHash64(request_id)",
    "attempts": "cityHash64(request_id)",
    "ignored_events": "cityHash64(request_id)",
    "transformation_executions": "cityHash64(request_id)",
    "event_payloads": "cityHash64(request_id)",
    # Partial aggregates, merged when read: any shard will do.  Only the rollup's
    # one-off backfill (migration 0007) inserts through it; the view writes locally.
    "attempts_hourly": "cityHash64(project_id)",
    "schema_migrations": "version",
}

_NAME = r"(?P<db>[A-Za-z_][A-Za-z0-9_]*)\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
_CREATE_TABLE = re.compile(rf"^CREATE TABLE IF NOT EXISTS {_NAME}\s*(?=\()", re.IGNORECASE)
_CREATE_VIEW = re.compile(rf"^CREATE MATERIALIZED VIEW IF NOT EXISTS {_NAME}\s", re.IGNORECASE)
_CREATE_DATABASE = re.compile(r"^CREATE DATABASE IF NOT EXISTS [A-Za-z_][A-Za-z0-9_]*$")
_ALTER = re.compile(rf"^ALTER TABLE {_NAME}\s", re.IGNORECASE)
_DROP_TABLE = re.compile(rf"^DROP TABLE IF EXISTS {_NAME}$", re.IGNORECASE)
_DROP_VIEW = re.compile(rf"^DROP VIEW IF EXISTS {_NAME}$", re.IGNORECASE)
_COLUMNS = re.compile(r"\b(ADD|DROP|MODIFY|RENAME|COMMENT) COLUMN\b", re.IGNORECASE)
_ENGINE = re.compile(r"ENGINE = (?P<kind>\w*)MergeTree(?:\((?P<args>[^)]*)\))?")


class UnshardableStatement(ValueError):
    """A migration statement the cluster layout does not know how to spread."""


@dataclass(frozen=True)
class Statement:
    sql: str
    # False for data statements (INSERT … SELECT), which run once through the
    # Distributed tables; True for DDL, which every server needs.
    every_server: bool = True


@dataclass(frozen=True)
class Layout:
    """``cluster`` empty: one server, statements as written.  ``on_cluster`` False: the
    caller runs each DDL statement on every server itself (no ``ON CLUSTER``, which needs
    ClickHouse Keeper)."""

    cluster: str = ""
    replicated: bool = False
    on_cluster: bool = True

    @property
    def sharded(self) -> bool:
        return bool(self.cluster)

    def local(self, table: str) -> str:
        """The name of the table that holds ``table``'s rows on each server."""
        return f"{table}_local" if self.sharded else table

    def statements(self, sql: str) -> list[Statement]:
        """``sql`` (one statement, database already filled in) for this layout."""
        sql = sql.strip()
        if not self.sharded:
            return [Statement(sql)]
        if sql.upper().startswith("INSERT INTO"):
            return [Statement(sql, every_server=False)]
        if _CREATE_DATABASE.match(sql):
            return [Statement(sql + self._on)]
        if match := _CREATE_TABLE.match(sql):
            return self._create_table(sql, match)
        if match := _CREATE_VIEW.match(sql):
            head = f"{match.group(0).rstrip()}{self._on} "
            return [Statement(head + self._to_local(sql[match.end() :], match.group("db")))]
        if match := _ALTER.match(sql):
            return self._alter(sql, match)
        if match := _DROP_TABLE.match(sql):
            db, table = match.group("db"), self._known(match.group("name"))
            return [
                Statement(f"DROP TABLE IF EXISTS {db}.{table}{self._on} SYNC"),
                Statement(f"DROP TABLE IF EXISTS {db}.{self.local(table)}{self._on} SYNC"),
            ]
        if _DROP_VIEW.match(sql):
            return [Statement(sql + self._on)]
        raise UnshardableStatement(f"no cluster form for: {sql[:120]}")

    @property
    def _on(self) -> str:
        return f" ON CLUSTER {self.cluster}" if self.on_cluster else ""

    def _known(self, table: str) -> str:
        if table not in SHARDING_KEYS:
            raise UnshardableStatement(f"table {table} has no sharding key (SHARDING_KEYS)")
        return table

    def _create_table(self, sql: str, match: re.Match[str]) -> list[Statement]:
        db, table = match.group("db"), self._known(match.group("name"))
        local = self.local(table)
        body = sql[match.end() :]
        if self.replicated:
            body = _ENGINE.sub(lambda e: self._replicated(e, db, local), body, count=1)
        distributed = (
            f"CREATE TABLE IF NOT EXISTS {db}.{table}{self._on} AS {db}.{local} "
            f"ENGINE = Distributed({self.cluster}, {db}, {local}, {SHARDING_KEYS[table]})"
        )
        return [
            Statement(f"CREATE TABLE IF NOT EXISTS {db}.{local}{self._on} {body}"),
            Statement(distributed),
        ]

    @staticmethod
    def _replicated(engine: re.Match[str], db: str, local: str) -> str:
        args = [f"'/clickhouse/tables/{{shard}}/{db}/{local}'", "'{replica}'"]
        if engine.group("args"):
            args.append(engine.group("args"))
        return f"ENGINE = Replicated{engine.group('kind')}MergeTree({', '.join(args)})"

    def _alter(self, sql: str, match: re.Match[str]) -> list[Statement]:
        """Columns change on both tables (the Distributed one describes the rows too);
        indexes, TTLs and the rest belong to the local tables only."""
        db, table = match.group("db"), self._known(match.group("name"))
        rest = sql[match.end() :]
        local = Statement(f"ALTER TABLE {db}.{self.local(table)}{self._on} {rest}")
        if not _COLUMNS.search(rest):
            return [local]
        distributed = Statement(f"ALTER TABLE {db}.{table}{self._on} {rest}")
        # Added columns exist below before the Distributed table names them; dropped
        # ones leave it first.
        dropping = re.search(r"\bDROP COLUMN\b", rest, re.IGNORECASE) is not None
        return [distributed, local] if dropping else [local, distributed]

    def _to_local(self, text: str, db: str) -> str:
        """Every table a view's text names, as its local table."""

        def swap(found: re.Match[str]) -> str:
            table = found.group("name")
            if found.group("db") != db or table not in SHARDING_KEYS:
                return found.group(0)
            return f"{db}.{self.local(table)}"

        return re.sub(rf"\b{_NAME}\b", swap, text)
