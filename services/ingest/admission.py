"""Whether ingest takes a request for a source, decided from what it knows so far.

The checks run in Hookdeck's order, cheapest first: the source's state, the method,
the content type (before the body is read), then the body itself (JSON that does not
parse).  Size and verification are checked in ``app.py`` while and after reading.
Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

# What a source's ``allowed_http_methods`` may list (Hookdeck's enum; the API checks it
# against this); a source without that list takes these and HEAD.
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
WEBHOOK_METHODS = (*HTTP_METHODS, "HEAD")

# What ingest answers instead of its JSON when a source has a custom response.
CUSTOM_RESPONSE_MEDIA = {"json": "application/json", "text": "text/plain", "xml": "application/xml"}


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str  # the request's rejection cause, as recorded
    message: str


def media_type(content_type: str | None) -> str:
    return (content_type or "").partition(";")[0].strip().lower()


def allowed_types(setting: str) -> tuple[str, ...]:
    """``ingest_content_types``: comma-separated media types, where ``text/*`` matches a
    family and ``application/*+json`` a suffix."""
    return tuple(part.strip().lower() for part in setting.split(",") if part.strip())


def type_allowed(media: str, allowed: tuple[str, ...]) -> bool:
    """A request without a content type is always taken (its body is kept as bytes)."""
    if not media:
        return True
    for pattern in allowed:
        if pattern == media:
            return True
        head, _, tail = pattern.partition("/")
        kind, _, sub = media.partition("/")
        if tail == "*" and head == kind:
            return True
        if tail.startswith("*+") and head == kind and sub.endswith(tail[1:]):
            return True
    return False


def is_json(media: str) -> bool:
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def before_body(
    source: dict[str, Any], method: str, content_type: str | None, allowed: tuple[str, ...]
) -> Refusal | None:
    if source.get("disabled_at"):
        return Refusal(403, "SOURCE_DISABLED", "This source is disabled; it accepts no requests.")
    methods = source.get("allowed_http_methods") or WEBHOOK_METHODS
    if method not in methods:
        return Refusal(
            405,
            "UNSUPPORTED_HTTP_METHOD",
            f"This source accepts {', '.join(methods)}, not {method}.",
        )
    media = media_type(content_type)
    if not type_allowed(media, allowed):
        return Refusal(
            415,
            "UNSUPPORTED_CONTENT_TYPE",
            f"Content type '{media or '(none)'}' is not accepted; "
            "send JSON, form-encoded, XML or text.",
        )
    return None


def of_body(content_type: str | None, body: bytes) -> Refusal | None:
    if body and is_json(media_type(content_type)):
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return Refusal(400, "UNPARSABLE_JSON", f"The body is not valid JSON: {exc}")
    return None
