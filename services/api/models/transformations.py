"""A transformation's body, and a test run's: code, its environment, a sample request."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, model_validator

from hookhouse.api.models.base import Input, Text, must, refused
from hookhouse.common.domain.message import Message, body_bytes


def source_code(code: str) -> str:
    if not code.strip():
        raise must("be the JavaScript source")
    return code


Code = Annotated[str, AfterValidator(source_code)]


class TransformationInput(Input):
    name: Text
    code: Code
    env: dict[str, str] | None = None

    def fields(self) -> dict[str, Any]:
        return {"name": self.name, "code": self.code, "env": self.env or {}}


class SampleRequest(Input):
    """A request as Hookdeck's run endpoint takes it."""

    headers: dict[str, Any] | None = None
    body: Any = None
    path: str | None = None
    query: str | None = None

    def message(self) -> Message:
        return Message(
            {k: str(v) for k, v in (self.headers or {}).items()},
            body_bytes(self.body),
            self.path or "/",
            self.query or "",
        )


class TransformationRun(Input):
    """Code, or a saved transformation (``env`` then adds to its own), run on ``request``."""

    code: Code | None = None
    transformation_id: str | None = None
    env: dict[str, str] | None = None
    request: SampleRequest | None = None

    @model_validator(mode="after")
    def code_or_saved(self) -> TransformationRun:
        if not self.transformation_id and self.code is None:
            raise refused("'code' must be the JavaScript source, or give 'transformation_id'.")
        return self

    def sample(self) -> Message:
        return (self.request or SampleRequest()).message()
