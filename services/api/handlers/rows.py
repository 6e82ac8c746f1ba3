"""What the families over ClickHouse tables (requests, events, attempts, ignored
events, transformation runs) answer alike: a list page, one row by id, a body as text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hookhouse.api import pages, queries
from hookhouse.api.context import Context
from hookhouse.api.resources import invalid_as_422
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.records import unb64

Shape = Callable[[dict[str, Any]], dict[str, Any]]


async def listing(
    ctx: Context,
    request: Request,
    project_id: str,
    table: str,
    shape: Shape,
    path: Mapping[str, str] | None = None,
) -> Response:
    """A page of ``table`` with its filters (``queries.TABLES``) and seek cursors;
    ``path`` maps path parameters to the filters they fix."""
    described = queries.TABLES[table]
    params = request.query_params
    query = invalid_as_422(lambda: queries.seekable(pages.list_query(params, ("created_at",))))
    fixed = {name: request.path_params[p] for p, name in (path or {}).items()}
    where = invalid_as_422(lambda: queries.conditions(described, project_id, params, fixed))
    tries: list[str | None] = [None]
    pointed = fixed or any(params.getlist(name) for name in queries.POINTED)
    if query.descending and query.prev is None and not pointed:
        first = await asyncio.to_thread(ctx.store.run, *queries.oldest(described, project_id))
        since_ms = int(first[0]["oldest"].timestamp() * 1000) if first else 0
        tries = invalid_as_422(lambda: queries.windows(query, now_ms(), since_ms))
    for since in tries:
        sql = queries.select(described, where, query, since)
        rows = await asyncio.to_thread(ctx.store.run, *sql)
        if len(rows) > query.limit:  # a whole page and more: the window held it
            break
    return JSONResponse(pages.seek_page(rows, query, queries.row_key, shape))


async def retrieve(
    ctx: Context, request: Request, project_id: str, table: str, shape: Shape
) -> Response:
    row = await ctx.store.found(table, project_id, request.path_params["id"])
    return JSONResponse(shape(row))


def body_text(row: dict[str, Any]) -> Response:
    """A stored body (base64) as Hookdeck's RawBody: ``{"body": text}``."""
    return JSONResponse({"body": unb64(row["body"]).decode("utf-8", "replace")})
