"""What the management API accepts: a body read as a JSON object and checked against
its model (``models/``).  Every refusal is an :class:`ApiError` naming the field.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hookhouse.api.models.refusals import refusal
from hookhouse.common.domain.filters import depth

M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> Response:
    return JSONResponse(
        {"handled": True, "status": status, "code": code, "message": message}, status_code=status
    )


# Objects and lists a body may nest.  No resource needs more (a filter, the deepest,
# nests at most 32), and what is stored must stay writable: orjson writes at most 254.
MAX_BODY_DEPTH = 64


async def json_body(request: Request, required: bool = True) -> dict[str, Any]:
    """The body's JSON object; an empty body is ``{}`` when the body is optional."""
    raw = await request.body()
    if not raw.strip() and not required:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "INVALID_JSON", f"The body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "INVALID_JSON", "The body must be a JSON object.")
    if depth(data, MAX_BODY_DEPTH) > MAX_BODY_DEPTH:
        raise ApiError(
            422,
            "UNPROCESSABLE_ENTITY",
            f"The body nests objects and lists deeper than {MAX_BODY_DEPTH} levels.",
        )
    return data


def checked(model: type[M], data: Any, context: dict[str, Any] | None = None) -> M:
    """``data`` as ``model``, or a 422 naming the first field refused."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise ApiError(422, "UNPROCESSABLE_ENTITY", refusal(exc)) from exc
