"""``/requests``: the requests sources received, what each made (events, ignored
events), its body, and a retry that routes it again."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from hookhouse.api import shapes
from hookhouse.api.context import Context
from hookhouse.api.endpoint import route
from hookhouse.api.fields import checked, json_body
from hookhouse.api.handlers import rows
from hookhouse.api.models.actions import RequestRetry

BY_REQUEST = {"request_id": "request_id"}  # the path parameter fixes the filter


async def list_requests(ctx: Context, request: Request, project_id: str) -> Response:
    return await rows.listing(ctx, request, project_id, "requests", shapes.request)


async def get_request(ctx: Context, request: Request, project_id: str) -> Response:
    return await rows.retrieve(ctx, request, project_id, "requests", shapes.request_with_data)


async def raw_body(ctx: Context, request: Request, project_id: str) -> Response:
    """The body as received."""
    return rows.body_text(await ctx.store.found("requests", project_id, request.path_params["id"]))


async def events_of(ctx: Context, request: Request, project_id: str) -> Response:
    return await rows.listing(ctx, request, project_id, "events", shapes.event, BY_REQUEST)


async def ignored_events_of(ctx: Context, request: Request, project_id: str) -> Response:
    return await rows.listing(
        ctx, request, project_id, "ignored_events", shapes.ignored_event, BY_REQUEST
    )


async def retry(ctx: Context, request: Request, project_id: str) -> Response:
    """Route the request again (trigger MANUAL) through its source's connections,
    or those of ``webhook_ids``: new events, or new ignored events with their cause."""
    stored = await ctx.store.found("requests", project_id, request.path_params["id"])
    wanted = checked(RequestRetry, await json_body(request, required=False)).webhook_ids
    routed = await ctx.replays.replay(stored, wanted or None, "MANUAL")
    counts = {
        "events_count": routed.request.events_count,
        "ignored_count": routed.request.ignored_count,
        "rejection_cause": "",
    }
    return JSONResponse(
        {
            "request": shapes.request({**stored, **counts}),
            "events": [shapes.produced_event(e) for e in routed.events],
        }
    )


def routes(ctx: Context) -> list[BaseRoute]:
    return [
        route(ctx, "GET", "/requests", list_requests),
        route(ctx, "GET", "/requests/{id}", get_request),
        route(ctx, "GET", "/requests/{id}/raw_body", raw_body),
        route(ctx, "POST", "/requests/{id}/retry", retry),
        route(ctx, "GET", "/requests/{request_id}/events", events_of),
        route(ctx, "GET", "/requests/{request_id}/ignored_events", ignored_events_of),
    ]
