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
# against this), and what a source without that list takes.  The ``requests`` schema's
# method enum is the same list (a test holds them together), so whatever ingest stores
# the router can route.  HEAD is answered without being stored (see ``app.py``).
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# What ingest answers instead of its JSON when a source has a custom response.
CUSTOM_RESPONSE_MEDIA = {"json": "application/json", "text": "text/plain", "xml": "application/xml"}


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str  # what the answer says
    message: str
    cause: str = ""  # the rejection cause recorded, when not ``code`` (Hookdeck's list)

    @property
    def recorded_cause(self) -> str:
        return self.cause or self.code


@dataclass(frozen=True)
class HeadLimits:
    """What ingest takes of a request before its body (settings ``max_header_*`` and
    ``max_url_bytes``)."""

    header_count: int
    header_bytes: int
    url_bytes: int


def of_head(
    headers: list[tuple[bytes, bytes]], path: bytes, query: bytes, limits: HeadLimits
) -> Refusal | None:
    """Headers past their count or bytes, or a path and query past theirs."""
    if len(path) + len(query) > limits.url_bytes:
        return Refusal(
            414,
            "URI_TOO_LONG",
            f"The path and query are longer than the limit of {limits.url_bytes} bytes.",
            "PAYLOAD_TOO_LARGE",
        )
    if len(headers) > limits.header_count:
        return Refusal(
            431,
            "REQUEST_HEADER_FIELDS_TOO_LARGE",
            f"The request has {len(headers)} headers; the limit is {limits.header_count}.",
            "PAYLOAD_TOO_LARGE",
        )
    size = sum(len(name) + len(value) for name, value in headers)
    if size > limits.header_bytes:
        return Refusal(
            431,
            "REQUEST_HEADER_FIELDS_TOO_LARGE",
            f"The headers take {size} bytes; the limit is {limits.header_bytes}.",
            "PAYLOAD_TOO_LARGE",
        )
    return None


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
    methods = source.get("allowed_http_methods") or HTTP_METHODS
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


def of_host(domain: dict[str, Any] | None, source: dict[str, Any]) -> Refusal | None:
    """A request that came in under a custom domain (``domain``, or ``None`` for any other
    host) is taken only for that domain's project's sources."""
    if domain is None or domain["project_id"] == source["project_id"]:
        return None
    return Refusal(
        404,
        "SOURCE_NOT_ON_HOST",
        f"Host {domain['hostname']} takes requests for its own project's sources only; "
        f"post to this source's own URL.",
        "UNKNOWN",
    )
