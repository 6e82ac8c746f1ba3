"""``/metrics/…``: measures of requests, events, attempts and transformations over
time (``measures.py`` builds the SQL), and the queue depth per destination now."""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from hookhouse.api import measures, shapes
from hookhouse.api.context import Context
from hookhouse.api.endpoint import route
from hookhouse.api.resources import invalid_as_422


async def measured(ctx: Context, request: Request, project_id: str, *, kind: str) -> Response:
    """The measures of ``kind`` (a name of ``measures.MEASURES``) the query asks for."""
    now = datetime.now(UTC)
    sql, parameters, asked, split = invalid_as_422(
        lambda: measures.aggregation(kind, project_id, request.query_params, now)
    )
    rows = await asyncio.to_thread(ctx.store.run, sql, parameters)
    return JSONResponse(measures.shaped(rows, asked, split))


async def queue_depth(ctx: Context, _: Request, project_id: str) -> Response:
    """Events waiting for delivery now, per destination, and how long the oldest has."""
    rows = await asyncio.to_thread(ctx.store.run, measures.QUEUE_DEPTH, {"project": project_id})
    now = datetime.now(UTC)
    return JSONResponse(
        [
            {
                "destination_id": row["destination_id"],
                "depth": row["depth"],
                "oldest_at": shapes.iso(row["oldest"]),
                "max_age_seconds": max(
                    0, round((now - row["oldest"].replace(tzinfo=UTC)).total_seconds())
                ),
            }
            for row in rows
        ]
    )


def routes(ctx: Context) -> list[BaseRoute]:
    return [
        *(
            route(ctx, "GET", f"/metrics/{kind}", functools.partial(measured, kind=kind))
            for kind in measures.MEASURES
        ),
        route(ctx, "GET", "/metrics/queue-depth", queue_depth),
    ]
