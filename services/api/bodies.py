"""A bound on the size of the API's request bodies.

Starlette reads a whole body into memory when a handler asks for it, and a body the
config log cannot hold failed late, as a 500 (a 17 MB filter).  A body whose
``Content-Length`` is over the bound is refused before any of it is read; a body sent
in chunks is counted as it arrives and refused once it passes the bound, so no more
than the bound (and one chunk) is ever held.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookhouse.api.fields import error_response

log = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    """Raised from ``receive`` once a body passes the bound; answered as a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The body is larger than {limit} bytes.")
        self.limit = limit


def too_large(limit: int) -> Response:
    return error_response(
        413,
        "PAYLOAD_TOO_LARGE",
        f"The body is larger than the API accepts ({limit} bytes: HOOKHOUSE_API_MAX_BODY_BYTES).",
    )


async def body_too_large(request: Request, exc: Exception) -> Response:
    """The exception handler of :class:`BodyTooLarge`, for every route."""
    limit = exc.limit if isinstance(exc, BodyTooLarge) else 0
    log.info("refused %s %s: body over %d bytes", request.method, request.url.path, limit)
    return too_large(limit)


class BoundedBodies:
    """ASGI middleware: bodies of at most ``limit`` bytes reach the app."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            log.info("refused %s %s: Content-Length %s", scope["method"], scope["path"], declared)
            await too_large(self.limit)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, counted, send)
