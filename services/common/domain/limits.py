"""How large a record may be, so that every record made from it fits the broker.

Each stage turns records into others: ingest's request becomes the router's deliveries
and rows, a delivery becomes retries and attempt rows, and a record that a stage gives
up on becomes a dead letter carrying its bytes in base64 (4/3 of them).  So the limits
nest, from the outside in:

- ``RECORD_MAX_BYTES``: the largest record any producer sends (librdkafka's
  ``message.max.bytes`` refuses a larger one at once); the topics accept a little more,
  ``TOPIC_MAX_MESSAGE_BYTES``, for a batch's framing and incompressible data;
- ``DEAD_LETTERED_MAX_BYTES``: the largest record on any topic but ``dlq``, so that its
  dead letter (base64 of it, plus at most ``DEAD_LETTER_OVERHEAD_BYTES``) still fits;
- ``REQUEST_MAX_BYTES``: the largest request envelope ingest stores, so that every
  record derived from it fits ``DEAD_LETTERED_MAX_BYTES``.  A derived record carries the
  request's payload (method, path, query, headers, body: the same JSON) and other fields
  whose largest size :func:`fixed_bytes` reads from the topics' schemas.

Pure: the schemas are passed in as data.
"""

from __future__ import annotations

import json
from typing import Any

MiB = 1024 * 1024
RECORD_MAX_BYTES = 24 * MiB
TOPIC_MAX_MESSAGE_BYTES = RECORD_MAX_BYTES + MiB
DEAD_LETTER_OVERHEAD_BYTES = 64 * 1024
DEAD_LETTERED_MAX_BYTES = (RECORD_MAX_BYTES - DEAD_LETTER_OVERHEAD_BYTES) // 4 * 3

# The fields a request shares with every record derived from it, byte for byte.
PAYLOAD = frozenset({"method", "path", "query", "headers", "body"})

_INTEGER_DIGITS = 20  # an int64 with its sign
_ESCAPED = 6  # the most JSON one character of a string can take (\u001f)


class Unbounded(ValueError):
    """A schema leaves a field's size open, so no margin can be computed from it."""


def fixed_bytes(schema: dict[str, Any], root: dict[str, Any], skip: frozenset[str]) -> int:
    """The most JSON the properties of ``schema`` other than ``skip`` can take: each
    name, its value at the schema's bounds (``maxLength``, ``enum``, ``const``,
    ``maximum``), and the punctuation between them.  ``root`` resolves ``$ref``.

    Raises :class:`Unbounded` naming a property whose size the schema leaves open."""
    total = 2  # the braces
    for name, spec in schema["properties"].items():
        if name not in skip:
            total += len(json.dumps(name)) + 2 + _value_bytes(name, spec, root)  # ':' ','
    return total


def _value_bytes(name: str, spec: dict[str, Any], root: dict[str, Any]) -> int:
    if "$ref" in spec:
        spec = _resolve(spec["$ref"], root)
    if "const" in spec:
        return len(json.dumps(spec["const"]))
    if "enum" in spec:
        return max(len(json.dumps(value)) for value in spec["enum"])
    kinds = spec.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    sizes = [len("false")] if {"boolean", "null"} & set(kinds) else []
    if "integer" in kinds:
        sizes.append(len(str(spec["maximum"])) if "maximum" in spec else _INTEGER_DIGITS)
    if "string" in kinds:
        if "maxLength" not in spec:
            raise Unbounded(f"the schema gives '{name}' no maxLength")
        sizes.append(2 + _ESCAPED * spec["maxLength"])
    if not sizes:
        raise Unbounded(f"the schema does not bound '{name}' ({kinds or 'no type'})")
    return max(sizes)


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    node: Any = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    result: dict[str, Any] = node
    return result


def request_max_bytes(derived_fixed: list[int]) -> int:
    """The largest request envelope whose derived records (each carrying its payload
    and at most one of ``derived_fixed`` bytes more) all fit ``DEAD_LETTERED_MAX_BYTES``."""
    return DEAD_LETTERED_MAX_BYTES - max(derived_fixed)


def base64_bytes(size: int) -> int:
    return (size + 2) // 3 * 4


def payload_max_bytes(body: int, headers: int, url: int) -> int:
    """The most JSON a request's payload takes within the ingest limits: the body in
    base64, and every character of the headers, path and query escaped at worst."""
    return base64_bytes(body) + _ESCAPED * (headers + url) + 256
