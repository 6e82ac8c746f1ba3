"""``/attempts``: each delivery attempt, its request and the destination's response."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from hookhouse.api import shapes
from hookhouse.api.context import Context
from hookhouse.api.endpoint import route
from hookhouse.api.handlers import rows


async def list_attempts(ctx: Context, request: Request, project_id: str) -> Response:
    return await rows.listing(ctx, request, project_id, "attempts", shapes.attempt)


async def get_attempt(ctx: Context, request: Request, project_id: str) -> Response:
    return await rows.retrieve(ctx, request, project_id, "attempts", shapes.attempt)


def routes(ctx: Context) -> list[BaseRoute]:
    return [
        route(ctx, "GET", "/attempts", list_attempts),
        route(ctx, "GET", "/attempts/{id}", get_attempt),
    ]
