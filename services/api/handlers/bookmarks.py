"""What a bookmark does beyond its configuration (``handlers/resources.py``): show
the bookmarked request's body, and replay it through its connection."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from hookhouse.api import shapes
from hookhouse.api.context import Context
from hookhouse.api.endpoint import route
from hookhouse.api.fields import ApiError, checked, json_body
from hookhouse.api.handlers import rows
from hookhouse.api.models.bookmarks import BookmarkTrigger
from hookhouse.common.clock import now_ms
from hookhouse.common.domain.times import iso_ms


async def bookmarked(
    ctx: Context, request: Request, project_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The bookmark and its request's stored row."""
    mark = ctx.resources.owned("bookmark", project_id, request.path_params["id"])
    return mark, await ctx.store.found("requests", project_id, mark["event_data_id"])


async def raw_body(ctx: Context, request: Request, project_id: str) -> Response:
    _, stored = await bookmarked(ctx, request, project_id)
    return rows.body_text(stored)


async def trigger(ctx: Context, request: Request, project_id: str) -> Response:
    """Replay the bookmarked request through its connection (trigger MANUAL)."""
    checked(BookmarkTrigger, await json_body(request, required=False))
    mark, stored = await bookmarked(ctx, request, project_id)
    if ctx.state.get("connection", mark["webhook_id"]) is None:
        raise ApiError(422, "CONNECTION_DELETED", "This bookmark's connection was deleted.")
    routed = await ctx.replays.replay(stored, [mark["webhook_id"]], "MANUAL")
    await ctx.resources.update("bookmark", mark, {"last_used_at": iso_ms(now_ms())})
    return JSONResponse([shapes.produced_event(e) for e in routed.events])


def routes(ctx: Context) -> list[BaseRoute]:
    return [
        route(ctx, "GET", "/bookmarks/{id}/raw_body", raw_body),
        route(ctx, "POST", "/bookmarks/{id}/trigger", trigger),
    ]
