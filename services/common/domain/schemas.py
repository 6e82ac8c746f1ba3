"""The JSON Schemas of the topics' messages (``schemas/<topic>/v<N>.schema.json``).

They are the package data ``hookhouse.schemas`` (``services/schemas`` is a link to the
checkout's ``schemas/``), read through ``importlib.resources`` so that an installed
wheel finds them as a checkout does.

Checked with jsonschema-rs (Draft 2020-12, compiled in Rust): the router checks every
record on ``requests`` against its schema, and the pure-Python ``jsonschema`` made that
check a large share of the router's own work per request.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import jsonschema_rs

from hookhouse.common.domain import limits

SCHEMAS: Traversable = resources.files("hookhouse.schemas")


@functools.cache
def schema(topic: str, version: int = 1) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / topic / f"v{version}.schema.json").read_text())
    return loaded


@functools.cache
def validator(topic: str, version: int = 1) -> Any:
    return jsonschema_rs.Draft202012Validator(schema(topic, version))


@functools.cache
def request_max_bytes() -> int:
    """The largest request envelope ingest may store (see ``common/domain/limits.py``): the
    records the router derives from a request are a delivery, its request's row and an
    event's payload row, each its payload and fields bounded by these schemas."""
    deliveries, records = schema("deliveries"), schema("records")
    derived = [
        limits.fixed_bytes(deliveries, deliveries, limits.PAYLOAD),
        limits.fixed_bytes(records["$defs"]["request"], records, limits.PAYLOAD),
        limits.fixed_bytes(records["$defs"]["event_payload"], records, limits.PAYLOAD),
    ]
    return limits.request_max_bytes(derived)


def first_error(topic: str, data: Any) -> str | None:
    """What is wrong with ``data`` for ``topic``'s schema, or ``None`` when it is valid."""
    checker = validator(topic)
    if checker.is_valid(data):
        return None
    error = next(iter(checker.iter_errors(data)))
    where = "/".join(str(part) for part in error.instance_path) or "the record"
    return f"{where}: {error.message}"
