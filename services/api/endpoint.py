"""How a handler becomes a route: the API key names the caller's project, and an
:class:`ApiError` the handler raises is answered in the API's error shape.

A handler is a named function ``(context, request, project id) -> response``; one
that serves several paths (a resource kind's, a bulk retry type's) takes what it
serves as keyword arguments, bound where its routes are listed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hookhouse.api.context import Context
from hookhouse.api.fields import ApiError, error_response
from hookhouse.common.domain.keys import presented_key

log = logging.getLogger(__name__)

Handler = Callable[[Context, Request, str], Awaitable[Response]]


async def authenticated(ctx: Context, handler: Handler, request: Request) -> Response:
    key = presented_key(request.headers.get("authorization"))
    record = ctx.state.api_key(key) if key else None
    if record is None:
        return error_response(
            401,
            "UNAUTHORIZED",
            "A valid API key is required (Authorization: Bearer <key>).",
        )
    try:
        return await handler(ctx, request, record["project_id"])
    except ApiError as exc:
        log.info(
            "refused %s %s: %d %s %s",
            request.method,
            request.url.path,
            exc.status,
            exc.code,
            exc.message,
        )
        return error_response(exc.status, exc.code, exc.message)


def route(ctx: Context, method: str, path: str, handler: Handler) -> Route:
    """``method path`` answered by ``handler`` for the project of the caller's key."""
    return Route(path, functools.partial(authenticated, ctx, handler), methods=[method])
