"""A destination that accepts everything, like Hookdeck's mock destination: the demo
connection delivers to it.  An ASGI app of its own, not part of the API; the API's
process serves it beside the API (``app.py``), so its bodies are bounded and its
errors shaped as the API's are.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class MockDestination:
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await Request(scope, receive).body()  # all of it, as a destination reads it
        await JSONResponse({"status": "ok", "received": True})(scope, receive, send)
