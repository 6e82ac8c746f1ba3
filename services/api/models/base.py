"""What the body models share: strict types (``"1"`` is not a number, ``true`` not 1),
unknown keys ignored as Hookdeck does, non-blank text, and refusals that read as the
API's messages."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

# A refusal whose message is complete (a domain check's): shown as it is.
REFUSED = "refused"
# A refusal that says what the field must be: shown after the field's name.
MUST = "must"


def refused(message: str) -> PydanticCustomError:
    return PydanticCustomError(REFUSED, message)


def must(phrase: str) -> PydanticCustomError:
    """``must("be text")`` reads "'name' must be text." for the field ``name``."""
    return PydanticCustomError(MUST, "must " + phrase)


class Input(BaseModel):
    """A request body (or an object inside one)."""

    model_config = ConfigDict(strict=True, extra="ignore")


def not_blank(value: str) -> str:
    if not value.strip():
        raise must("not be blank")
    return value


Text = Annotated[str, Field(min_length=1), AfterValidator(not_blank)]


class Named(Input):
    """A body that names its resource (an upsert's)."""

    name: Text


def strict_object(value: Any) -> Any:
    """For fields validated by the domain: an object, or a refusal."""
    if value is not None and not isinstance(value, dict):
        raise must("be an object")
    return value
