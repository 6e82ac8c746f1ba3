"""A destination's body: where deliveries go, how fast, and with what credentials."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator, model_validator

from hookhouse.api.models.base import Input, Text, must, refused, strict_object
from hookhouse.api.models.sources import Method
from hookhouse.common.domain.destination_auth import TYPES as AUTH_TYPES
from hookhouse.common.domain.destination_auth import InvalidAuthConfig, credentials
from hookhouse.common.domain.signing import InvalidSigningConfig

RateLimitPeriod = Literal["second", "minute", "hour", "concurrent"]
MAX_HTTP_TIMEOUT_SECONDS = 300


def auth_config(value: Any) -> dict[str, Any] | None:
    """Checked by building credentials once, so a bad config is refused now, not later."""
    if strict_object(value) is None:
        return None
    placeholder = "validation-only"  # stands in for the project secret and OAuth token
    try:
        credentials(
            value,
            b"",
            event_id="evt_check",
            timestamp=0,
            project_secret=placeholder,
            header_prefix="x-",
            oauth_token=placeholder,
        )
    except (InvalidAuthConfig, InvalidSigningConfig) as exc:
        raise refused(str(exc)) from exc
    return dict(value)


AUTH_SCHEMA = {
    "type": ["object", "null"],
    "required": ["type"],
    "properties": {"type": {"enum": list(AUTH_TYPES)}, "config": {"type": "object"}},
}


class DestinationInput(Input):
    name: Text
    description: str | None = None
    url: Annotated[str, Field(pattern="^https?://")]
    # None: deliveries use the method the request came with.
    http_method: Method | None = None
    path_forwarding_disabled: bool | None = None
    http_timeout: Annotated[
        int | None,
        Field(
            ge=1,
            le=MAX_HTTP_TIMEOUT_SECONDS,
            description="Seconds an attempt may take (Convoy's http_timeout); "
            "null: the deployment's default.",
        ),
    ] = None
    rate_limit: Annotated[int | None, Field(ge=1)] = None
    rate_limit_period: RateLimitPeriod | None = None
    auth_method: Annotated[
        dict[str, Any] | None, BeforeValidator(auth_config), WithJsonSchema(AUTH_SCHEMA)
    ] = None

    @field_validator("url", mode="before")
    @classmethod
    def web(cls, url: Any) -> Any:
        if isinstance(url, str) and url.strip() and not url.startswith(("http://", "https://")):
            raise must("be an http:// or https:// URL")
        return url

    @model_validator(mode="after")
    def period_given(self) -> DestinationInput:
        if self.rate_limit is not None and self.rate_limit_period is None:
            raise refused(
                "'rate_limit_period' must be one of second, minute, hour, concurrent "
                "when 'rate_limit' is given."
            )
        return self

    def fields(self) -> dict[str, Any]:
        limited = self.rate_limit is not None
        return {
            "name": self.name,
            "description": self.description,
            "url": self.url,
            "http_method": self.http_method,
            "path_forwarding_disabled": bool(self.path_forwarding_disabled),
            "http_timeout": self.http_timeout,
            "rate_limit": self.rate_limit,
            "rate_limit_period": self.rate_limit_period if limited else None,
            "auth_method": self.auth_method,
        }
