"""An issue trigger's body: a ``type``, its ``configs`` (defaults filled in) and the
notification ``channels``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    SkipValidation,
    ValidationError,
    model_validator,
)

from hookhouse.api.models.base import Input, must, refused
from hookhouse.api.models.refusals import refusal

IssueType = Literal["delivery", "transformation", "backpressure"]
LogLevel = Literal["debug", "info", "warn", "error", "fatal"]
LOG_LEVELS: tuple[str, ...] = LogLevel.__args__  # type: ignore[attr-defined]


def scope(value: Any) -> Any:
    if value == "*" or (
        isinstance(value, list) and value and all(isinstance(v, str) for v in value)
    ):
        return value
    raise must('be "*" or a list of ids')


# What a trigger watches: every resource of its kind, or these ids.
Scope = Annotated[Literal["*"] | Annotated[list[str], Field(min_length=1)], BeforeValidator(scope)]


class Configs(Input):
    """Given, each config may be left out (its default); shown, each is there."""

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class DeliveryConfigs(Configs):
    strategy: Literal["first_attempt", "final_attempt"] = "first_attempt"
    connections: Scope = "*"


class TransformationConfigs(Configs):
    log_level: LogLevel = "error"
    transformations: Scope = "*"


class BackpressureConfigs(Configs):
    delay: Annotated[
        int, Field(ge=60_000, le=86_400_000, description="Milliseconds, 1 minute to 1 day.")
    ] = 300_000
    destinations: Scope = "*"


CONFIGS: dict[str, type[Configs]] = {
    "delivery": DeliveryConfigs,
    "transformation": TransformationConfigs,
    "backpressure": BackpressureConfigs,
}


class Channels(Input):
    """Where Hookdeck would notify; stored and shown (hookhouse notifies by webhook)."""

    model_config = ConfigDict(extra="forbid")
    slack: dict[str, Any] | None = None
    email: dict[str, Any] | None = None
    opsgenie: dict[str, Any] | None = None


class IssueTriggerInput(Input):
    # Optional, as Hookdeck's: unnamed triggers are not unique by name.
    name: str | None = None
    type: IssueType
    configs: SkipValidation[DeliveryConfigs | TransformationConfigs | BackpressureConfigs] = Field(
        default=None
    )  # type: ignore[assignment]
    channels: Channels | None = None

    @model_validator(mode="after")
    def typed_configs(self) -> IssueTriggerInput:
        given: Any = self.configs or {}
        if not isinstance(given, dict):
            raise refused("'configs' must be an object.")
        try:
            self.configs = CONFIGS[self.type].model_validate(given)  # type: ignore[assignment]
        except ValidationError as exc:
            raise refused(refusal(exc, ("configs",))) from exc
        return self

    def fields(self) -> dict[str, Any]:
        return {
            "name": self.name or None,
            "type": self.type,
            "configs": self.configs.model_dump(),
            "channels": self.channels.model_dump(exclude_none=True) if self.channels else {},
        }
