"""A request as the connection rules see and change it, and a transformation's outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson


@dataclass(frozen=True)
class Message:
    """What rules see and change: Hookdeck's request object for transformations."""

    headers: dict[str, str]
    body: bytes
    path: str
    query: str

    def parsed_body(self) -> Any:
        """The body as JSON when it is JSON, else as text (filters match either)."""
        try:
            return orjson.loads(self.body) if self.body else None
        except orjson.JSONDecodeError:
            return self.body.decode("utf-8", errors="replace")

    def parsed_query(self) -> dict[str, Any]:
        pairs = parse_qs(self.query, keep_blank_values=True)
        return {k: v[0] if len(v) == 1 else v for k, v in pairs.items()}

    def as_request(self) -> dict[str, Any]:
        """The request object a transformation's handler receives."""
        return {
            "headers": self.headers,
            "body": self.parsed_body(),
            "query": self.query,
            "parsed_query": self.parsed_query(),
            "path": self.path,
        }


def body_bytes(body: Any) -> bytes:
    """A request object's ``body`` as bytes: text as UTF-8, anything else as JSON."""
    if body is None:
        return b""
    return body.encode() if isinstance(body, str) else orjson.dumps(body)


@dataclass(frozen=True)
class Transformed:
    """A transformation's outcome: the new message, or the error; console lines both ways."""

    message: Message | None
    error: str = ""
    logs: list[str] = field(default_factory=list)
    duration_ms: int = 0
