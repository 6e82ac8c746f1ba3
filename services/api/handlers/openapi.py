"""``/openapi.json``: the API's OpenAPI document (``openapi.py``), built once from the
context's resource kinds and served to anyone, without a key."""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hookhouse.api import openapi
from hookhouse.api.context import Context


async def served(document: dict[str, Any], _: Request) -> Response:
    return JSONResponse(document)


def routes(ctx: Context, version: str) -> list[BaseRoute]:
    document = openapi.document(list(ctx.kinds.values()), version)
    return [Route("/openapi.json", partial(served, document), methods=["GET"])]
