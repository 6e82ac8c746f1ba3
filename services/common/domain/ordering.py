"""Ordered delivery per key: a connection's ordering setting, the key of an event, and
where a delivery goes; pure.

A connection may set ``ordering: {"key": "<path>"}``.  The path names a value of the
message the connection's rules made (the one filters see, after transformations):

- ``body.<a>.<b>...``: a field of a JSON body, object keys separated by dots; a part
  of ASCII digits indexes an array (``body.items.0.id``), as filters read paths;
- ``headers.<name>``: a header, whatever the case of its name;
- ``query.<name>``: a query parameter (repeated: a list, so no key);
- ``path``: the request's path.

A string is the key as it is; a number or a boolean is its JSON text (``42``, ``4.5``,
``true``), so ``42`` and ``"42"`` are one key (a provider that writes an id either way
keeps one order) while ``1`` and ``1.0`` are two.  An absent value, ``null``, an object
or an array gives no key, and so does any ``body.`` path when the body is not JSON.
Keys longer than :data:`KEY_MAX` characters, and keys that already look like a digest,
are kept as ``sha256:<hex>`` of their UTF-8 text: two different values never share a
lane by being cut to the same prefix.

An event without a key is delivered without order, as on a connection without the
setting (topic ``deliveries``).  Only the router's first pass orders: retries, bulk
retries, replays and backfills are not in the order ingest accepted the requests, so
they carry no key.  A paused connection's ordered events go to their lane all the same
(not to ``held``), where the deliverer holds them until the connection is unpaused:
released from ``held`` later, they would come after newer ones.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson

from hookhouse.common.domain import topics
from hookhouse.common.domain.filters import MISSING, resolve
from hookhouse.common.domain.message import Message
from hookhouse.common.domain.records import Delivery

PATH_MAX = 256  # characters of an ordering path
SEGMENTS_MAX = 32  # dot-separated parts of a body path, ``body`` included
KEY_MAX = 256  # characters of a key in a delivery (its schema's maxLength)
DIGEST = "sha256:"
PARTS = ("body", "headers", "query", "path")
# RFC 9110's token: what a header name may be.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class InvalidOrdering(ValueError):
    """The setting is not an ordering setting; the message says why."""


@dataclass(frozen=True)
class Ordering:
    """A checked ordering path: its part, and the rest of it (a body's fields, a header
    or query parameter's name; empty for ``path``)."""

    part: str
    rest: str


def parse(setting: Any) -> Ordering | None:
    """The ordering ``setting`` asks for, ``None`` for none; or :class:`InvalidOrdering`."""
    if setting is None:
        return None
    if not isinstance(setting, dict):
        raise InvalidOrdering('ordering must be an object such as {"key": "body.customer_id"}')
    unknown = sorted(str(name) for name in setting if name != "key")
    if unknown:
        raise InvalidOrdering(f"ordering: unknown field {unknown[0][:64]!r}; it has only 'key'")
    path = setting.get("key")
    if not isinstance(path, str):
        raise InvalidOrdering("ordering.key must be a path such as 'body.customer_id'")
    if len(path) > PATH_MAX:
        raise InvalidOrdering(f"ordering.key is {len(path)} characters; at most {PATH_MAX}")
    part, dot, rest = path.partition(".")
    if part not in PARTS:
        raise InvalidOrdering(
            "ordering.key must start with body., headers., query. or be path"
            f" (it starts with {part[:64]!r})"
        )
    if part == "path":
        if dot:
            raise InvalidOrdering("ordering.key 'path' takes nothing after it")
        return Ordering("path", "")
    if not rest:
        raise InvalidOrdering(f"ordering.key must name a field after '{part}.'")
    if part == "body":
        fields = rest.split(".")
        if "" in fields:
            raise InvalidOrdering("ordering.key has an empty part between dots")
        if len(fields) + 1 > SEGMENTS_MAX:
            raise InvalidOrdering(
                f"ordering.key has {len(fields) + 1} parts; at most {SEGMENTS_MAX}"
            )
    elif part == "headers" and not _HEADER_NAME.fullmatch(rest):
        raise InvalidOrdering("ordering.key names a header with characters no header name has")
    return Ordering(part, rest.lower() if part == "headers" else rest)


def readable(setting: Any) -> Ordering | None:
    """A stored setting as :func:`parse` reads it; one that no longer parses (written
    before a limit the API now enforces) orders nothing rather than failing routing."""
    try:
        return parse(setting)
    except InvalidOrdering:
        return None


def key_of(ordering: Ordering | None, message: Message) -> str | None:
    """The key of the event ``message`` became under ``ordering``; ``None`` for none."""
    if ordering is None:
        return None
    value: Any
    if ordering.part == "path":
        value = message.path
    elif ordering.part == "headers":
        value = next(
            (v for name, v in message.headers.items() if name.lower() == ordering.rest), MISSING
        )
    elif ordering.part == "query":
        value = message.parsed_query().get(ordering.rest, MISSING)
    else:
        value = resolve(message.parsed_body(), ordering.rest)  # text (not JSON): MISSING
    return _text(value)


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool | int | float):
        text = orjson.dumps(value).decode()
    else:  # MISSING, None, an object, an array
        return None
    if len(text) > KEY_MAX or text.startswith(DIGEST):
        return DIGEST + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return text


def lane_of(delivery: Delivery) -> str:
    """The Kafka key of an ordered delivery: its connection's lane for its key."""
    return f"{delivery.connection_id}:{delivery.ordering_key}"


def sent_to(delivery: Delivery) -> tuple[str, str]:
    """Where a delivery to push goes: its topic (unprefixed) and Kafka key."""
    if delivery.ordering_key is not None:
        return topics.ORDERED, lane_of(delivery)
    return topics.DELIVERIES, delivery.destination_id
