"""A source's body: what ingest accepts on it and answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator

from hookhouse.api.models.base import Input, Text, must, refused, strict_object
from hookhouse.common.domain.admission import HTTP_METHODS
from hookhouse.common.domain.verification import REQUIRED, InvalidVerification
from hookhouse.common.domain.verification import check as check_verification

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
assert HttpMethod.__args__ == HTTP_METHODS  # type: ignore[attr-defined]


def upper(value: Any) -> Any:
    """Methods are taken in any case and kept in capitals."""
    return value.upper() if isinstance(value, str) else value


Method = Annotated[HttpMethod, BeforeValidator(upper)]
MAX_CUSTOM_RESPONSE_BYTES = 1000


class CustomResponse(Input):
    """What ingest answers instead of its JSON."""

    content_type: Literal["json", "text", "xml"]
    body: str = Field(max_length=MAX_CUSTOM_RESPONSE_BYTES)

    @field_validator("body")
    @classmethod
    def fits(cls, body: str) -> str:
        if len(body.encode()) > MAX_CUSTOM_RESPONSE_BYTES:
            raise must(f"be at most {MAX_CUSTOM_RESPONSE_BYTES} bytes")
        return body


# Checked by the domain (each provider's configs); the document shows its shape.
VERIFICATION_SCHEMA = {
    "type": ["object", "null"],
    "required": ["type", "configs"],
    "properties": {"type": {"enum": list(REQUIRED)}, "configs": {"type": "object"}},
}


def verified_config(value: Any) -> dict[str, Any] | None:
    try:
        return check_verification(strict_object(value))
    except InvalidVerification as exc:
        raise refused(str(exc)) from exc


class SourceInput(Input):
    name: Text
    description: str | None = None
    # None allows every method (Hookdeck's default: POST, PUT, PATCH, DELETE, GET).
    allowed_http_methods: Annotated[list[Method], Field(min_length=1)] | None = None
    custom_response: CustomResponse | None = None
    verification: Annotated[
        dict[str, Any] | None, BeforeValidator(verified_config), WithJsonSchema(VERIFICATION_SCHEMA)
    ] = None

    def fields(self) -> dict[str, Any]:
        """As stored in the config log."""
        methods = self.allowed_http_methods
        return {
            "name": self.name,
            "description": self.description,
            "allowed_http_methods": (
                sorted(set(methods), key=HTTP_METHODS.index) if methods is not None else None
            ),
            "custom_response": self.custom_response.model_dump() if self.custom_response else None,
            "verification": self.verification,
        }
