"""The API's reads of ClickHouse: one client, made when first needed; rows looked up
by id with the caller's project in every ``WHERE``; a query ClickHouse cannot answer
is a 503 the client may retry, not a 500.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from hookhouse.api.fields import ApiError
from hookhouse.common import clickhouse
from hookhouse.common.settings import Settings

log = logging.getLogger(__name__)

Row = dict[str, Any]
# An event's stored data: its request as received and its transformed payload (either
# may not be stored yet).
Stored = tuple[Row | None, Row | None]


class Store:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Client | None = None

    def client(self) -> Client:
        if self._client is None:
            self._client = clickhouse.client(self.settings, self.settings.clickhouse_database)
        return self._client

    def ok(self) -> bool:
        """Does ClickHouse answer? (readiness)"""
        return bool(self.client().command("SELECT 1") == 1)

    def run(self, sql: str, parameters: dict[str, Any]) -> list[Row]:
        """The rows of ``sql``; blocking, so callers run it off the loop."""
        try:
            result = self.client().query(sql, parameters=parameters)
        except ClickHouseError as exc:
            if "TIMEOUT_EXCEEDED" in str(exc):  # the query's own max_execution_time
                raise ApiError(
                    504,
                    "QUERY_TIMEOUT",
                    "ClickHouse stopped the query at its time limit; ask for a shorter range.",
                ) from exc
            log.warning("query failed: %s", exc)
            raise ApiError(
                503,
                "CLICKHOUSE_UNAVAILABLE",
                "The query could not be answered by ClickHouse right now; retry shortly.",
            ) from exc
        return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]

    async def rows_by_id(self, table: str, project_id: str, ids: list[str]) -> dict[str, Row]:
        sql = (
            f"SELECT * FROM {table} FINAL "  # noqa: S608 - table names are the code's own
            "WHERE project_id = {project:String} AND id IN {ids:Array(String)}"
        )
        parameters = {"project": project_id, "ids": sorted(set(ids))}
        rows = await asyncio.to_thread(self.run, sql, parameters)
        return {row["id"]: row for row in rows}

    async def one_row(self, table: str, project_id: str, row_id: str) -> Row | None:
        return (await self.rows_by_id(table, project_id, [row_id])).get(row_id)

    async def has(self, table: str, project_id: str, row_id: str) -> bool:
        return await self.one_row(table, project_id, row_id) is not None

    async def found(self, table: str, project_id: str, row_id: str) -> Row:
        """The row, or 404 naming what was not found."""
        row = await self.one_row(table, project_id, row_id)
        if row is None:
            raise ApiError(404, "NOT_FOUND", f"No {table[:-1]} with id {row_id}.")
        return row

    async def stored_for(self, project_id: str, events: list[Row]) -> dict[str, Stored]:
        """Per event, its :data:`Stored` data, read with one query per table for the
        whole list."""
        origins, payloads = await asyncio.gather(
            self.rows_by_id("requests", project_id, [e["request_id"] for e in events]),
            self.rows_by_id("event_payloads", project_id, [e["id"] for e in events]),
        )
        return {e["id"]: (origins.get(e["request_id"]), payloads.get(e["id"])) for e in events}

    async def delivered_payload(self, project_id: str, event: Row) -> Row:
        return payload_of((await self.stored_for(project_id, [event]))[event["id"]])


def payload_of(stored: Stored) -> Row:
    """What the event delivers: its transformed payload, else its request."""
    origin, transformed = stored
    payload = transformed or origin
    if payload is None:
        raise ApiError(
            409, "EVENT_DATA_UNAVAILABLE", "This event's data is not stored yet; try again."
        )
    return payload
