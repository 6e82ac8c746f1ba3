"""How a model's refusal reads: the first error, naming its field
(``'configs.delay' must be at most 86400000.``).  Pure."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from hookhouse.api.models.base import MUST, REFUSED

# Pydantic's error types as what the field must be (the context fills the braces).
PHRASES = {
    "missing": "is required",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be a list",
    "literal_error": "must be one of {expected}",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "too_short": "must hold at least {min_length}",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "must match {pattern}",
    "extra_forbidden": "is not accepted here",
}


def where(loc: tuple[int | str, ...]) -> str:
    """``("configs", "delay")`` as ``configs.delay``, ``("topics", 0)`` as ``topics[0]``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def readable(error: ErrorDetails, prefix: tuple[int | str, ...] = ()) -> str:
    if error["type"] == REFUSED:
        return error["msg"]
    context: dict[str, Any] = dict(error.get("ctx") or {})
    if error["type"] == MUST:
        phrase = error["msg"]
    elif error["type"] in PHRASES:
        phrase = PHRASES[error["type"]].format(**context)
    else:
        phrase = "is refused: " + error["msg"]
    return f"'{where(prefix + tuple(error['loc']))}' {phrase}."


def refusal(exc: ValidationError, prefix: tuple[int | str, ...] = ()) -> str:
    """The message of the first error (one at a time, as the API always answered)."""
    return readable(exc.errors(include_url=False)[0], prefix)
